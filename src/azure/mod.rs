//! Live collection from Azure Resource Manager, Resource Graph, and the query engines that
//! keep the Activity Log (Log Analytics, Data Explorer): the only async code in jitaudit. It
//! writes a snapshot directory of raw answers plus `manifest.json`; every other command reads
//! that directory like any other input.

pub mod auth;
pub mod cloud;
pub mod collect;
mod estate;
pub mod http;
pub mod kql;
pub mod live;
mod logs;
pub mod manifest;
pub mod plan;
mod run;
