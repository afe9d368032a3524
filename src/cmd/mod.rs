//! One module per subcommand, each with `run(args) -> Result<Exit>`.

pub mod caller;
pub mod collect;
pub mod ingest;
pub mod queries;
pub mod query;
pub mod report;
pub mod rules;
pub mod sample;
pub mod scan;
