//! Data quality at a glance: the input files added up by source folder and format, however
//! many there are (a week of one subscription's diagnostic export is 168 files).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub format: String,
    pub sha256: String,
    pub bytes: u64,
    pub records_read: u64,
    pub records_used: u64,
    pub records_rejected: u64,
    /// Passed over unparsed by the prefilter (cannot concern JIT), counted in activity_hours.
    pub records_skipped: u64,
    pub rejections: Vec<String>,
}

/// The inputs of one source folder and format, added up: data quality at a glance, however
/// many files (a week of one subscription's diagnostic export is 168 of them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceGroup {
    /// The folder the files are under: their directory, or for the partitioned layout a
    /// diagnostic setting writes (`.../resourceId=/SUBSCRIPTIONS/.../y=2026/m=11/...`) the
    /// folder above the first `key=value` part.
    pub folder: String,
    pub format: String,
    pub files: u64,
    pub bytes: u64,
    pub records_read: u64,
    pub records_used: u64,
    pub records_rejected: u64,
    pub records_skipped: u64,
    /// Files with a rejected record or that could not be read.
    pub files_with_problems: u64,
}

impl InputFile {
    /// A file the data-quality section lists on its own: it lost records or was not read.
    pub fn has_problems(&self) -> bool {
        self.records_rejected > 0 || self.format == "unreadable"
    }
}

/// The folder `path` is grouped under (see [`SourceGroup::folder`]).
fn source_folder(path: &str) -> String {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    let cut = match parts.iter().position(|p| p.contains('=')) {
        Some(i) => i,
        None => parts.len().saturating_sub(1),
    };
    match parts[..cut].join("/") {
        folder if folder.is_empty() => ".".to_string(),
        folder => folder,
    }
}

/// The inputs grouped by source folder and format, in the order their groups first appear.
pub fn source_groups(inputs: &[InputFile]) -> Vec<SourceGroup> {
    let mut groups: Vec<SourceGroup> = Vec::new();
    let mut index: std::collections::HashMap<(String, String), usize> = Default::default();
    for f in inputs {
        let key = (source_folder(&f.path), f.format.clone());
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(SourceGroup {
                folder: key.0,
                format: key.1,
                ..SourceGroup::default()
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.files += 1;
        g.bytes += f.bytes;
        g.records_read += f.records_read;
        g.records_used += f.records_used;
        g.records_rejected += f.records_rejected;
        g.records_skipped += f.records_skipped;
        g.files_with_problems += u64::from(f.has_problems());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, format: &str, rejected: u64) -> InputFile {
        InputFile {
            path: path.into(),
            format: format.into(),
            sha256: String::new(),
            bytes: 10,
            records_read: 5 + rejected,
            records_used: 5,
            records_rejected: rejected,
            records_skipped: 0,
            rejections: Vec::new(),
        }
    }

    /// A diagnostic setting's partitioned blobs are one source; other files group by folder
    /// and format, and only files that lost records count as having problems.
    #[test]
    fn inputs_group_by_source_folder_and_format() {
        let blob = |h: u32| {
            format!(
                "logs/insights-activity-logs/resourceId=/SUBSCRIPTIONS/S/y=2026/m=11/d=02/h={h:02}/m=00/PT1H.json"
            )
        };
        let inputs = vec![
            file(&blob(1), "activity-json-lines", 0),
            file("arm/vms.json", "virtual-machines", 0),
            file(&blob(2), "activity-json-lines", 2),
            file("arm/nics.json", "network-interfaces", 0),
            file("export.json", "unreadable", 0),
        ];
        let groups = source_groups(&inputs);
        let seen: Vec<(&str, &str, u64, u64, u64)> = (groups.iter())
            .map(|g| {
                (
                    &*g.folder,
                    &*g.format,
                    g.files,
                    g.records_rejected,
                    g.files_with_problems,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "logs/insights-activity-logs",
                    "activity-json-lines",
                    2,
                    2,
                    1
                ),
                ("arm", "virtual-machines", 1, 0, 0),
                ("arm", "network-interfaces", 1, 0, 0),
                (".", "unreadable", 1, 0, 1),
            ]
        );
    }
}
