//! One module per subcommand, each with `run(args) -> Result<Exit>`. A command reads its
//! inputs through [`load`] (the loading layer, [`crate::pipeline`]), runs what it needs of the
//! layers below and hands the result to a writer in [`crate::output`]; no command calls
//! another.

pub mod caller;
pub mod collect;
pub mod ingest;
pub mod queries;
pub mod query;
pub mod report;
pub mod rules;
pub mod sample;
pub mod scan;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::cli::{InputArgs, WindowArgs};
use crate::config::Config;
use crate::pipeline::{self, LoadOptions, Loaded, Need};
use crate::rules::{Outcome, stateful::Baseline};
use crate::tables::EventColumns;
use crate::window::{self, Window};

/// Loads the inputs a command was given, for what it needs of the Activity Log (every record
/// under `--no-prefilter`), hashing each file when `hash`, filling `events` columns of `events`.
fn load(input: &InputArgs, need: Need, hash: bool, events: EventColumns) -> Result<Loaded> {
    if input.paths.is_empty() {
        anyhow::bail!("no input: name at least one file or directory");
    }
    pipeline::load(&input.paths, options(input, need, hash, events))
}

/// The options of a load of `input` (see [`load`]).
fn options(input: &InputArgs, need: Need, hash: bool, events: EventColumns) -> LoadOptions {
    LoadOptions {
        strict: input.strict,
        skip_unknown: input.skip_unknown,
        progress: std::io::stderr().is_terminal(),
        need: if input.no_prefilter { Need::All } else { need },
        hash,
        events,
        max_document: input.max_document_size,
        redact: !input.no_redact,
        quiet: false,
        names_only: false,
    }
}

/// What `scan` and `report` share: the inputs read for JIT (with every file's hash, which the
/// evidence cites), and the rules run over them for the window.
struct Judged {
    config: Config,
    window: Window,
    loaded: Loaded,
    /// The run's clock (`SOURCE_DATE_EPOCH` pins it): suppressions expire by it.
    now: DateTime<Utc>,
    outcome: Outcome,
}

/// Loads the inputs and runs the rules, with the configuration at `config` (or the default
/// one), the window the flags ask for, and the baseline `--state` keeps in `state`.
fn judge(
    input: &InputArgs,
    config: Option<&Path>,
    window: &WindowArgs,
    state: Option<&Path>,
) -> Result<Judged> {
    let config = Config::load(config)?;
    let window = window.window()?;
    let loaded = load(input, Need::Jit, true, EventColumns::All)?;
    let baseline = state.map(Baseline::read).transpose()?.flatten();
    let now = window::now()?;
    let outcome = crate::rules::run(
        &loaded.tables,
        &config,
        &window,
        now.date_naive(),
        baseline.as_ref(),
    )?;
    Ok(Judged {
        config,
        window,
        loaded,
        now,
        outcome,
    })
}
