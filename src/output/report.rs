//! The weekly compliance report: one [`ReportSummary`], written as a self-contained
//! HTML page with charts, the findings and ledger as CSV, the summary as JSON for SIEMs and
//! dashboards, and Markdown for an e-mail or a pull-request comment. The run's timestamp is
//! the only run-dependent value and sits in one marked metadata block of each file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use polars::prelude::DataFrame;
use serde::Serialize;

use super::{Export, charts, findings_view, frame};
use crate::normalize::{format_time, name_of};
use crate::rules::Finding;
use crate::schema;
use crate::severity::Severity;
use crate::summary::report::ReportSummary;
use crate::tables::{ints, strs, times};

const TEMPLATE: &str = include_str!("../../reports/report.html");

/// The ledger columns `requests.csv` carries, in order.
pub const LEDGER_COLUMNS: &[&str] = &[
    schema::REQUEST_ID,
    schema::REQUESTED_AT,
    schema::REQUESTOR,
    schema::CALLER_IP,
    schema::JUSTIFICATION,
    schema::SUBSCRIPTION_ID,
    schema::VM_NAME,
    schema::VM_ID,
    schema::PORT,
    schema::PROTOCOL,
    schema::SOURCE_PREFIX,
    schema::END_TIME,
    schema::DURATION_SECONDS,
    schema::STATUS,
    schema::STATUS_REASON,
    schema::POLICY_ID,
    schema::CORRELATION_ID,
    schema::EVIDENCE,
    // Where the port was exposed, for a VM behind Azure Firewall: its address and port.
    schema::FIREWALL_IP,
    schema::MAPPED_PORT,
];

#[derive(Serialize)]
struct LedgerRow {
    request_id: String,
    requested_at: String,
    requestor: String,
    vm_name: String,
    vm_id: String,
    port: String,
    /// The Azure Firewall address (and mapped port) the VM's port was opened on, if any.
    exposed: String,
    source_prefix: String,
    caller_ip: String,
    duration: String,
    justification: String,
    status: String,
    evidence: String,
}

fn ledger_rows(req: &DataFrame) -> Result<Vec<LedgerRow>> {
    let s = |c: &str| strs(req, c);
    let (id, who, vm, vm_name, src, ip, why, status, ev) = (
        s(schema::REQUEST_ID)?,
        s(schema::REQUESTOR)?,
        s(schema::VM_ID)?,
        s(schema::VM_NAME)?,
        s(schema::SOURCE_PREFIX)?,
        s(schema::CALLER_IP)?,
        s(schema::JUSTIFICATION)?,
        s(schema::STATUS)?,
        s(schema::EVIDENCE)?,
    );
    let at = times(req, schema::REQUESTED_AT)?;
    let port = ints(req, schema::PORT)?;
    let (firewall, mapped) = (
        strs(req, schema::FIREWALL_IP)?,
        ints(req, schema::MAPPED_PORT)?,
    );
    let dur = ints(req, schema::DURATION_SECONDS)?;
    let t = |v: Option<&str>| v.unwrap_or("").to_string();
    Ok((0..req.height())
        .map(|i| LedgerRow {
            request_id: t(id.get(i)),
            requested_at: at.get(i).map(format_time).unwrap_or_default(),
            requestor: t(who.get(i)),
            vm_name: t(vm_name.get(i)),
            vm_id: t(vm.get(i)),
            port: port.get(i).map(|p| p.to_string()).unwrap_or_default(),
            // A VM behind Azure Firewall is reached at the firewall's address and mapped port.
            exposed: match (firewall.get(i).filter(|f| !f.is_empty()), mapped.get(i)) {
                (Some(f), Some(m)) => format!("{f}:{m}"),
                (Some(f), None) => f.to_string(),
                _ => String::new(),
            },
            source_prefix: t(src.get(i)),
            caller_ip: t(ip.get(i)),
            duration: dur
                .get(i)
                .map(crate::enrich::human_duration)
                .unwrap_or_default(),
            justification: t(why.get(i)),
            status: t(status.get(i)),
            evidence: t(ev.get(i)),
        })
        .collect())
}

/// The page shows the latest this many requests (and every one a finding names); all of them
/// are in `requests.csv`. A 90-day tenant has thousands: a page a person reads, not a dump.
const LEDGER_IN_PAGE: usize = 500;
/// The Evidence section lists this many input files; every file's SHA-256 is in
/// `summary.json` (a week of hourly blobs is 168 files a subscription).
pub const EVIDENCE_IN_PAGE: usize = 200;

/// The ledger rows the page shows: the `limit` latest, and every row a finding's evidence
/// names (`request r-...`, `requests r-...,r-...`), so no link from a finding dangles; in the
/// ledger's order.
fn ledger_in_page(rows: Vec<LedgerRow>, findings: &[Finding], limit: usize) -> Vec<LedgerRow> {
    if rows.len() <= limit {
        return rows;
    }
    let named: std::collections::HashSet<&str> = (findings.iter())
        .filter_map(|f| {
            (f.evidence.strip_prefix("requests ")).or_else(|| f.evidence.strip_prefix("request "))
        })
        .flat_map(|ids| ids.split(','))
        .map(str::trim)
        .collect();
    let mut by_time: Vec<usize> = (0..rows.len()).collect();
    // Times are ISO 8601 in UTC: their text sorts as they do.
    by_time.sort_by(|a, b| {
        rows[*b]
            .requested_at
            .cmp(&rows[*a].requested_at)
            .then(a.cmp(b))
    });
    let mut keep = vec![false; rows.len()];
    for i in by_time.into_iter().take(limit) {
        keep[i] = true;
    }
    (rows.into_iter().zip(keep))
        .filter(|(r, k)| *k || named.contains(r.request_id.as_str()))
        .map(|(r, _)| r)
        .collect()
}

pub fn html(s: &ReportSummary, ledger: &DataFrame, generated_at: &str) -> Result<String> {
    let mut env = Environment::new();
    env.add_filter("vm_name", |id: String| {
        name_of(&id).unwrap_or("").to_string()
    });
    env.add_filter("signed", |n: i64| format!("{n:+}"));
    env.add_filter("ticks", ticks);
    env.add_template("report.html", TEMPLATE)
        .context("loading the report template")?;
    let c = &s.charts;
    let charts: BTreeMap<&str, String> = BTreeMap::from([
        ("findings", charts::findings_by_rule(c)?),
        ("per_day", charts::requests_per_day(c)?),
        ("heat", charts::heat_map(c)?),
        ("callers", charts::top_callers(c)?),
        ("windows", charts::vm_windows(c)?),
        ("trend", charts::trend(&s.trend)?),
    ]);
    let rank: BTreeMap<&str, usize> = Severity::ALL
        .iter()
        .map(|s| (s.name(), *s as usize))
        .collect();
    let shown = ledger_in_page(ledger_rows(ledger)?, &s.findings, LEDGER_IN_PAGE);
    let groups = findings_view::groups(s);
    let options = findings_view::filter_options(s);
    let attention_rules = s.attention.iter().filter(|g| g.findings > 0).count();
    env.get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                s => Value::from(Serde(s)),
                charts => charts,
                rank => rank,
                ledger => Value::from(Serde(&shown)),
                groups => Value::from(Serde(&groups)),
                options => Value::from(Serde(&options)),
                attention_rules => attention_rules,
                coverage_worst => Value::from(Serde(coverage_worst(s))),
                ledger_total => ledger.height(),
                evidence_in_page => EVIDENCE_IN_PAGE,
                generated_at => generated_at,
            })
        })
        .context("rendering the report")
}

/// The catalogue's text, written in Markdown's backticks, as HTML: escaped, and each
/// `quoted` span in `<code>`.
fn ticks(text: String) -> Value {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        let escaped = minijinja::HtmlEscape(part).to_string();
        if i % 2 == 1 {
            let _ = write!(out, "<code>{escaped}</code>");
        } else {
            out.push_str(&escaped);
        }
    }
    Value::from_safe_string(out)
}

/// The first screen's coverage: the subscriptions with the most VMs without JIT first.
const COVERAGE_ON_FIRST_SCREEN: usize = 8;

#[derive(Serialize)]
struct CoverageRow<'a> {
    name: &'a str,
    subscription_id: &'a str,
    vms: usize,
    with_jit: usize,
    /// Whole percent covered, for the bar.
    percent: usize,
}

fn coverage_worst(s: &ReportSummary) -> Vec<CoverageRow<'_>> {
    let mut rows: Vec<CoverageRow> = s
        .coverage
        .iter()
        .map(|c| CoverageRow {
            name: &c.name,
            subscription_id: &c.subscription_id,
            vms: c.vms,
            with_jit: c.with_jit,
            percent: (c.with_jit * 100).checked_div(c.vms).unwrap_or(100),
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.vms - b.with_jit)
            .cmp(&(a.vms - a.with_jit))
            .then(a.percent.cmp(&b.percent))
            .then_with(|| a.name.cmp(b.name))
    });
    rows.truncate(COVERAGE_ON_FIRST_SCREEN);
    rows
}

/// A value from the inputs as Markdown text: it stays on its line, and nothing in it is read
/// as Markdown or HTML (a link, an image, emphasis, code, strike-through, a table cell's end,
/// a tag or an entity): the characters that open them are escaped (a link or an image needs its
/// `[`, so `(` and `!` can stay as they are).
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `report.md` shows this many findings a rule; `findings.csv` has every one.
const FINDINGS_IN_MARKDOWN: usize = 10;

pub fn markdown(s: &ReportSummary, generated_at: &str) -> String {
    let mut m = String::new();
    let c = &s.counts;
    let _ = writeln!(m, "# {}\n", md_cell(&s.title));
    let _ = writeln!(m, "Window {} to {}.\n", s.window_from, s.window_to);
    let sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|k| c.by_severity.get(k.name()).map(|n| format!("{n} {k}")))
        .collect();
    let _ = writeln!(
        m,
        "**{} findings** ({}){}; {} JIT requests by {} callers; {} of {} VMs have JIT.\n",
        c.findings,
        if sev.is_empty() {
            "none".to_string()
        } else {
            sev.join(", ")
        },
        if c.suppressed > 0 {
            format!(", {} suppressed", c.suppressed)
        } else {
            String::new()
        },
        c.requests,
        c.callers,
        c.vms_with_jit,
        c.vms
    );
    if !s.file_errors.is_empty() {
        let _ = writeln!(
            m,
            "**{} input(s) could not be read**: findings cover only what was read.\n",
            s.file_errors.len()
        );
    }
    if let Some(ch) = &s.change {
        let _ = writeln!(
            m,
            "Since the previous run: findings {:+}, requests {:+}, VMs without JIT {:+}.\n",
            ch.findings, ch.requests, ch.vms_without_jit
        );
    }
    let live: Vec<_> = s.attention.iter().filter(|g| g.findings > 0).collect();
    if !live.is_empty() {
        let _ = writeln!(
            m,
            "## What needs attention\n\n| severity | rule | findings | who | which VMs |\n|---|---|---|---|---|"
        );
        let named = |top: &[(String, usize)], all: usize| {
            let mut v: Vec<String> = top
                .iter()
                .map(|(n, c)| format!("{} ({c})", md_cell(n)))
                .collect();
            if all > top.len() {
                v.push(format!("and {} more", all - top.len()));
            }
            v.join(", ")
        };
        for g in &live {
            let change = g.change.map(|c| format!(" ({c:+})")).unwrap_or_default();
            let _ = writeln!(
                m,
                "| {} | {} {} | {}{change} | {} | {} |",
                g.severity,
                g.rule_id,
                md_cell(&g.title),
                g.findings,
                named(&g.top_callers, g.callers),
                named(&g.top_vms, g.vms),
            );
        }
        let _ = writeln!(m);
    }
    // The findings of each rule, most severe and latest first, as many as a message holds;
    // findings.csv has every one.
    for v in findings_view::groups(s)
        .iter()
        .filter(|v| v.group.findings > 0)
    {
        let _ = writeln!(
            m,
            "### {} {} ({})\n\n| severity | time (UTC) | subscription | VM | caller | detail |\n|---|---|---|---|---|---|",
            v.group.rule_id,
            md_cell(&v.group.title),
            v.group.findings
        );
        let rows: Vec<_> = v.rows.iter().filter(|r| !r.suppressed).collect();
        for r in rows.iter().take(FINDINGS_IN_MARKDOWN) {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} |",
                r.severity,
                r.time_utc,
                md_cell(&r.subscription),
                md_cell(&r.vm_name),
                md_cell(&r.caller),
                md_cell(&r.detail)
            );
        }
        if v.group.findings > FINDINGS_IN_MARKDOWN.min(rows.len()) {
            let _ = writeln!(
                m,
                "\n{} more in `findings.csv`.",
                v.group.findings - FINDINGS_IN_MARKDOWN.min(rows.len())
            );
        }
        let _ = writeln!(m);
    }
    for w in &s.input_warnings {
        let _ = writeln!(m, "\n**Incomplete input:** {}", md_cell(w));
    }
    if !s.days_without_activity.is_empty() || !s.file_errors.is_empty() {
        let _ = writeln!(
            m,
            "\nData gaps: {} day(s) without Activity Log data; {} unreadable file(s).",
            s.days_without_activity.len(),
            s.file_errors.len()
        );
    }
    let _ = writeln!(m, "\n<!-- jitaudit metadata: generated {generated_at} -->");
    m
}

/// `summary.json`: the summary with the run metadata in one block.
pub fn json(s: &ReportSummary, generated_at: &str) -> Result<String> {
    #[derive(Serialize)]
    struct Doc<'a> {
        metadata: BTreeMap<&'a str, &'a str>,
        #[serde(flatten)]
        summary: &'a ReportSummary,
    }
    let doc = Doc {
        metadata: BTreeMap::from([("generated_at", generated_at), ("tool", "jitaudit")]),
        summary: s,
    };
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// `report.html`: the summary, the window's ledger and the run's time as one page.
pub struct ReportHtml<'a> {
    pub summary: &'a ReportSummary,
    pub ledger: &'a DataFrame,
    pub generated_at: &'a str,
}

impl Export for ReportHtml<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        out.write_all(html(self.summary, self.ledger, self.generated_at)?.as_bytes())?;
        Ok(())
    }
}

/// `report.md` or `summary.json`: the summary as text, with the run's time.
pub struct ReportText<'a> {
    pub summary: &'a ReportSummary,
    pub generated_at: &'a str,
    pub form: TextForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// `report.md`, for an e-mail, a chat message or a pull-request comment.
    Markdown,
    /// `summary.json`, for SIEMs and dashboards.
    Json,
}

impl Export for ReportText<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        let text = match self.form {
            TextForm::Markdown => markdown(self.summary, self.generated_at),
            TextForm::Json => json(self.summary, self.generated_at)?,
        };
        out.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// `requests.csv`: the ledger of the window, in [`LEDGER_COLUMNS`].
pub struct LedgerCsv<'a>(pub &'a DataFrame);

impl Export for LedgerCsv<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        frame::write_csv(out, &self.0.select(LEDGER_COLUMNS.iter().copied())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 27: at a tenant's size the page shows the latest requests and every request a
    /// finding names (so its link lands), in the ledger's order; all of them stay in the CSV.
    #[test]
    fn the_page_shows_the_latest_requests_and_those_findings_name() {
        let row = |i: usize| LedgerRow {
            request_id: format!("r-{i}"),
            requested_at: format!("2026-11-{:02}T10:00:00Z", 1 + i % 28),
            requestor: String::new(),
            vm_name: String::new(),
            vm_id: String::new(),
            port: String::new(),
            exposed: String::new(),
            source_prefix: String::new(),
            caller_ip: String::new(),
            duration: String::new(),
            justification: String::new(),
            status: String::new(),
            evidence: String::new(),
        };
        let finding = |evidence: &str| Finding {
            evidence: evidence.into(),
            ..Finding::default()
        };
        let findings = [
            finding("request r-0"),
            finding("requests r-1,r-2"),
            finding("vm x"),
        ];
        let ids = |rows: Vec<LedgerRow>| rows.into_iter().map(|r| r.request_id).collect::<Vec<_>>();
        // Days 1 to 28: the three latest are r-27, r-26, r-25.
        let shown = ids(ledger_in_page((0..28).map(row).collect(), &findings, 3));
        assert_eq!(shown, ["r-0", "r-1", "r-2", "r-25", "r-26", "r-27"]);
        // Under the limit, every row.
        assert_eq!(ledger_in_page((0..5).map(row).collect(), &[], 10).len(), 5);
    }

    /// A justification or a name can hold Markdown: in `report.md` it stays text.
    #[test]
    fn markdown_in_values_stays_text() {
        assert_eq!(
            md_cell("[click](javascript:alert(1))"),
            r"\[click\](javascript:alert(1))"
        );
        assert_eq!(
            md_cell("![img](http://x/y.png)"),
            r"!\[img\](http://x/y.png)"
        );
        assert_eq!(
            md_cell("*bold* _it_ `code` ~~gone~~"),
            r"\*bold\* \_it\_ \`code\` \~\~gone\~\~"
        );
        assert_eq!(md_cell("a | b\nc"), r"a \| b c");
        assert_eq!(md_cell("<script>&amp;"), "&lt;script&gt;&amp;amp;");
        assert_eq!(md_cell(r"C:\temp"), r"C:\\temp");
        assert_eq!(md_cell("CHG1234 patch window"), "CHG1234 patch window");
    }
}
