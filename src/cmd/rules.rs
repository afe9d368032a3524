//! `jitaudit rules`: the catalogue; `jitaudit rules explain ID`: one rule in full.

use std::io::Write;

use anyhow::{Result, bail};

use crate::cli::{RulesArgs, RulesCommand};
use crate::exit::Exit;
use crate::output::rules_doc::{self, names_table};
use crate::rules::catalogue::{Logic, RULES};
use crate::schema::RULE_INPUTS;

pub fn run(args: RulesArgs) -> Result<Exit> {
    let mut w = std::io::stdout().lock();
    if args.markdown && args.explain.is_some() {
        bail!("--markdown prints the whole catalogue; leave out `explain ID`");
    }
    if args.markdown {
        w.write_all(rules_doc::markdown().as_bytes())?;
        return Ok(Exit::Clean);
    }
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
                    "Logic ({}/rule.sql, Polars SQL over the enriched tables):\n\n{}",
                    r.folder,
                    sql.trim_end()
                )?,
                Logic::Builtin(_, text) => writeln!(w, "Logic (in Rust): {text}")?,
            }
            if let Logic::Sql(sql) = r.logic {
                writeln!(
                    w,
                    "\nTables read, with the columns Rust computes for the rules:"
                )?;
                for input in RULE_INPUTS.iter().filter(|i| names_table(sql, i.name)) {
                    let added: Vec<&str> = input.added.iter().map(|c| c.name).collect();
                    match input.base {
                        Some(base) => writeln!(
                            w,
                            "- {}: the {} table, and {}",
                            input.name,
                            base.name,
                            added.join(", ")
                        )?,
                        None => writeln!(w, "- {}: {}", input.name, added.join(", "))?,
                    }
                }
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
