//! The rule catalogue: stable ids, default severities, titles, rationale, the configuration
//! each rule reads, and the guidance it enforces. Detection content is data: each rule is a
//! folder `queries/rules/<ID>/` (`rule.toml`, `rule.sql`, its samples), which `build.rs`
//! compiles into [`RULES`], so the binary needs no files at run time.

use crate::severity::Severity;

/// How a rule is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// A Polars SQL query over the enriched tables; the text of the folder's `rule.sql`.
    Sql(&'static str),
    /// Computed in Rust (interval unions, baselines learned in time order); the text says how.
    Builtin(Builtin, &'static str),
}

/// The rules whose logic is Rust ([`crate::rules::stateful`]), by the name `rule.toml` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `new_sources`: a caller's first use of a source after the baseline.
    NewSources,
    /// `chained`: back-to-back requests that make one long window.
    Chained,
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub version: u32,
    pub severity: Severity,
    pub title: &'static str,
    /// What the rule finds, in one line (the catalogue's table in `docs/rules.md`).
    pub finds: &'static str,
    pub rationale: &'static str,
    pub recommendation: &'static str,
    pub config_keys: &'static [&'static str],
    pub references: &'static [&'static str],
    pub logic: Logic,
    /// Posture rules judge the inventory snapshot, not activity in a time window.
    pub posture: bool,
    /// Where the rule's files are, from the repository's root.
    pub folder: &'static str,
}

// The rules, one per folder of `queries/rules/`, as `build.rs` reads them.
include!(concat!(env!("OUT_DIR"), "/rules.rs"));

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}
