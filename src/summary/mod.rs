//! What the writers show, computed from the tables and the rules' outcome: the weekly
//! report's summary ([`report`]) and one caller's timeline ([`caller`]). Pure: no files, no
//! formatting beyond the text a cell holds.

pub mod attention;
pub mod caller;
pub mod history;
pub mod report;
pub mod rights;
pub mod sources;
pub mod timeline;
