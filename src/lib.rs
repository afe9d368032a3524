//! jitaudit's library. Data flows one way, and every module imports only from the layers below
//! it (`tests/it/architecture.rs` checks it; `docs/architecture.md` walks one record through):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | outputs | [`cmd`], `cli` | the commands: parse, load, run, write |
//! | | `output` | every writer, one `Export` shape |
//! | findings | `summary` | what the writers show: the report's summary, a caller's timeline |
//! | | `rules` | the catalogue run over the enriched tables: findings |
//! | | `enrich` | the columns and tables the rules read, computed in Rust |
//! | loading | `pipeline` | inputs to tables: walk, open, hash, parse on every core, stack, de-duplicate, derive |
//! | | `derive` | tables made from other tables: the request ledger, the VM inventory |
//! | sources | `sources`, `azure`, `sample` | bytes to rows, one module per export shape; the Azure clients; the sample tenant |
//! | tables | `tables`, `config`, [`queries`] | the frames and their builders; `jitaudit.toml`; the saved queries |
//! | contract | `schema`, [`catalogue`], `sql`, `state`, `window` | tables and columns; the rules; the SQL engine; `--state`; the time window |
//! | base | `normalize`, `bytes`, `severity`, `secrets`, [`exit`], [`terminal`] | ids, times, bytes; the severity scale; credentials masked; exit codes; input text made safe for a terminal |
//!
//! Only what the binary and the integration tests use is public.

pub(crate) mod azure;
pub(crate) mod bytes;
pub mod catalogue;
pub mod cli;
pub mod cmd;
pub(crate) mod config;
pub(crate) mod derive;
pub(crate) mod enrich;
pub mod exit;
pub(crate) mod normalize;
pub(crate) mod output;
pub(crate) mod pipeline;
pub mod queries;
pub(crate) mod rules;
pub(crate) mod sample;
pub(crate) mod schema;
pub(crate) mod secrets;
pub mod severity;
pub(crate) mod sources;
pub(crate) mod sql;
pub(crate) mod state;
pub(crate) mod summary;
pub(crate) mod tables;
pub mod terminal;
pub(crate) mod window;
