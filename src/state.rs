//! The `--state` directory: small JSON files a scheduled run reads at its start and replaces,
//! atomically, only after a run that read every input.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `dir/file` parsed as `what`, or `None` when this is the first run.
pub fn read<T: DeserializeOwned>(dir: &Path, file: &str, what: &str) -> Result<Option<T>> {
    let path = dir.join(file);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("{} is not a jitaudit {what}", path.display()))
}

/// Replaces `dir/file` with `value`: written beside it, then renamed over it, so an
/// interrupted run never leaves half a file.
pub fn write<T: Serialize>(dir: &Path, file: &str, value: &T) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(file);
    let tmp = dir.join(format!("{file}.tmp"));
    std::fs::write(&tmp, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))
}
