//! jitaudit's integration tests, one binary (one link step matters with polars): a module per
//! subcommand, the format fixtures, the golden outputs of the sample tenant and the check of
//! the house plan. Tests of one module's internals sit beside it in `src/`.

mod architecture;
mod arm;
mod caller;
mod collect;
mod engines;
mod golden;
mod hostile;
mod ingest;
mod layouts;
mod logs;
mod prefilter;
mod query;
mod report;
mod sample;
mod scan;
mod util;
