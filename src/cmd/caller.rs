//! `jitaudit caller ID`: everything one caller did, in time order, for a SOC analyst.

use std::io::IsTerminal;

use anyhow::{Result, bail};

use crate::cli::{CallerArgs, OutputFormat};
use crate::config::Config;
use crate::derive::identities::known_identities;
use crate::exit::Exit;
use crate::output::caller::{CallerCsv, CallerHtml, CallerJson, CallerTable};
use crate::output::load::{print_errors, print_rejections};
use crate::output::{self, Export, frame};
use crate::pipeline::{self, Need};
use crate::rules;
use crate::summary::caller::{closest, investigate};
use crate::tables::EventColumns;
use crate::window;

pub fn run(args: CallerArgs) -> Result<Exit> {
    let config = Config::load(args.config.as_deref())?;
    let window = args.window.window()?;
    // The JIT records and everything the caller did, by any of its names (see
    // `pipeline::caller`); no file hashes, which the view does not cite.
    let loaded = super::load(
        &args.input,
        Need::Caller(args.id.clone()),
        false,
        EventColumns::All,
    )?;
    print_errors(&loaded.summary);
    print_rejections(&loaded.summary);
    let known = known_identities(&loaded.tables)?;
    if !known.contains(&args.id.to_ascii_lowercase()) {
        // The prefilter kept only JIT records and this caller's: suggest from everyone.
        // A pipe, read once, was read whole.
        let everyone = if pipeline::inputs::rereadable(&args.input.paths) {
            super::load(&args.input, Need::All, false, EventColumns::All)?
        } else {
            loaded
        };
        let known = known_identities(&everyone.tables)?;
        let near = closest(&args.id, &known, 5);
        bail!(
            "no caller {} in the inputs; the closest known: {}",
            args.id,
            if near.is_empty() {
                "none (the inputs hold no callers)".to_string()
            } else {
                near.join(", ")
            }
        );
    }
    let outcome = rules::run(
        &loaded.tables,
        &config,
        &window,
        window::now()?.date_naive(),
        None,
    )?;
    let inv = investigate(&loaded.tables, &args.id, &window, &outcome.findings)?;
    if let Some(path) = &args.html {
        output::to_file(
            path,
            &CallerHtml {
                investigation: &inv,
                window: &window,
            },
        )?;
    }
    let table;
    let exporter: &dyn Export = match args.format {
        OutputFormat::Table => {
            table = CallerTable {
                investigation: &inv,
                // A terminal gets a line an event; a pipe, every column whole.
                width: std::io::stdout().is_terminal().then(frame::terminal_width),
            };
            &table
        }
        OutputFormat::Csv => &CallerCsv(&inv),
        OutputFormat::Json => &CallerJson(&inv),
    };
    output::to_stdout(exporter)?;
    Ok(loaded.summary.exit())
}
