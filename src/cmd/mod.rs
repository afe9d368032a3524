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

use anyhow::Result;

use crate::cli::InputArgs;
use crate::pipeline::{self, LoadOptions, Loaded, Need};
use crate::tables::EventColumns;

/// Loads the inputs a command was given, for what it needs of the Activity Log (every record
/// under `--no-prefilter`), hashing each file when `hash`, filling `events` columns of `events`.
fn load(input: &InputArgs, need: Need, hash: bool, events: EventColumns) -> Result<Loaded> {
    pipeline::load(
        &input.paths,
        LoadOptions {
            strict: input.strict,
            skip_unknown: input.skip_unknown,
            progress: std::io::stderr().is_terminal(),
            need: if input.no_prefilter { Need::All } else { need },
            hash,
            events,
        },
    )
}
