//! The speed wing of `sources`: what makes reading a large diagnostic-settings export fast,
//! each beside the plain path it must agree with.
//!
//! - [`prefilter`]: skips JSON Lines records that cannot concern the command, counting them;
//!   its plain twin is parsing every line (`--no-prefilter`).
//! - [`line_scanner`] and [`record_line`]: read the usual diagnostic-settings line without
//!   building a JSON value; their plain twin is `serde_json` into
//!   [`super::activity::from_object`].
//! - [`string_masks`]: the quotes and backslashes of a line, a bit per byte, for the scanner;
//!   its plain twin is a byte-by-byte pass.
//! - [`words`]: finds the prefilter's words in any letter case by searching a lowered copy;
//!   its plain twin is a case-insensitive regex.

pub mod line_scanner;
pub mod prefilter;
pub mod record_line;
pub mod string_masks;
pub mod words;
