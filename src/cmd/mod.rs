//! One module per subcommand, each with `run(args) -> Result<Exit>`.

pub mod ingest;
pub mod rules;
pub mod sample;
pub mod scan;
