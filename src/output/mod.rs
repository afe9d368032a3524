//! Turning findings into bytes: one small writer per format.

pub mod caller_html;
pub mod charts;
pub mod findings;
pub mod frame;
