//! One caller's investigation as `caller` writes it: a terminal view (a header of who and
//! what, then the timeline as a table), the timeline as CSV, and exporters for the JSON
//! ([`super::caller_json`]) and the HTML page ([`super::caller_html`]).

use std::io::Write;

use anyhow::Result;
use polars::prelude::{Column, DataFrame};

use super::{Export, caller_html, caller_json, frame};
use crate::normalize::format_time;
use crate::summary::caller::{Entry, Investigation, Kind};
use crate::terminal::clean;
use crate::window::Window;

/// The terminal view: on a terminal of `width` columns (`Some`), each event one line (its time
/// to the second, what happened as a short sentence naming the resource, the outcome; wider
/// terminals add the address and the reference); to a pipe (`None`), every column whole.
pub struct CallerTable<'a> {
    pub investigation: &'a Investigation<'a>,
    pub width: Option<usize>,
}

impl Export for CallerTable<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_header(out, self.investigation, self.width)?;
        match self.width {
            Some(width) => write_lines(out, self.investigation, width),
            None => frame::write_table(out, &timeline_frame(self.investigation)?, usize::MAX),
        }
    }
}

/// Below this many columns the address is left out; the reference needs more still.
const WITH_ADDRESS: usize = 150;
const WITH_REFERENCE: usize = 200;

/// One line an event, fitted to `width` columns: the sentence takes what the fixed columns
/// leave, and is cut with an ellipsis only there.
fn write_lines(out: &mut dyn Write, inv: &Investigation, width: usize) -> Result<()> {
    let address = width >= WITH_ADDRESS;
    let reference = width >= WITH_REFERENCE;
    let status_width = (inv.timeline.iter())
        .map(|e| e.status.chars().count())
        .chain(["outcome".len()])
        .max()
        .unwrap_or(7)
        .min(20);
    // As wide as the longest kind shown ("JIT request"; "firewall change" only when one is).
    let kind_width = (inv.timeline.iter())
        .map(|e| e.kind.label().len())
        .chain(["JIT request".len()])
        .max()
        .unwrap_or(11);
    // time (19), kind, outcome, address (15), reference (36), with two spaces between.
    let fixed = 19
        + 2
        + kind_width
        + 2
        + status_width
        + 2
        + if address { 15 + 2 } else { 0 }
        + if reference { 36 + 2 } else { 0 };
    let sentence_width = width.saturating_sub(fixed).max(24);
    let mut head = format!(
        "{:<19}  {:<kind_width$}  {:<status_width$}  ",
        "time (UTC)", "kind", "outcome"
    );
    if address {
        head.push_str(&format!("{:<15}  ", "address"));
    }
    head.push_str("what happened");
    if reference {
        head.push_str(&format!(
            "{:pad$}  reference",
            "",
            pad = sentence_width.saturating_sub(13)
        ));
    }
    writeln!(out, "{}", head.trim_end())?;
    for e in &inv.timeline {
        let mut line = format!(
            "{:<19}  {:<kind_width$}  {:<status_width$}  ",
            seconds(&e.time_utc()),
            e.kind.label(),
            fit(&clean(&e.status), status_width),
        );
        if address {
            line.push_str(&format!("{:<15}  ", fit(&clean(&e.address), 15)));
        }
        let said = fit(&clean(&sentence(e)), sentence_width);
        if reference {
            let pad = sentence_width.saturating_sub(said.chars().count());
            line.push_str(&format!(
                "{said}{:pad$}  {}",
                "",
                fit(&clean(&e.reference), 36)
            ));
        } else {
            line.push_str(&said);
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `2026-11-02T08:21:02.631Z` as `2026-11-02 08:21:02`.
fn seconds(time_utc: &str) -> String {
    let t = time_utc.get(..19).unwrap_or(time_utc);
    t.replacen('T', " ", 1)
}

/// What happened, in a few words that name the resource.
fn sentence(e: &Entry) -> String {
    if !e.line.is_empty() {
        return e.line.clone();
    }
    // An operation without its provider's name: `virtualmachines/start/action`.
    let operation = |op: &str| match op.split_once('/') {
        Some((provider, rest)) if provider.contains('.') => rest.to_string(),
        _ => op.to_string(),
    };
    match e.kind {
        Kind::NsgChange => {
            let verb = if e.what.ends_with("/delete") {
                "removed"
            } else {
                "wrote"
            };
            let nsg = named_after(&e.resource, "networkSecurityGroups");
            // The NSG first: the rule's generated name is long, and cut last.
            match e.what.contains("securityrules") {
                true => format!(
                    "{verb} rule on NSG {nsg} {}: {}",
                    e.detail,
                    e.resource_name()
                ),
                false => format!("{verb} NSG {nsg} {}", e.detail),
            }
        }
        Kind::FirewallChange => {
            let firewall = named_after(&e.resource, "azureFirewalls");
            format!("wrote firewall {firewall} {}", e.detail)
        }
        Kind::Finding => format!("{}: {}", e.what, e.detail),
        _ => {
            let on = if e.resource_name().is_empty() {
                String::new()
            } else {
                format!(" {}", e.resource_name())
            };
            let why = if e.detail.is_empty() || e.detail.starts_with(&*e.status) {
                String::new()
            } else {
                format!(" ({})", e.detail)
            };
            format!("{}{on}{why}", operation(&e.what))
        }
    }
}

/// The name after the `kind` segment of a resource id (`.../networkSecurityGroups/{name}/...`).
fn named_after<'a>(resource: &'a str, kind: &str) -> &'a str {
    resource
        .split('/')
        .skip_while(|s| !s.eq_ignore_ascii_case(kind))
        .nth(1)
        .unwrap_or("")
}

/// `text` in at most `width` characters, cut with an ellipsis.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The timeline as CSV.
pub struct CallerCsv<'a>(pub &'a Investigation<'a>);

impl Export for CallerCsv<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        frame::write_csv(out, &timeline_frame(self.0)?)
    }
}

/// The investigation as JSON.
pub struct CallerJson<'a>(pub &'a Investigation<'a>);

impl Export for CallerJson<'_> {
    fn export(&self, mut out: &mut dyn Write) -> Result<()> {
        caller_json::write(&mut out, self.0)
    }
}

/// The investigation as one HTML page, for the window it covers.
pub struct CallerHtml<'a> {
    pub investigation: &'a Investigation<'a>,
    pub window: &'a Window,
}

impl Export for CallerHtml<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        let html = caller_html::render(self.investigation, &describe_window(self.window))?;
        out.write_all(html.as_bytes())?;
        Ok(())
    }
}

pub fn describe_window(w: &Window) -> String {
    match (w.from, w.to) {
        (None, None) => "all input".to_string(),
        (f, t) => format!(
            "{} to {}",
            f.map(format_time).unwrap_or_else(|| "the start".into()),
            t.map(format_time).unwrap_or_else(|| "the end".into())
        ),
    }
}

/// `names` joined by commas in at most `width` columns, the rest counted ("and 12 more");
/// where not even one fits, how many `noun` there are.
fn names_within(names: &[String], width: usize, noun: &str) -> String {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        let more = format!(" and {} more", names.len() - i);
        let sep = if i == 0 { "" } else { ", " };
        if out.chars().count() + sep.len() + n.chars().count() + more.len() > width
            && i + 1 < names.len()
            || out.chars().count() + sep.len() + n.chars().count() > width
        {
            return if out.is_empty() {
                format!("{} {noun}", names.len())
            } else {
                out + &more
            };
        }
        out.push_str(sep);
        out.push_str(n);
    }
    out
}

/// The caller's summary; on a terminal (`width`), a list of VMs is cut to the line, the rest
/// counted: a busy caller touches dozens.
fn write_header(w: &mut dyn Write, inv: &Investigation, width: Option<usize>) -> Result<()> {
    let s = &inv.summary;
    // Every value comes from the inputs: escaped for the terminal.
    writeln!(w, "caller:          {}", clean(&s.caller))?;
    writeln!(w, "identities:      {}", clean(&s.identities.join(", ")))?;
    writeln!(
        w,
        "first / last:    {} / {}",
        s.first_activity, s.last_activity
    )?;
    writeln!(
        w,
        "JIT requests:    {} on {}",
        s.requests,
        if s.vms.is_empty() {
            "no VM".to_string()
        } else {
            let vms: Vec<String> = s.vms.iter().map(|v| clean(v).into_owned()).collect();
            let prefix = format!("JIT requests:    {} on ", s.requests)
                .chars()
                .count();
            names_within(
                &vms,
                width.map_or(usize::MAX, |w| w.saturating_sub(prefix)),
                "VMs",
            )
        }
    )?;
    writeln!(w, "other records:   {}", s.activity_records)?;
    writeln!(
        w,
        "odd hours:       {:.0}% of requests",
        s.odd_hour_share * 100.0
    )?;
    let findings: Vec<String> = s
        .findings_by_severity
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    writeln!(
        w,
        "findings:        {}",
        if findings.is_empty() {
            "none".to_string()
        } else {
            findings.join(", ")
        }
    )?;
    if s.rights.is_empty() {
        writeln!(w, "rights:          none in the inputs")?;
    }
    for (n, r) in s.rights.iter().enumerate() {
        let label = if n == 0 { "rights:" } else { "" };
        writeln!(w, "{label:<17}{}", clean(r))?;
    }
    writeln!(w, "source addresses:")?;
    for a in &s.sources {
        writeln!(
            w,
            "  {:<18} {:>4} records  {} .. {}",
            clean(&a.address),
            a.count,
            a.first_seen,
            a.last_seen
        )?;
    }
    writeln!(w)?;
    Ok(())
}

fn timeline_frame(inv: &Investigation) -> Result<DataFrame> {
    let col = |name: &str, f: &dyn Fn(&Entry) -> String| {
        Column::new(
            name.into(),
            inv.timeline.iter().map(f).collect::<Vec<String>>(),
        )
    };
    let columns = vec![
        col("time_utc", &|e| e.time_utc()),
        col("kind", &|e| e.kind.label().to_string()),
        col("what", &|e| e.what.to_string()),
        col("resource", &|e| e.resource.to_string()),
        col("status", &|e| e.status.to_string()),
        col("address", &|e| e.address.to_string()),
        col("detail", &|e| e.detail.to_string()),
        col("reference", &|e| e.reference.to_string()),
    ];
    Ok(DataFrame::new(inv.timeline.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::summary::caller::Summary;

    fn entry(kind: Kind, what: &str, resource: &str, detail: &str, line: &str) -> Entry<'static> {
        Entry {
            time: crate::normalize::parse_time("2026-11-02T08:21:02.631Z"),
            end: None,
            kind,
            what: Cow::Owned(what.into()),
            resource: Cow::Owned(resource.into()),
            status: "Succeeded".into(),
            address: "203.0.113.11".into(),
            detail: Cow::Owned(detail.into()),
            reference: "cce86da9-d65b-47d1-b63a-3f3aee0c6b4f".into(),
            line: line.into(),
        }
    }

    /// Issue 27: at 120 columns each event is one line with its time to the second and what
    /// happened as a sentence naming the resource; wider terminals add the address and the
    /// reference; nothing is cut but the sentence's end.
    #[test]
    fn a_terminal_gets_one_line_an_event() {
        let rule = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/sql-01-nsg/securityRules/MicrosoftDefenderForCloud-JITRule-903114502-A3394211CD334582A242AB7D8F2EEABD";
        let inv = Investigation {
            summary: Summary {
                caller: "bob@contoso.com".into(),
                identities: vec!["bob@contoso.com".into()],
                first_activity: String::new(),
                last_activity: String::new(),
                requests: 1,
                activity_records: 2,
                sources: Vec::new(),
                vms: vec!["sql-01".into()],
                odd_hour_share: 0.0,
                findings_by_severity: Default::default(),
                rights: Vec::new(),
            },
            timeline: vec![
                entry(
                    Kind::JitRequest,
                    "opened sql-01 port 3389",
                    "/x/sql-01",
                    "",
                    "opened sql-01:3389 to 203.0.113.11 for 2h: CHG150001",
                ),
                entry(
                    Kind::NsgChange,
                    "microsoft.network/networksecuritygroups/securityrules/write",
                    rule,
                    "by 0d0d",
                    "",
                ),
                entry(
                    Kind::Activity,
                    "microsoft.compute/virtualmachines/start/action",
                    "/x/web-01",
                    "Succeeded.OK",
                    "",
                ),
                entry(
                    Kind::Finding,
                    "JIT008 JIT request without a real justification",
                    "/x/sql-01",
                    &"boilerplate ".repeat(30),
                    "",
                ),
            ],
        };
        let render = |width| {
            let mut out = Vec::new();
            let table = CallerTable {
                investigation: &inv,
                width,
            };
            table.export(&mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            let at = text.find("time (UTC)").unwrap_or(0);
            text[at..].to_string()
        };
        let narrow = render(Some(120));
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines.len(), 5, "{narrow}");
        for l in &lines {
            assert!(
                l.chars().count() <= 120,
                "{} columns: {l}",
                l.chars().count()
            );
        }
        assert!(lines[1].starts_with("2026-11-02 08:21:02  JIT request  Succeeded  opened sql-01:3389 to 203.0.113.11 for 2h: CHG150001"), "{}", lines[1]);
        assert!(
            lines[2].contains(
                "wrote rule on NSG sql-01-nsg by 0d0d: MicrosoftDefenderForCloud-JITRule"
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].ends_with("virtualmachines/start/action web-01"),
            "{}",
            lines[3]
        );
        assert!(lines[4].ends_with('…'), "{}", lines[4]);
        assert!(!narrow.contains("cce86da9"), "no reference at 120 columns");
        let wide = render(Some(220));
        assert!(wide.lines().all(|l| l.chars().count() <= 220));
        assert!(
            wide.contains("203.0.113.11     opened")
                && wide.contains("cce86da9-d65b-47d1-b63a-3f3aee0c6b4f")
        );
        // A pipe gets every column whole: the full resource id and reference.
        let piped = render(None);
        assert!(
            piped.contains(rule) && piped.contains("time_utc"),
            "{piped}"
        );
    }
}
