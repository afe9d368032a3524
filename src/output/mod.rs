//! Turning findings into bytes: one small writer per format.

pub mod findings;
pub mod frame;
