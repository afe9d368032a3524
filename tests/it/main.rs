//! jitaudit's integration tests, one binary (one link step matters with polars): a module per
//! subcommand, plus the format fixtures and the fuzzing of every parser.

mod arm;
mod caller;
mod collect;
mod fuzz;
mod golden;
mod ingest;
mod prefilter;
mod query;
mod report;
mod sample;
mod scan;
mod util;
