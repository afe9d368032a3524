//! What `collect` asks Resource Manager for: the settings, the resource kinds with their list
//! paths and the permission each needs, the Activity Log's day-sized windows and `$filter`,
//! and the checks that need no network. No I/O here.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};

use super::auth::AuthMethod;
use super::cloud::Cloud;
use super::http::RetryPolicy;
use crate::normalize::is_guid;

/// How far back the Activity Log API reaches.
pub const ACTIVITY_LOG_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ActivityScope {
    /// Every event: the caller investigation needs them all.
    All,
    /// Only Microsoft.Security (JIT policy writes, deletes, initiates) and Microsoft.Network
    /// (NSG and security-rule changes) events, failures of those included.
    Jit,
}

/// Plain settings, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub out: PathBuf,
    pub subscriptions: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub activity: ActivityScope,
    pub cloud: Cloud,
    pub arm_endpoint: String,
    pub auth: AuthMethod,
    pub concurrency: usize,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub progress: bool,
    /// Where the Activity Log is read: the Activity Log API (none), or a query engine.
    pub logs: Option<LogSource>,
    /// Management groups whose subscriptions are collected (with those named).
    pub management_groups: Vec<String>,
    /// Subscriptions left out (lower case).
    pub exclude: Vec<String>,
    pub inventory: Inventory,
    /// Print the KQL before it is sent.
    pub show_query: bool,
    /// Expand the groups role assignments name through this Microsoft Graph endpoint.
    pub graph: Option<String>,
}

/// How VMs, NICs, NSGs and public IPs are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Inventory {
    /// One list per subscription and kind from Resource Manager.
    Arm,
    /// Azure Resource Graph, up to 1,000 subscriptions a request.
    ResourceGraph,
}

/// The engine that holds the Activity Log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A Log Analytics workspace's `AzureActivity` table, through the Log Analytics query API.
    LogAnalytics,
    /// A table (or function) of an Azure Data Explorer database, through its v2 query API.
    DataExplorer,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::LogAnalytics => "log-analytics",
            Engine::DataExplorer => "data-explorer",
        }
    }

    /// The read permission a 403 most likely lacks.
    pub fn permission(self) -> &'static str {
        match self {
            Engine::LogAnalytics => {
                "Log Analytics Reader on the workspace (Microsoft.OperationalInsights/workspaces/query/read)"
            }
            Engine::DataExplorer => "the Viewer role on the Data Explorer database",
        }
    }
}

/// A query engine and what to ask it.
#[derive(Debug, Clone)]
pub struct LogSource {
    pub engine: Engine,
    /// The Log Analytics endpoint, or the Data Explorer cluster URL.
    pub endpoint: String,
    pub token_scope: String,
    /// Workspace ids (Log Analytics) or the one database name (Data Explorer).
    pub targets: Vec<String>,
    /// The table (or function) queried.
    pub table: String,
    /// The first cut of the window; a chunk that comes back partial is halved.
    pub chunk: chrono::Duration,
    /// A chunk is not halved below this; still partial, it is kept and marked partial.
    pub min_chunk: chrono::Duration,
    /// Queries in flight at once (the services allow a few per user).
    pub concurrency: usize,
    /// Seconds one query may take (the services stop a query at 10 minutes).
    pub timeout: Duration,
}

/// How long a query may run on the service: Log Analytics and Data Explorer stop at 10 minutes.
pub const QUERY_SERVER_TIMEOUT_SECS: u64 = 600;

/// The resource kinds collected per subscription, in the manifest's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    JitPolicies,
    VirtualMachines,
    NetworkInterfaces,
    NetworkSecurityGroups,
    PublicIpAddresses,
    AzureFirewalls,
    RoleAssignments,
    RoleDefinitions,
    RoleEligibility,
    ActivityLog,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::JitPolicies,
        Kind::VirtualMachines,
        Kind::NetworkInterfaces,
        Kind::NetworkSecurityGroups,
        Kind::PublicIpAddresses,
        Kind::AzureFirewalls,
        Kind::RoleAssignments,
        Kind::RoleDefinitions,
        Kind::RoleEligibility,
        Kind::ActivityLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::JitPolicies => "jit-policies",
            Kind::VirtualMachines => "virtual-machines",
            Kind::NetworkInterfaces => "network-interfaces",
            Kind::NetworkSecurityGroups => "network-security-groups",
            Kind::PublicIpAddresses => "public-ip-addresses",
            Kind::AzureFirewalls => "azure-firewalls",
            Kind::RoleAssignments => "role-assignments",
            Kind::RoleDefinitions => "role-definitions",
            Kind::RoleEligibility => "role-eligibility",
            Kind::ActivityLog => "activity-log",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Kind::JitPolicies => "jit",
            Kind::VirtualMachines => "vms",
            Kind::NetworkInterfaces => "nics",
            Kind::NetworkSecurityGroups => "nsgs",
            Kind::PublicIpAddresses => "pips",
            Kind::AzureFirewalls => "fws",
            Kind::RoleAssignments => "roles",
            Kind::RoleDefinitions => "defs",
            Kind::RoleEligibility => "pim",
            Kind::ActivityLog => "activity",
        }
    }

    /// The read permission a 403 most likely lacks, and a built-in role that grants it.
    pub fn permission(self) -> &'static str {
        match self {
            Kind::JitPolicies => {
                "Microsoft.Security/locations/jitNetworkAccessPolicies/read (Security Reader)"
            }
            Kind::VirtualMachines => "Microsoft.Compute/virtualMachines/read (Reader)",
            Kind::NetworkInterfaces => "Microsoft.Network/networkInterfaces/read (Reader)",
            Kind::NetworkSecurityGroups => "Microsoft.Network/networkSecurityGroups/read (Reader)",
            Kind::PublicIpAddresses => "Microsoft.Network/publicIPAddresses/read (Reader)",
            Kind::AzureFirewalls => "Microsoft.Network/azureFirewalls/read (Reader)",
            Kind::RoleAssignments => "Microsoft.Authorization/roleAssignments/read (Reader)",
            Kind::RoleDefinitions => "Microsoft.Authorization/roleDefinitions/read (Reader)",
            Kind::RoleEligibility => {
                "Microsoft.Authorization/roleEligibilityScheduleInstances/read (Reader)"
            }
            Kind::ActivityLog => "Microsoft.Insights/eventtypes/values/read (Reader)",
        }
    }

    pub fn list_path(self, sub: &str) -> String {
        let (list, api_version) = self.list_under_subscription();
        format!("/subscriptions/{sub}/providers/{list}?api-version={api_version}")
    }

    /// What is listed under a subscription's `providers/`, and at which api-version.
    fn list_under_subscription(self) -> (&'static str, &'static str) {
        match self {
            Kind::JitPolicies => ("Microsoft.Security/jitNetworkAccessPolicies", "2020-01-01"),
            Kind::VirtualMachines => ("Microsoft.Compute/virtualMachines", "2024-07-01"),
            Kind::NetworkInterfaces => ("Microsoft.Network/networkInterfaces", "2023-09-01"),
            Kind::NetworkSecurityGroups => {
                ("Microsoft.Network/networkSecurityGroups", "2023-09-01")
            }
            Kind::PublicIpAddresses => ("Microsoft.Network/publicIPAddresses", "2023-09-01"),
            Kind::AzureFirewalls => ("Microsoft.Network/azureFirewalls", "2023-09-01"),
            // Assignments at, above (inherited) and below the subscription.
            Kind::RoleAssignments => ("Microsoft.Authorization/roleAssignments", "2022-04-01"),
            // Built-in and custom roles usable at the subscription.
            Kind::RoleDefinitions => ("Microsoft.Authorization/roleDefinitions", "2022-04-01"),
            Kind::RoleEligibility => (
                "Microsoft.Authorization/roleEligibilityScheduleInstances",
                "2020-10-01",
            ),
            Kind::ActivityLog => (
                "microsoft.insights/eventtypes/management/values",
                "2015-04-01",
            ),
        }
    }
}

pub const SUBSCRIPTIONS_LIST: &str = "/subscriptions?api-version=2022-12-01";
pub const SUBSCRIPTION_PERMISSION: &str = "Microsoft.Resources/subscriptions/read (Reader)";

/// Checks the settings that need no network, so a typo fails before sign-in.
pub fn validate(settings: &Settings, now: DateTime<Utc>) -> Result<()> {
    for id in &settings.subscriptions {
        if !is_guid(id) {
            bail!(
                "--subscription {id}: not a subscription id (a GUID such as 291bba3f-e0a5-47bc-a099-3bdcb2a50a05)"
            );
        }
    }
    if settings.from >= settings.to {
        bail!(
            "the window is empty: --from {} is not before --to {}",
            stamp(settings.from),
            stamp(settings.to)
        );
    }
    let oldest = now - chrono::Duration::days(ACTIVITY_LOG_DAYS);
    // A workspace or a cluster keeps what its retention says; only the Activity Log API stops
    // at 90 days.
    if settings.logs.is_none() && settings.from < oldest {
        bail!(
            "--from {}: the Activity Log API keeps only the last {ACTIVITY_LOG_DAYS} days (from {} on); older events are in an export, or in a Log Analytics workspace (--log-analytics) or Data Explorer (--adx) that keeps them",
            stamp(settings.from),
            stamp(oldest)
        );
    }
    if settings.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    for id in &settings.exclude {
        if !is_guid(id) {
            bail!("--exclude-subscription {id}: not a subscription id (a GUID)");
        }
    }
    for id in &settings.management_groups {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.()".contains(c))
        {
            bail!(
                "--management-group {id}: not a management group id (its name, such as a GUID or 'contoso-root', not its display name)"
            );
        }
    }
    if let Some(logs) = &settings.logs {
        validate_logs(logs)?;
    }
    if settings.out.exists() {
        let mut entries = std::fs::read_dir(&settings.out)
            .with_context(|| format!("--out {}: not a directory", settings.out.display()))?;
        if entries.next().is_some() {
            bail!(
                "--out {}: the directory is not empty; a snapshot goes into a new or empty directory so it holds only what this run received",
                settings.out.display()
            );
        }
    }
    Ok(())
}

fn validate_logs(logs: &LogSource) -> Result<()> {
    match logs.engine {
        Engine::LogAnalytics => {
            for id in &logs.targets {
                if !is_guid(id) {
                    bail!(
                        "--log-analytics {id}: not a workspace id (the GUID on the workspace's Overview page, not its name or resource id)"
                    );
                }
            }
        }
        Engine::DataExplorer => {
            if logs.targets.iter().any(|d| d.trim().is_empty()) {
                bail!("--adx-database: a database name is needed");
            }
        }
    }
    if logs.table.is_empty()
        || !logs
            .table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!(
            "--adx-table {}: a table or function name (letters, digits, _)",
            logs.table
        );
    }
    if logs.concurrency == 0 {
        bail!("--query-concurrency must be at least 1");
    }
    if logs.chunk < logs.min_chunk {
        bail!("--chunk-hours: a chunk of at least a minute");
    }
    Ok(())
}

/// `[from, to)` cut into chunks of `size`; the last one ends at `to`. Chunk bounds are
/// half-open in the KQL, so each row falls in exactly one.
pub fn chunks(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    size: chrono::Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + size).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// A chunk cut in two at its middle, to the millisecond; none when it is too short to cut.
pub fn halves(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    min: chrono::Duration,
) -> Option<[(DateTime<Utc>, DateTime<Utc>); 2]> {
    let ms = (end - start).num_milliseconds();
    if end - start < min * 2 || ms < 2 {
        return None;
    }
    let mid = start + chrono::Duration::milliseconds(ms / 2);
    Some([(start, mid), (mid, end)])
}

/// `[from, to]` cut into day-sized pieces. Each piece's end is the next one's start: the API
/// takes both bounds inclusively, so an event exactly on a boundary is fetched twice (the
/// loader merges the copy) rather than never.
pub fn day_windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + chrono::Duration::days(1)).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// The Activity Log `$filter` for one window (and provider, for `--activity jit`).
pub fn activity_filter(start: DateTime<Utc>, end: DateTime<Utc>, provider: Option<&str>) -> String {
    let mut f = format!(
        "eventTimestamp ge '{}' and eventTimestamp le '{}'",
        stamp(start),
        stamp(end)
    );
    if let Some(p) = provider {
        f.push_str(&format!(" and resourceProvider eq '{p}'"));
    }
    f
}

pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The resource group of an ARM id, lower-cased for de-duplication, with its original spelling.
pub fn resource_group(id: &str) -> Option<(String, String)> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts
                .next()
                .map(|rg| (rg.to_ascii_lowercase(), rg.to_string()));
        }
    }
    None
}

/// Percent-encodes a URL path segment or query value (a resource group name, a `$filter`):
/// everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A resource group name made safe as a file name.
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_are_day_sized_contiguous_and_end_at_to() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 3, 12, 0, 0).unwrap();
        let w = day_windows(from, to);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, from);
        assert_eq!(w[2].1, to);
        for pair in w.windows(2) {
            assert_eq!(pair[0].1, pair[1].0);
        }
        assert!(day_windows(to, from).is_empty());
    }

    #[test]
    fn chunks_tile_the_window_and_halves_stop_at_the_minimum() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 2, 12, 0, 0).unwrap();
        let c = chunks(from, to, chrono::Duration::days(1));
        assert_eq!(
            c,
            vec![
                (from, from + chrono::Duration::days(1)),
                (from + chrono::Duration::days(1), to)
            ]
        );
        let [a, b] = halves(from, to, chrono::Duration::minutes(1)).unwrap();
        assert_eq!(
            (a.0, a.1, b.0, b.1),
            (from, from + chrono::Duration::hours(18), a.1, to)
        );
        let short = from + chrono::Duration::seconds(90);
        assert!(halves(from, short, chrono::Duration::minutes(1)).is_none());
        assert!(
            halves(
                from,
                from + chrono::Duration::minutes(2),
                chrono::Duration::minutes(1)
            )
            .is_some()
        );
    }

    #[test]
    fn filter_follows_the_restricted_grammar() {
        let a = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        assert_eq!(
            activity_filter(a, b, None),
            "eventTimestamp ge '2026-11-01T00:00:00Z' and eventTimestamp le '2026-11-02T00:00:00Z'"
        );
        assert!(
            activity_filter(a, b, Some("Microsoft.Security"))
                .ends_with(" and resourceProvider eq 'Microsoft.Security'")
        );
        assert_eq!(percent_encode("a b'c"), "a%20b%27c");
    }

    #[test]
    fn resource_groups_come_from_ids_in_any_case() {
        assert_eq!(
            resource_group("/SUBSCRIPTIONS/x/RESOURCEGROUPS/Prod-RG/providers/a/b"),
            Some(("prod-rg".to_string(), "Prod-RG".to_string()))
        );
        assert_eq!(resource_group("/subscriptions/x"), None);
        assert_eq!(percent_encode("rg(1).a b"), "rg%281%29.a%20b");
    }

    #[test]
    fn subscription_ids_must_be_guids() {
        assert!(is_guid("291bba3f-e0a5-47bc-a099-3bdcb2a50a05"));
        assert!(!is_guid("291bba3f-e0a5-47bc-a099"));
        assert!(!is_guid("../../etc-e0a5-47bc-a099-3bdcb2a50a05"));
    }
}
