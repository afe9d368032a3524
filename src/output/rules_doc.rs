//! `docs/rules.md`, written from the catalogue (that is, from the rule folders): a test holds
//! the committed file to what this writes, so the documentation cannot fall behind a rule.

use std::fmt::Write as _;

use crate::catalogue::{Logic, RULES};
use crate::schema::RULE_INPUTS;

/// The text of `docs/rules.md`.
pub fn markdown() -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# Rules\n\n\
         <!-- Generated from queries/rules/<ID>/ by src/output/rules_doc.rs; a test checks it. \
         Regenerate with: JITAUDIT_BLESS=1 cargo test rules_doc -->\n\n\
         Each rule is a folder `queries/rules/<ID>/`: `rule.toml` (id, version, severity, title, \
         what it finds,\nrationale, recommendation, configuration keys, references, posture, \
         logic), `rule.sql` where the\nlogic is Polars SQL over the enriched tables, and \
         `positive.json` and `negative.json`, samples it\nmust and must not fire on (judged with \
         `queries/rules/jitaudit.toml` by one test). `build.rs` compiles\nthe folders into the \
         binary. Posture rules judge the inventory snapshot; activity rules judge\nthe requests \
         and events in the window. `jitaudit rules explain ID` prints a rule in full.\n\n\
         | id | severity | kind | what it finds |\n|---|---|---|---|"
    );
    for r in RULES {
        let _ = writeln!(
            m,
            "| [{id}](#{anchor}) | {} | {} | {} |",
            r.severity,
            kind(r.posture),
            r.finds,
            id = r.id,
            anchor = r.id.to_ascii_lowercase(),
        );
    }
    for r in RULES {
        let _ = writeln!(m, "\n## {}\n\n**{}**\n", r.id, r.title);
        let _ = writeln!(
            m,
            "Severity {}, {} rule, version {}; files in [`{folder}/`](../{folder}/).\n",
            r.severity,
            kind(r.posture),
            r.version,
            folder = r.folder
        );
        let _ = writeln!(
            m,
            "Why: {}\n\nWhat to do: {}\n",
            r.rationale, r.recommendation
        );
        match r.logic {
            Logic::Sql(sql) => {
                let inputs: Vec<&str> = RULE_INPUTS
                    .iter()
                    .filter(|i| names_table(sql, i.name))
                    .map(|i| i.name)
                    .collect();
                let _ = writeln!(
                    m,
                    "Logic: Polars SQL, [`rule.sql`](../{}/rule.sql), over {}.\n",
                    r.folder,
                    inputs
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Logic::Builtin(_, text) => {
                let _ = writeln!(m, "Logic, in Rust (`src/rules/stateful.rs`): {text}\n");
            }
        }
        let keys = if r.config_keys.is_empty() {
            "none".to_string()
        } else {
            r.config_keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(m, "Configuration read: {keys}.\n\nReferences:\n");
        for reference in r.references {
            let _ = writeln!(m, "- {reference}");
        }
    }
    m
}

fn kind(posture: bool) -> &'static str {
    if posture { "posture" } else { "activity" }
}

/// Whether `sql` reads the table `name` (as a whole word, in any case).
pub fn names_table(sql: &str, name: &str) -> bool {
    sql.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// `docs/rules.md` is what the rule folders say; `JITAUDIT_BLESS=1` rewrites it.
    #[test]
    fn rules_doc_is_generated_from_the_rule_folders() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
        let text = super::markdown();
        if std::env::var_os("JITAUDIT_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "docs/rules.md is not what the rule folders give; run JITAUDIT_BLESS=1 cargo test rules_doc"
        );
    }
}
