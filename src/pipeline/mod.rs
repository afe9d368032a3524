//! The loading layer: from the paths a command is given to the tables every later stage
//! reads. It walks the inputs ([`inputs`]), opens or maps each file ([`reader`]), hashes it
//! ([`sha256`]), has `sources` parse it into rows on every core, stacks the rows in input
//! order, de-duplicates them ([`dedupe`]), then derives the tables made from several others
//! ([`crate::derive`]). A directory `ingest` wrote is read back from its Parquet tables.
//!
//! [`load`] is the one entry point; every command calls it with the [`LoadOptions`] it needs.

mod caller;
mod dedupe;
pub mod inputs;
mod reader;
mod redact;
mod settle;
mod sha256;
mod summary;
mod windows;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::derive;
use crate::schema::{self, INGEST_SUMMARY_FILE};
use crate::sources::detect::{self, Content};
pub use crate::sources::fast::prefilter::Need;
use crate::sources::fast::prefilter::Prefilter;
use crate::sources::{Batch, FileReport, SourceFormat};
use crate::tables::{self, EventColumns, Tables};
use crate::terminal::clean;
pub use dedupe::{Shape, dedupe, dedupe_ranked};
use inputs::{Input, Listed, collect_inputs};
use reader::{Opened, Stamp};
use settle::InputOrder;
pub use summary::{FileError, IngestSummary, Skipped};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Any rejected record, unknown file or file error stops the run.
    pub strict: bool,
    /// A file of no known format is a warning rather than an error.
    pub skip_unknown: bool,
    /// Draw a progress bar (only on a terminal, only for inputs worth one).
    pub progress: bool,
    /// Which Activity Log records the command needs; JSON Lines records it cannot need are
    /// skipped before parsing (see `prefilter`).
    pub need: Need,
    /// Take each file's SHA-256 (off only for a second read of files already hashed).
    pub hash: bool,
    /// Which columns of `events` to fill (a query fills those its SQL reads).
    pub events: EventColumns,
    /// The most a compressed whole document may inflate to.
    pub max_document: u64,
    /// Mask credentials pasted into the data (off with `--no-redact`).
    pub redact: bool,
    /// Print no warnings: a look at some files before the read of all of them (`caller`'s
    /// early look for other names), whose warnings are about a file alone, and which the
    /// full read gives again where the inputs together still deserve them.
    pub quiet: bool,
    /// Keep of each part read (a window, a file) one row of events per caller, object id and
    /// app id, the first: for a load that asks only which names the inputs know (`caller`'s
    /// suggestions for a name nobody has), whose memory then stays flat however long the log.
    pub names_only: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            strict: false,
            skip_unknown: false,
            progress: false,
            need: Need::All,
            hash: true,
            events: EventColumns::All,
            max_document: 1 << 30,
            redact: true,
            quiet: false,
            names_only: false,
        }
    }
}

/// What a load produced.
pub struct Loaded {
    pub tables: Tables,
    pub summary: IngestSummary,
}

/// Reads every input into the tables, as `opts` asks. Errors in one file are recorded and the
/// run goes on, unless `strict`; the command decides the exit code from `summary.errors`.
pub fn load(paths: &[PathBuf], opts: LoadOptions) -> Result<Loaded> {
    match &opts.need {
        Need::Caller(id) => {
            let id = id.clone();
            caller::load(paths, opts, &id)
        }
        _ => load_once(paths, opts),
    }
}

/// One pass over the inputs.
fn load_once(paths: &[PathBuf], opts: LoadOptions) -> Result<Loaded> {
    load_listed(inputs::list(paths), opts)
}

/// One pass over inputs already listed.
fn load_listed(listed: Listed, opts: LoadOptions) -> Result<Loaded> {
    let filter = Prefilter::for_need(&opts.need);
    let Listed {
        inputs,
        sizes,
        mut summary,
    } = listed;
    for warning in summary.warnings.iter().filter(|_| !opts.quiet) {
        eprintln!("jitaudit: warning: {}", clean(warning));
    }
    if opts.strict
        && let Some(e) = summary.errors.first()
    {
        bail!("{}: {} (--strict is set)", e.path, e.error);
    }
    let total_bytes: u64 = sizes.iter().sum();
    let bar = progress_bar(
        opts.progress && (total_bytes > 32 << 20 || inputs.len() > 200),
        total_bytes,
    );
    // Files are read and parsed in parallel; their results are applied in input order, so
    // the tables and the summary do not depend on which thread finished first. Where there
    // are files enough to keep every core busy, a thread takes them four (or two) at a time
    // and hashes them at once (see `sha256`). Each group is a task of its own: left to split
    // as it likes, rayon handed a thread a run of a quarter of the files, and the other core
    // sat idle while the last such run finished (a tenth of a second over 5 GB).
    let threads = rayon::current_num_threads();
    let group = match inputs.len() {
        _ if !opts.hash => 1,
        n if n >= 8 * threads => 4,
        n if n >= 4 * threads => 2,
        _ => 1,
    };
    // A file read in windows is parsed on several threads when there are fewer such files
    // than cores: one big file used one core while the others sat idle (issue 26).
    let windowed = sizes.iter().filter(|s| **s > reader::WINDOW as u64).count();
    let plan = Plan {
        filter: filter.as_ref(),
        workers: threads.div_ceil(windowed.max(1)).max(1),
    };
    let mut tables = Tables::default();
    // Where each input's events start in the stacked frame, and its path: equally rich copies
    // of one event are settled by these, not by the order the inputs were given in.
    let mut starts: Vec<(usize, String)> = Vec::new();
    // The groups are read a batch at a time, and each batch's frames are stacked and made one
    // chunk before they join the rest: holding every file's frames until the end, and a chunk
    // a file after, cost 1.4 GB over 40,000 hourly blobs with 15,000 records of interest.
    let groups = inputs::groups(&inputs, &sizes, group);
    let mut next = 0;
    // A batch's outcomes are stacked, and made one chunk, on one thread while the next batch
    // is read on the others (stacked between reads, over the hourly blobs, the other core sat
    // idle for a tenth of the read).
    let mut apply = |outcomes: Vec<Option<Result<FileOutcome>>>| -> Result<()> {
        let mut read = Tables::default();
        for outcome in outcomes {
            let input = &inputs[next];
            next += 1;
            let at = tables.events.height() + read.events.height();
            match (input, outcome) {
                (Input::Ingested(dir), _) => {
                    // On its own, a directory is not de-duplicated again: only the columns
                    // wanted need reading (see Tables::read_parquet_keeping).
                    let loaded = read_summary(dir).and_then(|previous| {
                        let t = if inputs.len() == 1 {
                            Tables::read_parquet_keeping(dir, &opts.events)?
                        } else {
                            let mut t = Tables::read_parquet(dir)?;
                            // Stacked with files read for a few columns: the same digest.
                            if let Some(drop) = opts.events.digested() {
                                crate::tables::digest_key(&mut t.events, drop)?;
                            }
                            t
                        };
                        Ok((previous, t))
                    });
                    match loaded {
                        Ok((previous, t)) => {
                            starts.push((at, dir.display().to_string()));
                            read.append(&t)?;
                            carry(dir, previous, &mut summary);
                        }
                        // A damaged directory is one input that could not be read: the others
                        // still are, and the run ends as an error.
                        Err(e) if !opts.strict => summary.errors.push(FileError {
                            path: dir.display().to_string(),
                            error: format!("{e:#}"),
                        }),
                        Err(e) => return Err(e),
                    }
                }
                (Input::File(path), Some(outcome)) => {
                    let outcome = outcome?;
                    if let Some(t) = outcome.tables {
                        starts.push((at, path.display().to_string()));
                        read.append(&t)?;
                    }
                    summary.errors.extend(outcome.error);
                    summary.skipped.extend(outcome.skipped);
                    summary.files.push(outcome.report);
                }
                (Input::File(_), None) => unreachable!("every file has an outcome"),
            }
        }
        read.compact(1);
        tables.append(&read)?;
        tables.compact(MAX_CHUNKS);
        Ok(())
    };
    let read_batch = |batch: &[&[Input]]| -> Vec<Option<Result<FileOutcome>>> {
        batch
            .par_iter()
            .with_max_len(1)
            .flat_map_iter(|inputs| read_group(inputs, &opts, &plan, &bar))
            .collect()
    };
    let batches: Vec<&[&[Input]]> = groups.chunks(BATCH_GROUPS_PER_THREAD * threads).collect();
    let mut pending = batches.first().map(|batch| read_batch(batch));
    for k in 0..batches.len() {
        let outcomes = pending
            .take()
            .expect("each batch is read before it is applied");
        let (read, applied) = rayon::join(
            || batches.get(k + 1).map(|batch| read_batch(batch)),
            || apply(outcomes),
        );
        applied?;
        pending = read;
    }
    bar.finish_and_clear();
    reader::free_spare_windows();
    // One directory `ingest` wrote is already de-duplicated and derived: read it as it is
    // (what makes repeated queries over Parquet cheap).
    let tables = if let [Input::Ingested(_)] = inputs.as_slice() {
        count_rows(&tables, &mut summary);
        tables
    } else {
        finish_tables(tables, &mut summary, &opts, &InputOrder::new(starts))?
    };
    Ok(Loaded { tables, summary })
}

/// Groups of files a thread reads in one batch (see `load_once`).
const BATCH_GROUPS_PER_THREAD: usize = 64;
/// Chunks a table may gather from batches before it is made one chunk again.
const MAX_CHUNKS: usize = 32;

fn progress_bar(show: bool, total: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The directory `ingest` wrote, when it is the whole of the input, with the summary a load of
/// it would give: a query of it alone can scan its tables where they lie.
pub fn lone_ingested(paths: &[PathBuf]) -> Result<Option<(PathBuf, IngestSummary)>> {
    let mut summary = IngestSummary::default();
    let inputs = collect_inputs(paths, &mut summary);
    let [Input::Ingested(dir)] = inputs.as_slice() else {
        return Ok(None);
    };
    for warning in &summary.warnings {
        eprintln!("jitaudit: warning: {}", clean(warning));
    }
    carry(dir, read_summary(dir)?, &mut summary);
    Ok(Some((dir.clone(), summary)))
}

/// Adds what `ingest` recorded of the files it read into `dir` to `summary`.
fn carry(dir: &Path, previous: IngestSummary, summary: &mut IngestSummary) {
    summary
        .files
        .extend(previous.files.into_iter().map(|mut f| {
            f.carried_from
                .get_or_insert_with(|| dir.display().to_string());
            f
        }));
    summary.skipped.extend(previous.skipped);
    summary.errors.extend(previous.errors);
}

fn read_summary(dir: &Path) -> Result<IngestSummary> {
    let path = dir.join(INGEST_SUMMARY_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a jitaudit ingest summary", path.display()))
}

/// How the files are read: the prefilter, and the threads that parse one file read in windows.
struct Plan<'a> {
    filter: Option<&'a Prefilter>,
    workers: usize,
}

/// What reading one file gave: its report, its rows (none when it failed), and the error or
/// the skip it is recorded as.
struct FileOutcome {
    report: FileReport,
    tables: Option<Tables>,
    error: Option<FileError>,
    skipped: Option<Skipped>,
}

/// Reads the files among `inputs`, each into its own outcome (none for an ingested
/// directory). The SHA-256s of the files read whole are taken together.
fn read_group(
    inputs: &[Input],
    opts: &LoadOptions,
    plan: &Plan,
    bar: &ProgressBar,
) -> Vec<Option<Result<FileOutcome>>> {
    let opened: Vec<Option<Result<_>>> = inputs
        .iter()
        .map(|input| match input {
            Input::File(path) => Some(
                reader::open(path, opts.hash, plan.workers)
                    .with_context(|| format!("{}: cannot read file", path.display())),
            ),
            Input::Ingested(_) => None,
        })
        .collect();
    // The files read whole are hashed together (see `sha256`).
    let mut hashes: Vec<Option<String>> = vec![None; inputs.len()];
    if opts.hash {
        let whole: Vec<(usize, &[u8])> = (opened.iter().enumerate())
            .filter_map(|(i, o)| match o {
                Some(Ok((Opened::Whole(bytes), _))) => Some((i, &**bytes)),
                _ => None,
            })
            .collect();
        let files: Vec<&[u8]> = whole.iter().map(|(_, bytes)| *bytes).collect();
        for ((i, _), digest) in whole.iter().zip(sha256::digest_all(&files)) {
            hashes[*i] = Some(digest);
        }
    }
    inputs
        .iter()
        .zip(opened)
        .zip(hashes)
        .map(|((input, opened), hash)| {
            let (Input::File(path), Some(opened)) = (input, opened) else {
                return None;
            };
            let outcome = match opened {
                Ok(opened) => read_one(path, opened, hash, opts, plan),
                // A file that cannot be opened (no permission, a socket) is that input's error:
                // the others are still read, unless --strict.
                Err(e) if !opts.strict => {
                    let display = path.display().to_string();
                    Ok(FileOutcome {
                        report: FileReport::new(display.clone(), String::new(), 0),
                        tables: None,
                        error: Some(FileError {
                            path: display,
                            error: format!("{e:#}"),
                        }),
                        skipped: None,
                    })
                }
                Err(e) => Err(e),
            };
            bar.inc(outcome.as_ref().map(|o| o.report.bytes).unwrap_or(0));
            Some(outcome)
        })
        .collect()
}

/// Reads one opened file into its own batch, so a file that fails halfway adds nothing. Its
/// SHA-256 is taken here unless `hash` holds it already. An error is returned only in strict
/// mode; otherwise it is recorded in the outcome.
fn read_one(
    path: &Path,
    (opened, stamp): (Opened, Option<Stamp>),
    hash: Option<String>,
    opts: &LoadOptions,
    plan: &Plan,
) -> Result<FileOutcome> {
    let display = path.display().to_string();
    let Plan { filter, workers } = *plan;
    let parsed: Result<Option<Tables>>;
    let mut report;
    match opened {
        Opened::Lines(mut windows) => {
            // A large JSON Lines file (plain or gzip) is read a window at a time, so memory stays
            // flat however large the file; the SHA-256 is taken as the bytes go by, on the
            // reading thread, while the windows are parsed.
            report = FileReport::new(display.clone(), String::new(), 0);
            report.format = Some(SourceFormat::ActivityJsonLines);
            parsed = windows::parse(&mut windows, &mut report, opts, filter, workers).map(Some);
            (report.sha256, report.bytes) = windows.finish();
        }
        Opened::Whole(raw) => {
            let sha = match hash {
                Some(hash) => hash,
                None if opts.hash => hex::encode(Sha256::digest(&*raw)),
                None => String::new(),
            };
            report = FileReport::new(display.clone(), sha, raw.len() as u64);
            let r = &mut report;
            parsed = (|| -> Result<Option<Tables>> {
                let data = detect::decompress(&raw, opts.max_document)?;
                let (data, utf16) = detect::from_utf16(data);
                if utf16 {
                    r.note("read as UTF-16 (what Windows PowerShell 5.1 writes with `>`)");
                }
                let content = detect::detect(&data)?;
                if let Content::Parquet = content {
                    return read_table_file(path, r).map(|_| None);
                }
                let mut batch = Batch::keeping(&opts.events).names_only(opts.names_only);
                detect::read(content, &data, &mut batch, r, filter)?;
                Ok(Some(batch.finish()))
            })();
        }
    }
    // Only a file that stayed as it was is reported as read.
    let parsed = parsed.and_then(|batch| match stamp {
        Some(stamp) => stamp.check(path).context("cannot read file").map(|_| batch),
        None => Ok(batch),
    });
    let mut outcome = FileOutcome {
        report,
        tables: None,
        error: None,
        skipped: None,
    };
    match parsed {
        Ok(batch) => {
            let report = &outcome.report;
            if opts.strict && report.records_rejected > 0 {
                let first = report
                    .rejections
                    .first()
                    .map(|r| format!("{} ({})", r.reason, r.locations.join("; ")));
                bail!(
                    "{display}: {} record(s) rejected and --strict is set: {}",
                    report.records_rejected,
                    first.unwrap_or_default()
                );
            }
            outcome.tables = batch;
        }
        Err(e) => {
            let unknown = outcome.report.format.is_none()
                && format!("{e:#}").contains("expected an Activity Log export");
            if opts.strict {
                return Err(e.context(display));
            }
            if unknown && opts.skip_unknown {
                outcome.skipped = Some(Skipped {
                    path: display,
                    reason: format!("unknown format (--skip-unknown): {e:#}"),
                });
            } else {
                outcome.error = Some(FileError {
                    path: display,
                    error: format!("{e:#}"),
                });
            }
        }
    }
    Ok(outcome)
}

/// A `<table>.parquet` file on its own: the tables belong together, so only the directory
/// `ingest` wrote is read, never one table of it.
fn read_table_file(path: &Path, _report: &mut FileReport) -> Result<()> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    match schema::table(&stem) {
        Some(spec) => bail!(
            "a single {} table; pass the whole directory `jitaudit ingest` wrote, so that no table is missing",
            spec.name
        ),
        None => bail!(
            "a Parquet file that is not one of jitaudit's tables; expected a directory `jitaudit ingest` wrote"
        ),
    }
}

/// De-duplicates every table, then derives what is computed from several tables (not the
/// ledger when `events` fills only some columns).
fn finish_tables(
    mut t: Tables,
    summary: &mut IngestSummary,
    opts: &LoadOptions,
    order: &InputOrder,
) -> Result<Tables> {
    let events = &opts.events;
    use schema::*;
    let keys: &[(&str, &[&str])] = &[
        (EVENTS.name, EVENT_KEY),
        (
            POLICY_REQUESTS.name,
            &[
                VM_KEY,
                PORT,
                REQUESTED_AT,
                REQUESTOR,
                SOURCE_PREFIX,
                END_TIME,
            ],
        ),
        (POLICIES.name, &[POLICY_KEY, VM_KEY, PORT, ALLOWED_SOURCE]),
        (SUBSCRIPTIONS.name, &[SUBSCRIPTION_ID]),
        (VMS.name, &[VM_KEY]),
        (NICS.name, &[NIC_KEY]),
        (PUBLIC_IPS.name, &[PUBLIC_IP_KEY]),
        (FIREWALLS.name, &[FIREWALL_KEY]),
        (ROLE_ASSIGNMENTS.name, &[ASSIGNMENT_ID, ELIGIBLE]),
        (ROLE_DEFINITIONS.name, &[ROLE_DEFINITION_KEY]),
        (GROUP_MEMBERS.name, &[GROUP_ID, MEMBER_ID]),
        (MANAGEMENT_GROUPS.name, &[CHILD_ID]),
        (NSG_RULES.name, &[NSG_KEY, RULE_NAME, IS_DEFAULT]),
    ];
    for (table, key) in keys {
        let df = t.get_mut(table).expect("known table");
        // Lean rows keep their counts of what they left out, for the caller to merge reads; a
        // query's events go to the query engine in the chunks they were read in.
        let shape = match events {
            _ if *table != EVENTS.name => Shape::Settled,
            EventColumns::Lean(_) => Shape::KeepingCounts,
            EventColumns::Only(..) | EventColumns::Key(..) => Shape::AsItCame,
            EventColumns::All => Shape::OneChunk,
        };
        let rank = |row: usize| order.rank(row);
        let ranked: Option<&(dyn Fn(usize) -> u64 + Sync)> =
            (*table == EVENTS.name).then_some(&rank);
        // A projected load's events are told apart by the digest of their key.
        let digested = *table == EVENTS.name && tables::has_digest(df);
        let key = if digested {
            &tables::KEY_DIGEST[..]
        } else {
            key
        };
        let (mut deduped, dropped) = dedupe_ranked(std::mem::take(df), key, shape, ranked)?;
        if digested {
            tables::drop_digest(&mut deduped)?;
        }
        *df = deduped;
        if dropped > 0 {
            summary
                .duplicates_merged
                .insert(table.to_string(), dropped as u64);
        }
    }
    // Counts from several files (and ingested directories) add up per hour and subscription.
    t.activity_hours = tables::activity_hours_frame(&tables::coverage_of_frame(&t.activity_hours)?);
    // The ledger is made from every column of events: not from some of them.
    let (mut t, notes) = derive::derive(t, events.fills_requests())?;
    for note in notes.iter().filter(|_| !opts.quiet) {
        eprintln!("jitaudit: warning: {}", clean(note));
    }
    summary.warnings.extend(notes);
    if opts.redact {
        summary.credentials_masked = redact::mask(&mut t)?;
    }
    count_rows(&t, summary);
    Ok(t)
}

fn count_rows(t: &Tables, summary: &mut IngestSummary) {
    for spec in schema::ALL_TABLES {
        summary.rows.insert(
            spec.name.to_string(),
            t.get(spec.name).map(|d| d.height() as u64).unwrap_or(0),
        );
    }
}

#[cfg(test)]
mod tests;
