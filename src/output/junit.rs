//! The findings as a JUnit XML report, for CI systems that show test reports (GitLab, Azure
//! Pipelines, Jenkins, GitHub's test reporters): one test case per rule of the catalogue, a
//! `<failure>` per unsuppressed finding at or above the gate, the rest of a rule's findings
//! in its `<system-out>`. The shape is the one Jenkins' `junit-10.xsd` describes (the
//! `testsuites` > `testsuite` > `testcase` tree; `testsuite` requires `name` and `tests`,
//! `testcase` requires `name`; a test case may hold several `failure` elements).

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use super::Export;
use crate::normalize::name_of;
use crate::rules::Finding;
use crate::rules::catalogue::RULES;
use crate::severity::Severity;

/// Text or an attribute value escaped for XML 1.0; characters XML 1.0 cannot hold at all
/// (control characters but tab, newline and carriage return) become U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn line(f: &Finding) -> String {
    let mut parts = vec![format!("[{}]", f.severity)];
    if !f.time_utc.is_empty() {
        parts.push(f.time_utc.clone());
    }
    if let Some(vm) = name_of(&f.vm_id) {
        parts.push(format!("VM {vm}"));
    }
    if !f.caller.is_empty() {
        parts.push(format!("caller {}", f.caller));
    }
    if !f.subscription_id.is_empty() {
        parts.push(format!("subscription {}", f.subscription_id));
    }
    parts.push(format!("{} (evidence: {})", f.detail, f.evidence));
    parts.join(" ")
}

/// `findings.junit.xml`.
pub struct FindingsJunit<'a> {
    pub findings: &'a [Finding],
    /// Findings at or above this fail; without a gate every unsuppressed finding does.
    pub gate: Option<Severity>,
    pub title: &'a str,
    /// The run's time (RFC 3339), the suite's `timestamp`.
    pub generated_at: &'a str,
}

impl FindingsJunit<'_> {
    fn fails(&self, f: &Finding) -> bool {
        !f.suppressed && self.gate.is_none_or(|g| f.severity >= g)
    }

    pub fn xml(&self) -> String {
        let failures = self.findings.iter().filter(|f| self.fails(f)).count();
        let mut x = String::new();
        let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            x,
            r#"<testsuites name="jitaudit" tests="{}" failures="{failures}" errors="0" time="0">"#,
            RULES.len()
        );
        let _ = writeln!(
            x,
            r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0" time="0" timestamp="{}">"#,
            xml_escape(self.title),
            RULES.len(),
            // xs:dateTime to the second, as JUnit writers put it.
            xml_escape(self.generated_at.get(..19).unwrap_or(self.generated_at)),
        );
        let gate = self
            .gate
            .map(|g| format!("{g} and above"))
            .unwrap_or_else(|| "every unsuppressed finding".into());
        let _ = writeln!(
            x,
            r#"    <properties><property name="fail_on" value="{}"/></properties>"#,
            xml_escape(&gate)
        );
        for rule in RULES {
            let of_rule: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.rule_id == rule.id)
                .collect();
            let _ = write!(
                x,
                r#"    <testcase classname="jitaudit.{}" name="{} {}" time="0""#,
                rule.id,
                rule.id,
                xml_escape(rule.title)
            );
            if of_rule.is_empty() {
                let _ = writeln!(x, "/>");
                continue;
            }
            let _ = writeln!(x, ">");
            for f in of_rule.iter().filter(|f| self.fails(f)) {
                let _ = writeln!(
                    x,
                    r#"      <failure type="{}" message="{}">{}</failure>"#,
                    f.severity,
                    xml_escape(&f.detail),
                    xml_escape(&format!(
                        "{}\nRecommendation: {}",
                        line(f),
                        f.recommendation
                    ))
                );
            }
            let rest: Vec<String> = of_rule
                .iter()
                .filter(|f| !self.fails(f))
                .map(|f| match f.suppressed {
                    true => format!("suppressed ({}): {}", f.suppression_reason, line(f)),
                    false => format!("below the gate: {}", line(f)),
                })
                .collect();
            if !rest.is_empty() {
                let _ = writeln!(
                    x,
                    "      <system-out>{}</system-out>",
                    xml_escape(&rest.join("\n"))
                );
            }
            let _ = writeln!(x, "    </testcase>");
        }
        let _ = writeln!(x, "  </testsuite>");
        let _ = writeln!(x, "</testsuites>");
        x
    }
}

impl Export for FindingsJunit<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        out.write_all(self.xml().as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_gate_decides_what_fails() {
        let f = |sev: Severity, suppressed: bool| Finding {
            rule_id: "JIT008".into(),
            severity: sev,
            detail: "missing justification: \"<script>&\u{1}\"".into(),
            suppressed,
            ..Finding::default()
        };
        let findings = [
            f(Severity::Low, false),
            f(Severity::High, false),
            f(Severity::High, true),
        ];
        let j = FindingsJunit {
            findings: &findings,
            gate: Some(Severity::Medium),
            title: "a & b",
            generated_at: "2026-11-16T00:00:00Z",
        };
        let x = j.xml();
        assert_eq!(x.matches("<failure ").count(), 1);
        assert!(x.contains(r#"failures="1""#));
        assert!(x.contains("&quot;&lt;script&gt;&amp;\u{FFFD}&quot;"));
        assert!(!x.contains("<script>"));
        assert!(x.contains("below the gate") && x.contains("suppressed ("));
        assert!(x.contains(r#"<testsuite name="a &amp; b""#));
        let all = FindingsJunit { gate: None, ..j };
        assert_eq!(all.xml().matches("<failure ").count(), 2);
    }
}
