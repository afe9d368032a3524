//! `jitaudit rules`: the catalogue; `jitaudit rules explain ID`: one rule in full.

use std::io::Write;

use anyhow::{Result, bail};

use crate::cli::{RulesArgs, RulesCommand};
use crate::exit::Exit;
use crate::rules::catalogue::{Logic, RULES};

pub fn run(args: RulesArgs) -> Result<Exit> {
    let mut w = std::io::stdout().lock();
    match args.explain {
        None => {
            writeln!(w, "{:<7} {:<9} {:<8} TITLE", "ID", "SEVERITY", "KIND")?;
            for r in RULES {
                let kind = if r.posture { "posture" } else { "activity" };
                writeln!(w, "{:<7} {:<9} {:<8} {}", r.id, r.severity, kind, r.title)?;
            }
            writeln!(
                w,
                "\n`jitaudit rules explain ID` shows a rule's rationale, logic, configuration and references."
            )?;
        }
        Some(RulesCommand::Explain { id }) => {
            let Some(r) = crate::rules::catalogue::rule(&id) else {
                let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
                bail!("no rule {id}; the rules are {}", ids.join(", "));
            };
            writeln!(
                w,
                "{} {} (version {}, default severity {})\n",
                r.id, r.title, r.version, r.severity
            )?;
            writeln!(w, "Why: {}\n", r.rationale)?;
            writeln!(w, "What to do: {}\n", r.recommendation)?;
            match r.logic {
                Logic::Sql(sql) => writeln!(
                    w,
                    "Logic (queries/rules/{}.sql, Polars SQL over the enriched tables):\n\n{}",
                    r.id,
                    sql.trim_end()
                )?,
                Logic::Rust(text) => writeln!(w, "Logic (in Rust): {text}")?,
            }
            let keys = if r.config_keys.is_empty() {
                "none".to_string()
            } else {
                r.config_keys.join(", ")
            };
            writeln!(w, "\nConfiguration read: {keys}")?;
            writeln!(w, "\nReferences:")?;
            for reference in r.references {
                writeln!(w, "- {reference}")?;
            }
        }
    }
    Ok(Exit::Clean)
}
