//! Live collection from Azure Resource Manager: the only async code in jitaudit. It writes a
//! snapshot directory of raw list pages plus `manifest.json`; every other command reads that
//! directory like any other input.

pub mod auth;
pub mod cloud;
pub mod collect;
pub mod http;
pub mod manifest;
pub mod plan;
mod run;
