//! What the inputs named on the command line hold: the files to read (directories walked
//! recursively, in name order), the directories `ingest` wrote, and what is passed over
//! beside the data (documentation, configuration, run metadata, incomplete downloads).

use std::path::{Path, PathBuf};

use super::{FileError, IngestSummary, Skipped};
use crate::schema::INGEST_SUMMARY_FILE;

/// Names that are documentation or metadata beside the data, never data themselves.
fn is_beside_data(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.starts_with('.') {
        return Some("hidden file");
    }
    if name.ends_with(".superseded") {
        return Some(
            "partial query answer, asked again in smaller chunks (collect's manifest.json lists both)",
        );
    }
    if name.ends_with(".part") {
        return Some("incomplete download (collect renames a page once it is whole)");
    }
    if name.ends_with(".md") || name.ends_with(".txt") || name == "license" {
        return Some("documentation");
    }
    if name.ends_with(".toml") {
        return Some("configuration");
    }
    if name == "manifest.json" || name == INGEST_SUMMARY_FILE {
        return Some("run metadata");
    }
    None
}

/// A warning when `path` is a `collect` manifest whose run did not get everything.
fn snapshot_warning(path: &Path) -> Option<String> {
    use crate::azure::manifest::{KindStatus, Manifest, RunStatus};
    let m: Manifest = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let dir = path.parent().unwrap_or(path).display();
    let mut gaps = Vec::new();
    for s in &m.subscriptions {
        for (kind, k) in &s.kinds {
            if k.status != KindStatus::Ok {
                gaps.push(format!("{} {kind}", s.id));
            }
        }
        if s.kinds.is_empty() && !s.errors.is_empty() {
            gaps.push(s.id.clone());
        }
    }
    for (name, entry) in [
        ("management groups", &m.management_groups),
        ("resource graph", &m.resource_graph),
    ] {
        if entry.as_ref().is_some_and(|k| k.status != KindStatus::Ok) {
            gaps.push(name.to_string());
        }
    }
    if let Some(logs) = &m.logs {
        use crate::azure::manifest::ChunkStatus;
        for c in logs
            .chunks
            .iter()
            .filter(|c| !matches!(c.status, ChunkStatus::Ok | ChunkStatus::Split))
        {
            let how = match c.status {
                ChunkStatus::Partial => "partial",
                ChunkStatus::Skipped => "not sent",
                _ => "failed",
            };
            gaps.push(format!(
                "{} {} log {} to {} ({how})",
                logs.engine, c.target, c.from, c.to
            ));
        }
    }
    let listed = gaps.len();
    gaps.truncate(8);
    let more = if listed > gaps.len() {
        format!(" and {} more", listed - gaps.len())
    } else {
        String::new()
    };
    match m.status {
        RunStatus::Complete => None,
        RunStatus::Running => Some(format!(
            "{dir}: the collect run that wrote this snapshot did not finish (manifest status \"running\"); missing or incomplete: {}{more}",
            if gaps.is_empty() {
                "unknown".to_string()
            } else {
                gaps.join(", ")
            }
        )),
        RunStatus::Partial | RunStatus::Failed => Some(format!(
            "{dir}: collect got only part of what it was asked for (manifest status \"{}\"); failed: {}{more}",
            if m.status == RunStatus::Partial {
                "partial"
            } else {
                "failed"
            },
            gaps.join(", ")
        )),
    }
}

/// One unit of input: a raw file, or a directory of tables `ingest` wrote.
#[derive(Debug, Clone)]
pub(super) enum Input {
    File(PathBuf),
    Ingested(PathBuf),
}

/// The inputs under `paths`, in order. A path that cannot be read is recorded in `summary.errors`
/// and the rest are still read; links are followed (a link back to a folder being walked is
/// passed over, said so), and what is not a regular file (a FIFO, a socket, a device) is listed
/// as skipped with why. A path named on the command line can be a pipe: read as it comes.
pub(super) fn collect_inputs(paths: &[PathBuf], summary: &mut IngestSummary) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                summary.errors.push(FileError {
                    path: path.display().to_string(),
                    error: format!("cannot read input: {e}"),
                });
                continue;
            }
        };
        // A named file, or a pipe or device named on the command line (`/dev/stdin`,
        // `<(zcat export.gz)`): read once, as it comes.
        if !meta.is_dir() {
            inputs.push(Input::File(path.clone()));
            continue;
        }
        let mut walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walker.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let at = e.path().unwrap_or(path).display().to_string();
                    match e.loop_ancestor() {
                        Some(ancestor) => summary.skipped.push(Skipped {
                            path: at,
                            reason: format!(
                                "a link back to {}, which is being read: not read twice",
                                ancestor.display()
                            ),
                        }),
                        None => summary.errors.push(FileError {
                            path: at,
                            error: format!(
                                "cannot read: {}",
                                e.io_error()
                                    .map(|io| io.to_string())
                                    .unwrap_or(e.to_string())
                            ),
                        }),
                    }
                    continue;
                }
            };
            let p = entry.path();
            if entry.file_type().is_dir() {
                if p.join(INGEST_SUMMARY_FILE).is_file() {
                    inputs.push(Input::Ingested(p.to_path_buf()));
                    walker.skip_current_dir();
                }
                continue;
            }
            if !entry.file_type().is_file() {
                summary.skipped.push(Skipped {
                    path: p.display().to_string(),
                    reason:
                        "not a regular file (a FIFO, socket or device inside a folder): not read"
                            .to_string(),
                });
                continue;
            }
            if p.file_name()
                .is_some_and(|n| n == crate::azure::manifest::MANIFEST_FILE)
                && let Some(warning) = snapshot_warning(p)
            {
                summary.warnings.push(warning);
            }
            match is_beside_data(p) {
                Some(reason) => summary.skipped.push(Skipped {
                    path: p.display().to_string(),
                    reason: reason.to_string(),
                }),
                None => inputs.push(Input::File(p.to_path_buf())),
            }
        }
    }
    inputs
}

/// The inputs under the paths, listed once for every read of them (`caller` reads them two or
/// three times: walking 2,000 folders of hourly blobs took 15-25 ms a time).
#[derive(Debug, Clone)]
pub(super) struct Listed {
    pub inputs: Vec<Input>,
    /// Each input's size in bytes (0 for a directory `ingest` wrote, or when it cannot be
    /// read).
    pub sizes: Vec<u64>,
    /// What the listing found to say: the paths that cannot be read, what is passed over.
    pub summary: IngestSummary,
}

pub(super) fn list(paths: &[PathBuf]) -> Listed {
    let mut summary = IngestSummary::default();
    let inputs = collect_inputs(paths, &mut summary);
    let sizes = (inputs.iter())
        .map(|i| match i {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Ingested(_) => 0,
        })
        .collect();
    Listed {
        inputs,
        sizes,
        summary,
    }
}

impl Listed {
    /// The files among the inputs that `load` would parse (not the tables `ingest` wrote), in
    /// the order it reads them, with their sizes in bytes.
    pub fn files(&self) -> impl Iterator<Item = (&Path, u64)> {
        (self.inputs.iter().zip(&self.sizes)).filter_map(|(i, size)| match i {
            Input::File(p) => Some((p.as_path(), *size)),
            Input::Ingested(_) => None,
        })
    }
}

/// Whether every input can be read twice: no pipe or device among them (a command that reads
/// its inputs twice reads these once, whole).
pub fn rereadable(paths: &[PathBuf]) -> bool {
    paths
        .iter()
        .all(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() || m.is_dir()))
}

/// The inputs in groups of up to `size` files read whole, in order; a file read in windows is
/// a group of its own. Grouped with three others, each of 24 files of 62 MB had its reading
/// thread a window ahead while the group's other files were parsed: 419 MB for `report`
/// instead of about 100.
pub(super) fn groups<'a>(inputs: &'a [Input], sizes: &[u64], size: usize) -> Vec<&'a [Input]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for (i, bytes) in sizes.iter().enumerate() {
        let windowed = *bytes > super::reader::WINDOW as u64;
        if windowed && start < i {
            groups.push(&inputs[start..i]);
            start = i;
        }
        if windowed || i + 1 - start == size {
            groups.push(&inputs[start..=i]);
            start = i + 1;
        }
    }
    if start < inputs.len() {
        groups.push(&inputs[start..]);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_in_windows_are_grouped_alone() {
        let inputs: Vec<Input> = (0..7)
            .map(|i| Input::File(PathBuf::from(i.to_string())))
            .collect();
        let big = super::super::reader::WINDOW as u64 + 1;
        let sizes = [1, big, 1, 1, 1, 1, big];
        let lens: Vec<usize> = groups(&inputs, &sizes, 2).iter().map(|g| g.len()).collect();
        assert_eq!(lens, [1, 1, 2, 2, 1]);
        let lens: Vec<usize> = groups(&inputs, &[1; 7], 4)
            .iter()
            .map(|g| g.len())
            .collect();
        assert_eq!(lens, [4, 3]);
        assert!(groups(&[], &[], 4).is_empty());
    }
}
