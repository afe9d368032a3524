//! `jitaudit ingest`: read every input into the normalized tables and write them as Parquet,
//! with `ingest-summary.json` saying what was read, used and rejected per file.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::IngestArgs;
use crate::exit::Exit;
use crate::output::Export;
use crate::output::load::{LoadAccount, print_errors};
use crate::pipeline::{Loaded, Need};
use crate::schema::INGEST_SUMMARY_FILE;
use crate::tables::EventColumns;

pub fn run(args: IngestArgs) -> Result<Exit> {
    let Loaded {
        mut tables,
        summary,
    } = super::load(&args.input, Need::All, true, EventColumns::All)?;
    tables.write_parquet(&args.out)?;
    let path = args.out.join(INGEST_SUMMARY_FILE);
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    LoadAccount(&summary).export(&mut out)?;
    writeln!(
        out,
        "wrote {} tables and {}",
        crate::schema::ALL_TABLES.len(),
        path.display()
    )?;
    print_errors(&summary);
    Ok(summary.exit())
}
