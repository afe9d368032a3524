//! jitaudit's library: sources, normalization, tables, derived tables and commands. Data flows
//! one way: `sources` read files into `tables` (named by `schema`), `derive` completes them,
//! the commands in `cmd` write the outputs.

pub mod azure;
pub mod bytes;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod derive;
pub mod exit;
pub mod investigate;
pub mod normalize;
pub mod output;
pub mod queries;
pub mod report;
pub mod rules;
pub mod sample;
pub mod schema;
pub mod sources;
pub mod sql;
pub mod state;
pub mod tables;
pub mod window;
