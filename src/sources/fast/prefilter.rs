//! Why: `report`, `scan` and `caller` need a fraction of a percent of a log's records; skipping the rest took `report` over 1 GB from 20.9 s to 1.4 s (docs/performance.md).
//! Plain twin: parsing every line (`Need::All`, `--no-prefilter`), as `ingest` and `query` always do.
//! Held equal by: `tests/it/prefilter.rs` (`scan_report_and_caller_answer_the_same_with_and_without_the_prefilter`) and `a_filtered_read_counts_the_same_hours_as_a_full_one` in `prefilter/tests.rs`.
//!
//! The byte-level prefilter for JSON Lines: `report`, `scan` and `caller` need only the
//! Activity Log records that concern JIT policies, network security groups, Azure Firewalls
//! and role assignments (and, for `caller`, that name the caller), which are a fraction of a
//! percent of a real log. A line
//! that cannot be one of them is skipped before any JSON is parsed, and only counted: per UTC
//! hour and subscription into the `activity_hours` table, so the report's data-quality checks
//! (days and subscriptions without any Activity Log data) still see every record.
//!
//! What the filter keeps is a superset of what the commands need: the needles are matched
//! ASCII-case-insensitively anywhere in the line (exports upper-case resource ids), and a line
//! with a `\u` escape is always kept, because an escaped letter could hide a needle. `ingest`
//! and `query` never filter; `--no-prefilter` turns it off, and a test compares both ways.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::words::Words;

use crate::normalize::{parse_time, parse_utc};
use crate::tables::{Cell, Coverage, hour_of};

/// What a command needs of the Activity Log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Every record (ingest, query, --no-prefilter).
    All,
    /// JIT policy and NSG records (report, scan).
    Jit,
    /// Those, and every record that names one of these identities (caller, which shows no
    /// data coverage: the records it passes over are not counted into `activity_hours`).
    JitAnd(Vec<String>),
    /// Only the records that name one of `names` and that a `JitAnd(already)` read did not
    /// keep: the caller's second read, for the names the first one found.
    NewFor {
        names: Vec<String>,
        already: Vec<String>,
    },
    /// Everything one identity did, by any of its names, and the JIT records: the loading
    /// layer reads for this in more than one pass (`pipeline::caller`); a single pass filters
    /// as [`Need::JitAnd`] with the one name.
    Caller(String),
}

/// The compiled filter.
#[derive(Debug, Clone)]
pub struct Prefilter {
    keep: Words,
    /// The words other than the NSG one, when `keep` holds it: a line that names an NSG and
    /// none of these is kept only when [`nsg_needed`] says so.
    others: Option<Words>,
    /// Lines a previous read kept (and parsed) are not kept again: those naming one of these
    /// words, or an NSG as [`nsg_needed`] wants.
    except: Option<Words>,
    /// Count the lines passed over per hour and subscription into `activity_hours`.
    hours: bool,
}

/// Words every JIT or NSG operation name holds (`.../jitNetworkAccessPolicies/initiate/action`,
/// `Microsoft.Network/networkSecurityGroups/securityRules/write`), role assignments, whose
/// writes JIT019 reads (a right granted, then used), and Azure Firewalls, whose writes carry
/// JIT's DNAT rules for the VMs behind them (the caller view shows them beside a request).
pub(crate) const JIT_WORDS: [&str; 4] = [POLICY_WORD, NSG_WORD, ROLE_WORD, FIREWALL_WORD];
const POLICY_WORD: &str = "jitnetworkaccesspolicies";
const FIREWALL_WORD: &str = "azurefirewalls";
/// With its slash: `roleAssignmentScope`, in every record's authorization evidence, is not it.
const ROLE_WORD: &str = "roleassignments/";
const NSG_WORD: &str = "networksecuritygroups";

/// A word as the filter looks for it: a segment of a path, after its slash, as Azure writes
/// it in every operation name (`Microsoft.Network/networkSecurityGroups/...`) and resource id
/// (`.../providers/Microsoft.Authorization/roleAssignments/...`). Bare, the words' first
/// letters were everywhere: seven times a line (`net` in `windows.net`, `rol` in the
/// authorization's `role`, `azu` in AKS rule names), each a match to check; after a slash,
/// once a line, where the NSG is named (issue 26).
fn needle(word: &str) -> String {
    format!("/{word}")
}

impl Prefilter {
    /// The filter for `need`, or none when every record is needed (or when an identity holds
    /// characters ASCII case-folding cannot match safely).
    pub fn for_need(need: &Need) -> Option<Prefilter> {
        let literal = |ids: &[String]| -> Option<Vec<String>> {
            if ids.iter().any(|id| !id.is_ascii() || id.trim().is_empty()) {
                return None;
            }
            Some(ids.iter().map(|id| id.trim().to_string()).collect())
        };
        let jit = || JIT_WORDS.iter().map(|w| needle(w));
        match need {
            Need::All => None,
            Need::Caller(id) => Prefilter::for_need(&Need::JitAnd(vec![id.clone()])),
            Need::Jit => Some(Prefilter {
                keep: Words::new(jit()),
                others: Some(Words::new(vec![
                    needle(POLICY_WORD),
                    needle(ROLE_WORD),
                    needle(FIREWALL_WORD),
                ])),
                except: None,
                hours: true,
            }),
            Need::JitAnd(ids) => {
                let mut words = literal(ids)?;
                words.push(needle(POLICY_WORD));
                words.push(needle(ROLE_WORD));
                words.push(needle(FIREWALL_WORD));
                let others = Words::new(words.clone());
                words.push(needle(NSG_WORD));
                Some(Prefilter {
                    keep: Words::new(words),
                    others: Some(others),
                    except: None,
                    hours: false,
                })
            }
            Need::NewFor { names, already } => {
                let mut kept_before = literal(already)?;
                kept_before.push(needle(POLICY_WORD));
                kept_before.push(needle(ROLE_WORD));
                kept_before.push(needle(FIREWALL_WORD));
                Some(Prefilter {
                    keep: Words::new(literal(names)?),
                    others: None,
                    except: Some(Words::new(kept_before)),
                    hours: false,
                })
            }
        }
    }

    /// Whether a line is kept: `lowered` is the line with its ASCII capitals lowered, `word`
    /// the first word the filter found in it (if any), `escaped` whether it holds a `\u`
    /// escape.
    pub fn decide(&self, line: &[u8], lowered: &[u8], word: Option<&[u8]>, escaped: bool) -> bool {
        let wanted = escaped && self.is_first_read()
            || word.is_some_and(|w| {
                // Found first, the NSG word may not be the only one: the others are looked for.
                !(w.first() == Some(&b'/') && w[1..].eq_ignore_ascii_case(NSG_WORD.as_bytes()))
                    || self.others.as_ref().is_none_or(|o| o.is_match(lowered))
                    || nsg_needed(line, lowered)
            });
        wanted && !self.kept_before(line, lowered)
    }

    /// Whether a line the words matched is one a previous read already kept (it names an
    /// earlier word, a JIT policy, an NSG as a first read keeps it, or holds an escape, which
    /// that read kept too).
    pub fn kept_before(&self, line: &[u8], lowered: &[u8]) -> bool {
        self.except.as_ref().is_some_and(|e| {
            e.is_match(lowered)
                || ESCAPE.find(line).is_some()
                || NSG.find(lowered).is_some() && nsg_needed(line, lowered)
        })
    }

    /// Whether this is a first read, not a second one for names a first read found. Only a
    /// first read keeps lines for their escapes (a second read's were kept by the first).
    pub fn is_first_read(&self) -> bool {
        self.except.is_none()
    }

    /// Whether the lines passed over are counted per hour and subscription into
    /// `activity_hours` (by `report` and `scan`, whose data-quality checks read it).
    pub fn counts_hours(&self) -> bool {
        self.hours
    }

    /// The words a line must hold to be kept (or decided on, for the NSG word).
    pub fn words(&self) -> &Words {
        &self.keep
    }

    #[cfg(test)]
    pub fn keeps(&self, line: &[u8]) -> bool {
        let mut lowered = super::words::Lowered::new(line, Vec::new());
        let word = lowered.find(&self.keep, 0).map(|m| &line[m]);
        let escaped = ESCAPE.find(line).is_some();
        self.decide(line, lowered.get(0..line.len()), word, escaped)
    }
}

/// Whether a line that names a network security group (and no other word the command looks
/// for) holds what a command reads. What reads the Activity Log's NSG records, decided from the
/// code (issue 26): no rule does (JIT013 and JIT005 read the NSGs `collect` lists, not the log);
/// the ledger reads the initiate calls and the policies' history; and `caller` shows the NSG
/// changes JIT made for the caller's requests (`summary::caller`, which applies
/// [`crate::schema::ops::may_be_jits`] to the same end). So a line is passed over when it is
/// certainly a change to a security rule that JIT did not make: it names no JIT rule
/// (`SecurityCenter-JITRule...`, `MicrosoftDefenderForCloud-JITRule...`, or their
/// descriptions, "ASC/MDC JIT Network Access rule"; azure-formats.md 4.1), its operation is
/// `securityRules/write` or `/delete`, read where Azure writes it (the third key, after `time`
/// and `resourceId`), and it names an operation nowhere else. Anything else is kept: a whole
/// NSG's write or delete, another layout, an escape.
/// `lowered` is the line with its ASCII capitals lowered.
pub fn nsg_needed(line: &[u8], lowered: &[u8]) -> bool {
    if JIT_MARK.is_match(lowered) {
        return true;
    }
    let Some(op) = third_key_operation(line) else {
        return true;
    };
    let rule_op = [
        crate::schema::ops::NSG_RULE_WRITE,
        crate::schema::ops::NSG_RULE_DELETE,
    ]
    .iter()
    .any(|o| op.eq_ignore_ascii_case(o.as_bytes()));
    // One mention of an operation name only: a second key (another letter case, a nested
    // copy, `OperationNameValue`) could be the one the parser reads.
    !rule_op || OPERATION.find_iter(lowered).nth(1).is_some()
}

/// The `operationName` value of a line laid out as Azure writes its records:
/// `{ "time": "...", "resourceId": "...", "operationName": "..."`.
fn third_key_operation(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"{")?;
    let (_, rest) = value_at(rest, 0, b"\"time\"")?;
    let rest = rest.trim_ascii_start().strip_prefix(b",")?;
    let (_, rest) = value_at(rest, 0, b"\"resourceId\"")?;
    let rest = rest.trim_ascii_start().strip_prefix(b",")?;
    value_at(rest, 0, b"\"operationName\"").map(|(op, _)| op)
}

// Searched for in lowered lines.
static NSG: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(needle(NSG_WORD).as_bytes()).into_owned());
static JIT_MARK: LazyLock<Words> = LazyLock::new(|| Words::new(["jitrule", "jit network access"]));
static OPERATION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"operationname"));

/// The end of the line that starts at `start` (its newline, or the end of `data`), and whether
/// it holds a `\u`: a JSON escape could spell a word's letter, so a line holding one is
/// parsed. One pass finds both (a separate search for the escape cost as much as finding the
/// line ends; in the words' regex this two-byte needle made the whole scan four times slower).
pub fn line_end_and_escape(data: &[u8], start: usize) -> (usize, bool) {
    let mut escaped = false;
    let mut at = start;
    while let Some(i) = memchr::memchr2(b'\n', b'\\', &data[at..]) {
        let i = at + i;
        if data[i] == b'\n' {
            return (i, escaped);
        }
        escaped |= data.get(i + 1) == Some(&b'u');
        at = i + 1;
    }
    (data.len(), escaped)
}

static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));
static TIME_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"time\""));
static RESOURCE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"resourceId\""));

/// The time and subscription of a skipped diagnostic-settings line, read without parsing the
/// JSON: the `"time"` value and the subscription in `"resourceId"`. None when the line has no
/// readable time (the full parse would have rejected it too).
pub fn sketch(line: &[u8]) -> Option<(i64, Option<&[u8]>)> {
    // Azure writes `{ "time": "...", "resourceId": "...", ...`: read that directly, and look
    // for the keys anywhere only when the line is laid out otherwise.
    let laid_out = line.first() == Some(&b'{');
    let (time, after) = match laid_out.then(|| value_at(line, 1, b"\"time\"")).flatten() {
        Some(found) => found,
        None => string_after(line, &TIME_KEY)?,
    };
    let time = match parse_utc(time) {
        Some(t) => t,
        None => parse_time(std::str::from_utf8(time).ok()?)?,
    };
    let resource = after
        .trim_ascii_start()
        .strip_prefix(b",")
        .and_then(|rest| value_at(rest, 0, b"\"resourceId\""))
        .or_else(|| string_after(line, &RESOURCE_KEY));
    let subscription = resource.and_then(|(id, _)| subscription_in(id));
    Some((time, subscription))
}

/// Counts skipped lines into a [`Coverage`]. Consecutive lines mostly share their hour and
/// subscription: a run of them is one cell, added to the coverage when the run ends (at the
/// latest by [`SkipCounter::finish`]), and each subscription spelling is made canonical once.
#[derive(Default)]
pub struct SkipCounter {
    run: Option<Run>,
}

struct Run {
    hour: i64,
    raw: Option<Vec<u8>>,
    subscription: Option<String>,
    cell: Cell,
}

impl SkipCounter {
    pub fn count(&mut self, coverage: &mut Coverage, line: &[u8]) {
        let Some((time, raw)) = sketch(line) else {
            return;
        };
        let hour = hour_of(time);
        if let Some(run) = &mut self.run
            && run.hour == hour
            && run.raw.as_deref() == raw
        {
            run.cell.merge(Cell::at(time));
            return;
        }
        // A new run: the subscription is the last run's when only the hour changed.
        let subscription = match (&self.run, raw) {
            (Some(run), Some(raw)) if run.raw.as_deref() == Some(raw) => run.subscription.clone(),
            (_, raw) => raw
                .and_then(|r| std::str::from_utf8(r).ok())
                .map(crate::sources::activity::canonical_subscription),
        };
        let next = Run {
            hour,
            raw: raw.map(<[u8]>::to_vec),
            subscription,
            cell: Cell::at(time),
        };
        if let Some(done) = self.run.replace(next) {
            coverage.add_cell(done.hour, done.subscription, done.cell);
        }
    }

    /// Adds the run in progress.
    pub fn finish(mut self, coverage: &mut Coverage) {
        if let Some(done) = self.run.take() {
            coverage.add_cell(done.hour, done.subscription, done.cell);
        }
    }
}

/// `"key": "value"` at `at` (after optional white space): the value and what follows its
/// closing quote. None when the line has something else there, or a value with an escape.
fn value_at<'a>(line: &'a [u8], at: usize, key: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let rest = line.get(at..)?.trim_ascii_start().strip_prefix(key)?;
    string_value(rest)
}

/// The string value after a key: `"key": "value"` gives `value` and what follows it (no
/// escapes expected in the values read here; a value with one gives up).
fn string_after<'a>(line: &'a [u8], key: &Finder) -> Option<(&'a [u8], &'a [u8])> {
    // The keys come first in Azure's records; look there before the whole line.
    let head = &line[..line.len().min(512)];
    let at = key.find(head).or_else(|| key.find(line))? + key.needle().len();
    string_value(&line[at..])
}

/// `: "value"` (with optional white space) at the start of `rest`.
fn string_value(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    (rest[end] == b'"').then(|| (&rest[..end], &rest[end + 1..]))
}

/// The subscription segment of a resource id, as spelled.
fn subscription_in(id: &[u8]) -> Option<&[u8]> {
    const PREFIX: &[u8] = b"/subscriptions/";
    let rest = id.get(PREFIX.len()..)?;
    if !id[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let end = rest.iter().position(|b| *b == b'/').unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests;
