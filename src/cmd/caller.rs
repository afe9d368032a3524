//! `jitaudit caller ID`: everything one caller did, in time order, for a SOC analyst.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result, bail};
use polars::prelude::{Column, DataFrame};

use crate::cli::{CallerArgs, OutputFormat};
use crate::config::Config;
use crate::exit::Exit;
use crate::investigate::{self, Investigation};
use crate::normalize::format_time;
use crate::output::{caller_html, caller_json, frame};
use crate::rules;
use crate::sources::EventColumns;
use crate::sources::inputs;
use crate::sources::load::{self, LoadOptions, Loaded};
use crate::sources::prefilter::Need;
use crate::tables;
use crate::window::{self, Window};

pub fn run(args: CallerArgs) -> Result<Exit> {
    let config = Config::load(args.config.as_deref())?;
    let window = Window::from_args(&args.window)?;
    // A pipe can be read only once: then every record is read, in one pass.
    let once = !inputs::rereadable(&args.input.paths);
    let loaded = if once {
        super::ingest::load_hashing(&args.input, Need::All, false)?
    } else {
        load(&args.input, &args.id)?
    };
    super::ingest::print_errors(&loaded.summary);
    super::ingest::print_rejections(&loaded.summary);
    let known = investigate::known_identities(&loaded.tables)?;
    if !known.contains(&args.id.to_ascii_lowercase()) {
        // The prefilter kept only JIT records and this caller's: suggest from everyone.
        let everyone = if once {
            loaded
        } else {
            super::ingest::load_for(&args.input, Need::All)?
        };
        let known = investigate::known_identities(&everyone.tables)?;
        let near = investigate::closest(&args.id, &known, 5);
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
    let inv = investigate::investigate(&loaded.tables, &args.id, &window, &outcome.findings)?;
    let window_text = describe(&window);
    if let Some(path) = &args.html {
        let html = caller_html::render(&inv, &window_text)?;
        std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))?;
    }
    // Standard output is line-buffered: a long timeline would be one write per line.
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        OutputFormat::Table => {
            write_header(&mut w, &inv)?;
            frame::write_table(&mut w, &timeline_frame(&inv)?, frame::terminal_width())?;
        }
        OutputFormat::Csv => frame::write_csv(&mut w, &timeline_frame(&inv)?)?,
        OutputFormat::Json => caller_json::write(&mut w, &inv)?,
    }
    w.flush()?;
    Ok(if loaded.summary.errors.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    })
}

/// Loads the JIT records and every record that names the caller. A record can name the
/// identity by another of its names (a user's object id where the UPN was given). The names
/// its first records show are looked up before the full read, which keeps the records of all
/// of them; when the records read pair the caller with still other names, the inputs are read
/// again for those.
fn load(input: &crate::cli::InputArgs, id: &str) -> Result<Loaded> {
    if input.no_prefilter {
        return super::ingest::load_hashing(input, Need::All, false);
    }
    let names = early_names(input, id)?;
    // The view cites no file hashes (reports do), so no read takes them; and of the records
    // other than JIT policy and NSG ones it shows a few columns, so only those are filled.
    let lean = EventColumns::lean(investigate::ACTIVITY_COLUMNS);
    let mut first =
        super::ingest::load_columns(input, Need::JitAnd(names.clone()), false, lean.clone())?;
    let others: Vec<String> = investigate::aliases(&first.tables, id)?
        .into_iter()
        .filter(|n| !names.iter().any(|m| m.eq_ignore_ascii_case(n)))
        .collect();
    if others.is_empty() {
        tables::drop_not_kept(&mut first.tables.events)?;
        return Ok(first);
    }
    // The second read parses only the records that name another of the names and that the
    // first read passed over; it adds events (none of them JIT records) and nothing else.
    let second = load::load(
        &input.paths,
        LoadOptions {
            strict: input.strict,
            skip_unknown: input.skip_unknown,
            progress: std::io::stderr().is_terminal(),
            need: Need::NewFor {
                names: others,
                already: names,
            },
            hash: false,
            events: lean,
        },
    )?;
    let t = &mut first.tables;
    tables::stack(&mut t.events, &second.tables.events)?;
    t.events = tables::dedupe(std::mem::take(&mut t.events), load::EVENT_KEY)?.0;
    Ok(first)
}

/// `id` and the other names the caller goes by in the first records that name it: input files
/// are read whole (with the prefilter) until one has such a record, within a sixteenth of the
/// input's bytes. Found here, those names spare a second read of the whole input; a name this
/// misses, the second read finds.
fn early_names(input: &crate::cli::InputArgs, id: &str) -> Result<Vec<String>> {
    let files = inputs::input_files(&input.paths)?;
    let mut budget = files.iter().map(|(_, size)| size).sum::<u64>() / 16;
    let lower = id.to_ascii_lowercase();
    for (path, size) in files {
        if size > budget {
            break;
        }
        budget -= size;
        // Errors are the full read's to report.
        let Ok(some) = load::load(
            &[path],
            LoadOptions {
                need: Need::JitAnd(vec![id.to_string()]),
                hash: false,
                ..LoadOptions::default()
            },
        ) else {
            continue;
        };
        let (aliases, seen) = investigate::aliases_seen(&some.tables, id)?;
        if seen {
            let mut names = vec![id.to_string()];
            names.extend(aliases.into_iter().filter(|n| *n != lower));
            return Ok(names);
        }
    }
    Ok(vec![id.to_string()])
}

fn describe(w: &Window) -> String {
    match (w.from, w.to) {
        (None, None) => "all input".to_string(),
        (f, t) => format!(
            "{} to {}",
            f.map(format_time).unwrap_or_else(|| "the start".into()),
            t.map(format_time).unwrap_or_else(|| "the end".into())
        ),
    }
}

fn write_header(w: &mut impl Write, inv: &Investigation) -> Result<()> {
    let s = &inv.summary;
    writeln!(w, "caller:          {}", s.caller)?;
    writeln!(w, "identities:      {}", s.identities.join(", "))?;
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
            s.vms.join(", ")
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
    writeln!(w, "source addresses:")?;
    for a in &s.sources {
        writeln!(
            w,
            "  {:<18} {:>4} records  {} .. {}",
            a.address, a.count, a.first_seen, a.last_seen
        )?;
    }
    writeln!(w)?;
    Ok(())
}

fn timeline_frame(inv: &Investigation) -> Result<DataFrame> {
    let col = |name: &str, f: &dyn Fn(&investigate::Entry) -> String| {
        Column::new(
            name.into(),
            inv.timeline.iter().map(f).collect::<Vec<String>>(),
        )
    };
    let columns = vec![
        col("time_utc", &|e| e.time_utc.clone()),
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
