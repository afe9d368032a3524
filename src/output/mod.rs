//! Turning findings into bytes: one small writer per format.

pub mod caller_html;
pub mod caller_json;
pub mod charts;
pub mod findings;
pub mod frame;
