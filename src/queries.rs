//! The saved query library: `queries/*.sql`, each opening with a comment header
//! (`-- title:`, `-- description:`, `-- param: name: meaning`). Embedded in the binary, so
//! `jitaudit queries` works anywhere; `query --file` reads a file from disk first.

/// A saved query and what its header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub name: &'static str,
    pub title: String,
    pub description: String,
    /// (name, meaning) of each `:name` parameter.
    pub params: Vec<(String, String)>,
    pub sql: &'static str,
}

/// Every file of `queries/` (a test keeps this list and the folder in step).
pub const SAVED: &[(&str, &str)] = &[
    (
        "activity_log_volume",
        include_str!("../queries/activity_log_volume.sql"),
    ),
    (
        "caller_activity",
        include_str!("../queries/caller_activity.sql"),
    ),
    (
        "daily_request_counts",
        include_str!("../queries/daily_request_counts.sql"),
    ),
    (
        "failed_requests",
        include_str!("../queries/failed_requests.sql"),
    ),
    (
        "findings_by_rule",
        include_str!("../queries/findings_by_rule.sql"),
    ),
    (
        "justification_review",
        include_str!("../queries/justification_review.sql"),
    ),
    (
        "longest_open_windows",
        include_str!("../queries/longest_open_windows.sql"),
    ),
    (
        "open_management_ports",
        include_str!("../queries/open_management_ports.sql"),
    ),
    (
        "policies_wide_open_sources",
        include_str!("../queries/policies_wide_open_sources.sql"),
    ),
    (
        "policy_changes",
        include_str!("../queries/policy_changes.sql"),
    ),
    (
        "requests_by_caller_week",
        include_str!("../queries/requests_by_caller_week.sql"),
    ),
    (
        "requests_outside_business_hours",
        include_str!("../queries/requests_outside_business_hours.sql"),
    ),
    (
        "requests_per_subscription",
        include_str!("../queries/requests_per_subscription.sql"),
    ),
    (
        "top_source_ips",
        include_str!("../queries/top_source_ips.sql"),
    ),
    (
        "vm_access_history",
        include_str!("../queries/vm_access_history.sql"),
    ),
    (
        "vms_without_jit",
        include_str!("../queries/vms_without_jit.sql"),
    ),
];

/// Reads a query's header.
pub fn parse(name: &'static str, sql: &'static str) -> SavedQuery {
    let mut q = SavedQuery {
        name,
        title: String::new(),
        description: String::new(),
        params: Vec::new(),
        sql,
    };
    for line in sql.lines().map_while(|l| l.trim().strip_prefix("--")) {
        let line = line.trim();
        if let Some(t) = line.strip_prefix("title:") {
            q.title = t.trim().to_string();
        } else if let Some(d) = line.strip_prefix("description:") {
            q.description = d.trim().to_string();
        } else if let Some(p) = line.strip_prefix("param:") {
            let (n, meaning) = p.split_once(':').unwrap_or((p, ""));
            q.params
                .push((n.trim().to_string(), meaning.trim().to_string()));
        }
    }
    q
}

pub fn all() -> Vec<SavedQuery> {
    SAVED.iter().map(|(n, s)| parse(n, s)).collect()
}

/// A saved query by name (with or without `.sql`).
pub fn find(name: &str) -> Option<SavedQuery> {
    let name = name.trim_end_matches(".sql");
    let name = name.rsplit('/').next().unwrap_or(name);
    all().into_iter().find(|q| q.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_queries_is_listed_and_documented() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".sql").map(str::to_string))
            .collect();
        files.sort();
        let listed: Vec<String> = SAVED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            files, listed,
            "src/queries.rs SAVED and queries/*.sql differ"
        );
        for q in all() {
            assert!(
                !q.title.is_empty() && !q.description.is_empty(),
                "{} lacks a title or description",
                q.name
            );
            for p in crate::sql::parameters(q.sql) {
                assert!(
                    q.params.iter().any(|(n, _)| *n == p),
                    "{} uses :{p} without a `-- param:` line",
                    q.name
                );
            }
        }
    }
}
