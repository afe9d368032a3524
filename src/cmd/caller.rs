//! `jitaudit caller ID`: everything one caller did, in time order, for a SOC analyst.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};

use crate::cli::{CallerArgs, OutputFormat};
use crate::config::Config;
use crate::derive::identities::known_identities;
use crate::exit::Exit;
use crate::output::caller::{CallerCsv, CallerHtml, CallerJson, CallerTable};
use crate::output::load::{print_errors, print_rejections};
use crate::output::{self, Export, frame};
use crate::pipeline::{self, Need};
use crate::rules;
use crate::schema;
use crate::summary::caller::{closest, draft};
use crate::tables::EventColumns;
use crate::window;

pub fn run(mut args: CallerArgs) -> Result<Exit> {
    let config = Config::load(args.config.as_deref())?;
    let window = args.window.window()?;
    // Live: the caller's records fetched from the query engine into a snapshot read below.
    let _fetched = match super::collect::log_source(&args.live.logs, args.live.cloud)? {
        Some(source) => {
            let fetched = fetch_live(&args, source, &window)?;
            args.input.paths.push(fetched.dir.clone());
            Some(fetched)
        }
        None => None,
    };
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
        // The prefilter kept only JIT records and this caller's: suggest from everyone, read
        // for the columns that name them alone, a row per name of each part read (every
        // column of every record held 5.7 GB over a 5 GB log, for a mistyped name; issue 26).
        // A pipe, read once, was read whole.
        let everyone = if pipeline::inputs::rereadable(&args.input.paths) {
            let names = EventColumns::only([schema::CALLER, schema::OBJECT_ID, schema::APP_ID]);
            let opts = super::options(&args.input, Need::All, false, names);
            let opts = pipeline::LoadOptions {
                names_only: true,
                ..opts
            };
            pipeline::load(&args.input.paths, opts)?
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
    // The rules and the caller's part of the tables, at once: neither needs the other.
    let today = window::now()?.date_naive();
    let (outcome, draft) = rayon::join(
        || rules::run(&loaded.tables, &config, &window, today, None),
        || draft(&loaded.tables, &args.id, &window),
    );
    let outcome = outcome?;
    let inv = draft?.finish(&outcome.findings)?;
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

/// How far back a live caller looks without --from/--last: the history a SOC analyst asks
/// for, which a workspace usually keeps.
const LIVE_DAYS: i64 = 180;

/// A live fetch's snapshot directory, deleted at the end unless --snapshot named it.
struct Fetched {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn fetch_live(
    args: &CallerArgs,
    source: crate::azure::plan::LogSource,
    window: &window::Window,
) -> Result<Fetched> {
    let now = window::now()?;
    let from = window
        .from
        .map(DateTime::<Utc>::from_timestamp_nanos)
        .unwrap_or(now - chrono::Duration::days(LIVE_DAYS));
    let to = window
        .to
        .map(DateTime::<Utc>::from_timestamp_nanos)
        .unwrap_or(now);
    let fetched = match &args.live.snapshot {
        Some(dir) => {
            if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
                bail!(
                    "--snapshot {}: the directory is not empty; a snapshot goes into a new or empty directory",
                    dir.display()
                );
            }
            Fetched {
                dir: dir.clone(),
                keep: true,
            }
        }
        None => Fetched {
            dir: std::env::temp_dir().join(format!(
                "jitaudit-caller-{}-{}",
                std::process::id(),
                Utc::now().timestamp_nanos_opt().unwrap_or_default()
            )),
            keep: false,
        },
    };
    let live = crate::azure::live::LiveCaller {
        id: args.id.clone(),
        source,
        auth: args.live.auth,
        cloud: args.live.cloud,
        from,
        to,
        out: fetched.dir.clone(),
        show_query: args.live.logs.show_query,
    };
    let manifest = super::collect::runtime()?
        .block_on(crate::azure::live::fetch(live))
        .context("fetching the caller's records")?;
    if let Some(l) = &manifest.logs {
        eprintln!(
            "fetched {} records from {} {} ({} to {}), for the names {}",
            l.rows,
            l.engine,
            l.targets.join(", "),
            manifest.window.from,
            manifest.window.to,
            l.caller_names.join(", ")
        );
    }
    Ok(fetched)
}
