//! Sources: bytes to rows, and nothing else. Every shape Azure writes JIT evidence in is read
//! into the canonical tables' rows.
//!
//! A file's format is found from its content ([`detect`]), never its name. The general path
//! reads each shape with `serde_json` or `csv`: [`activity`] (every Activity Log shape: REST,
//! diagnostic settings, Event Hubs, Log Analytics), [`arm`] (JIT policies and the inventory
//! Resource Manager lists), [`csv_sources`] (Log Analytics and portal CSV); [`event_row`] writes
//! an event's row. Each parser writes rows into a [`Batch`] and counts what it read, used and
//! rejected in a [`FileReport`]. [`fast`] is the speed wing for large JSON Lines exports, beside
//! the general path it must agree with. Walking the inputs, reading files and putting the
//! tables together is the loading layer's (`crate::pipeline`).

pub mod activity;
pub mod arm;
pub mod csv_sources;
pub mod detect;
pub mod display_names;
pub mod event_row;
pub mod fast;
#[cfg(test)]
mod fuzz;
pub mod json;
pub mod rbac;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::{Column, DataType, PlSmallStr};
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::tables::{Coverage, EventColumns, TableBuilder, Tables};

/// The formats jitaudit recognises; the name is what `ingest-summary.json` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// REST `EventData` as a JSON array (`az monitor activity-log list`).
    ActivityRestArray,
    /// One REST API page `{"value": [EventData...], "nextLink": ...}`.
    ActivityRestPage,
    /// Diagnostic-settings `PT1H.json` blob in JSON Lines (since November 2018).
    #[serde(rename = "activity-jsonl")]
    ActivityJsonLines,
    /// `{"records": [...]}`: Event Hubs, or a storage blob from before November 2018.
    ActivityRecords,
    /// Log Analytics `AzureActivity` exported as CSV.
    LogAnalyticsCsv,
    /// Log Analytics `AzureActivity` exported as JSON (array of rows, or a query API response).
    LogAnalyticsJson,
    /// An Azure Data Explorer query v2 response: a JSON array of frames whose `PrimaryResult`
    /// tables hold Activity Log rows (in any of the shapes above, as the cluster ingested them).
    #[serde(rename = "data-explorer-v2")]
    DataExplorerV2,
    /// The portal's Activity Log "Download as CSV".
    PortalCsv,
    /// An Azure Resource Graph answer (`{"totalRecords", "count", "data": [...]}`): VMs, NICs
    /// and NSGs of many subscriptions in one list, read element by element.
    ResourceGraph,
    /// `jitNetworkAccessPolicies`: a list, a single policy, or an array of policies.
    JitPolicies,
    Subscriptions,
    VirtualMachines,
    NetworkInterfaces,
    NetworkSecurityGroups,
    PublicIpAddresses,
    AzureFirewalls,
    /// Role assignments: Resource Manager's list or `az role assignment list`.
    RoleAssignments,
    /// Role definitions: Resource Manager's list or `az role definition list`.
    RoleDefinitions,
    /// PIM eligibility (roleEligibilityScheduleInstances).
    RoleEligibility,
    /// A page of Microsoft Graph `groups/{id}/transitiveMembers` (users, service principals,
    /// groups, each with `@odata.type`), the group named by the path `collect` wrote it to.
    GroupMembers,
    /// A page of a management group's descendants (nested groups and subscriptions, each with
    /// its parent), the group named by the path `collect` wrote it to.
    ManagementGroupDescendants,
    /// `securityRules` listed on their own (`GET .../networkSecurityGroups/{nsg}/securityRules`).
    SecurityRules,
    /// A JSON array or ARM list with no elements: nothing to read, nothing lost.
    EmptyList,
    /// A directory `jitaudit ingest` wrote: its Parquet tables are read back as they are.
    JitauditTables,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::ActivityRestArray => "activity-rest-array",
            SourceFormat::ActivityRestPage => "activity-rest-page",
            SourceFormat::ActivityJsonLines => "activity-jsonl",
            SourceFormat::ActivityRecords => "activity-records",
            SourceFormat::LogAnalyticsCsv => "log-analytics-csv",
            SourceFormat::LogAnalyticsJson => "log-analytics-json",
            SourceFormat::DataExplorerV2 => "data-explorer-v2",
            SourceFormat::PortalCsv => "portal-csv",
            SourceFormat::ResourceGraph => "resource-graph",
            SourceFormat::JitPolicies => "jit-policies",
            SourceFormat::Subscriptions => "subscriptions",
            SourceFormat::VirtualMachines => "virtual-machines",
            SourceFormat::NetworkInterfaces => "network-interfaces",
            SourceFormat::NetworkSecurityGroups => "network-security-groups",
            SourceFormat::PublicIpAddresses => "public-ip-addresses",
            SourceFormat::AzureFirewalls => "azure-firewalls",
            SourceFormat::RoleAssignments => "role-assignments",
            SourceFormat::RoleDefinitions => "role-definitions",
            SourceFormat::RoleEligibility => "role-eligibility",
            SourceFormat::GroupMembers => "graph-group-members",
            SourceFormat::ManagementGroupDescendants => "management-group-descendants",
            SourceFormat::SecurityRules => "security-rules",
            SourceFormat::EmptyList => "empty-list",
            SourceFormat::JitauditTables => "jitaudit-tables",
        }
    }
}

/// The format names.
#[cfg(test)]
fn format_names() -> Vec<&'static str> {
    use SourceFormat::*;
    [
        ActivityRestArray,
        ActivityRestPage,
        ActivityJsonLines,
        ActivityRecords,
        LogAnalyticsCsv,
        LogAnalyticsJson,
        DataExplorerV2,
        PortalCsv,
        JitPolicies,
        Subscriptions,
        VirtualMachines,
        NetworkInterfaces,
        NetworkSecurityGroups,
        SecurityRules,
    ]
    .into_iter()
    .map(SourceFormat::name)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_match_the_names_tables_record() {
        for f in format_names() {
            let parsed: SourceFormat =
                serde_json::from_value(serde_json::Value::String(f.into())).unwrap();
            assert_eq!(parsed.name(), f);
        }
    }
}

/// How many `file:line` locations a rejection reason keeps.
const MAX_LOCATIONS: usize = 5;

/// One reason records of a file were rejected, with a count and the first few places.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
    pub count: u64,
    pub locations: Vec<String>,
}

/// What happened to one input file.
/// `records_read = records_used + records_rejected + records_skipped`, always.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileReport {
    pub path: String,
    pub format: Option<SourceFormat>,
    pub records_read: u64,
    pub records_used: u64,
    pub records_rejected: u64,
    /// Activity Log lines the command's prefilter passed over unparsed, because they cannot
    /// concern JIT (counted in `activity_hours`; `ingest`, `query` and `--no-prefilter` skip none).
    #[serde(default)]
    pub records_skipped: u64,
    pub rejections: Vec<Rejection>,
    /// Facts about the file that lost nothing but an auditor should know (an unmapped
    /// operation name, a duration that did not parse, an element of a kind the list should
    /// not hold...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// SHA-256 of the file as stored (before decompression): the evidence hash.
    pub sha256: String,
    pub bytes: u64,
    /// Set when the report was carried over from an earlier `ingest` of this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
}

impl FileReport {
    pub fn new(path: String, sha256: String, bytes: u64) -> Self {
        FileReport {
            path,
            format: None,
            records_read: 0,
            records_used: 0,
            records_rejected: 0,
            records_skipped: 0,
            rejections: Vec::new(),
            notes: Vec::new(),
            sha256,
            bytes,
            carried_from: None,
        }
    }

    pub fn skipped(&mut self) {
        self.records_read += 1;
        self.records_skipped += 1;
    }

    /// `n` records a query engine's filter left behind, counted by a coverage answer.
    pub fn skipped_many(&mut self, n: u64) {
        self.records_read += n;
        self.records_skipped += n;
    }

    pub fn used(&mut self) {
        self.records_read += 1;
        self.records_used += 1;
    }

    /// Counts a rejected record. `location` is a line number when the format has lines,
    /// else a record index written `record N`.
    pub fn reject(&mut self, reason: &str, location: Location, detail: Option<&str>) {
        self.records_read += 1;
        self.records_rejected += 1;
        let place = match detail {
            Some(d) => format!("{}:{location}: {d}", self.path),
            None => format!("{}:{location}", self.path),
        };
        match self.rejections.iter_mut().find(|r| r.reason == reason) {
            Some(r) => {
                r.count += 1;
                if r.locations.len() < MAX_LOCATIONS {
                    r.locations.push(place);
                }
            }
            None => self.rejections.push(Rejection {
                reason: reason.to_string(),
                count: 1,
                locations: vec![place],
            }),
        }
    }

    /// Adds the counts, rejections and notes of `part`, the report of the lines that follow
    /// this report's in the same file (a window of it parsed on another thread): the result is
    /// what one report over both would hold, down to the order and the bounds of its lists.
    pub fn absorb(&mut self, part: FileReport) {
        self.records_read += part.records_read;
        self.records_used += part.records_used;
        self.records_rejected += part.records_rejected;
        self.records_skipped += part.records_skipped;
        for r in part.rejections {
            match self.rejections.iter_mut().find(|o| o.reason == r.reason) {
                Some(o) => {
                    o.count += r.count;
                    let room = MAX_LOCATIONS.saturating_sub(o.locations.len());
                    o.locations.extend(r.locations.into_iter().take(room));
                }
                None => self.rejections.push(r),
            }
        }
        for n in part.notes {
            self.note(n);
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) && self.notes.len() < 20 {
            self.notes.push(note);
        }
    }
}

/// Where in a file a record stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Line(u64),
    Record(u64),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "{n}"),
            Location::Record(n) => write!(f, "record {n}"),
        }
    }
}

impl Location {
    /// The number stored in `events.source_line`: a line, or a 1-based record index.
    pub fn number(self) -> i64 {
        match self {
            Location::Line(n) | Location::Record(n) => n as i64,
        }
    }
}

/// Rows parsed from raw files, table by table, before they become frames.
pub struct Batch {
    pub events: TableBuilder,
    /// The key columns `events` holds only as a digest of the key, when it is projected
    /// (see [`crate::tables::digest_key`]).
    pub digested: Option<BTreeSet<&'static str>>,
    pub policy_requests: TableBuilder,
    pub policies: TableBuilder,
    pub subscriptions: TableBuilder,
    pub vms: TableBuilder,
    pub nics: TableBuilder,
    pub nsg_rules: TableBuilder,
    pub public_ips: TableBuilder,
    pub firewalls: TableBuilder,
    pub role_assignments: TableBuilder,
    pub role_definitions: TableBuilder,
    pub group_members: TableBuilder,
    pub management_groups: TableBuilder,
    /// Records the prefilter skipped, per hour and subscription (the parsed events are added
    /// from `events` when the batch is finished).
    pub skipped: Coverage,
    /// Keep one row of events per caller, object id and app id (see [`Batch::names_only`]).
    names_only: bool,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            events: TableBuilder::new(&schema::EVENTS),
            digested: None,
            policy_requests: TableBuilder::new(&schema::POLICY_REQUESTS),
            policies: TableBuilder::new(&schema::POLICIES),
            subscriptions: TableBuilder::new(&schema::SUBSCRIPTIONS),
            vms: TableBuilder::new(&schema::VMS),
            nics: TableBuilder::new(&schema::NICS),
            public_ips: TableBuilder::new(&schema::PUBLIC_IPS),
            firewalls: TableBuilder::new(&schema::FIREWALLS),
            role_assignments: TableBuilder::new(&schema::ROLE_ASSIGNMENTS),
            role_definitions: TableBuilder::new(&schema::ROLE_DEFINITIONS),
            group_members: TableBuilder::new(&schema::GROUP_MEMBERS),
            management_groups: TableBuilder::new(&schema::MANAGEMENT_GROUPS),
            nsg_rules: TableBuilder::new(&schema::NSG_RULES),
            skipped: Coverage::default(),
            names_only: false,
        }
    }
}

impl Batch {
    /// A batch whose `events` keeps only `columns` (see [`EventColumns`]).
    pub fn keeping(columns: &EventColumns) -> Batch {
        match columns {
            EventColumns::All => Batch::default(),
            EventColumns::Only(set, digested) => Batch {
                events: TableBuilder::keeping(&schema::EVENTS, |c| set.contains(c)),
                digested: Some(digested.clone()),
                ..Batch::default()
            },
            // Read for the key alone, the rows are given the key's digest as they are written.
            EventColumns::Key(set, digested) => Batch {
                events: TableBuilder::keeping(&schema::EVENTS, |c| set.contains(c))
                    .without_counts()
                    .digesting(digested),
                digested: Some(digested.clone()),
                ..Batch::default()
            },
            EventColumns::Lean(set) => Batch {
                events: TableBuilder::lean(&schema::EVENTS, |c| set.contains(c)),
                ..Batch::default()
            },
        }
    }

    /// This batch, keeping when `yes` of its events only the first row of each caller, object
    /// id and app id once finished (the hours are counted from every row before).
    pub fn names_only(self, yes: bool) -> Batch {
        Batch {
            names_only: yes,
            ..self
        }
    }

    pub fn finish(self) -> Tables {
        let any_copy = self.events.is_projected() && !self.events.counts_not_kept();
        let mut events = self.events.finish();
        let mut coverage = self.skipped;
        coverage.merge(crate::tables::coverage_of_events(&events));
        if any_copy {
            // A load of the key's columns (EventColumns::Key) keeps the subscription only to
            // count hours by: nothing reads it after, so it is not held (nor copied when the
            // frames are stacked and de-duplicated).
            let none = Column::full_null(
                PlSmallStr::from_static(schema::SUBSCRIPTION_ID),
                events.height(),
                &DataType::String,
            );
            events
                .with_column(none)
                .expect("a column of the frame's height, replacing its own");
        }
        if let Some(drop) = &self.digested
            && !crate::tables::has_digest(&events)
        {
            crate::tables::digest_key(&mut events, drop)
                .expect("the key's columns, of the frame's height");
        }
        if self.names_only {
            crate::tables::first_of_each_name(&mut events)
                .expect("the name columns, of the frame's height");
        }
        Tables {
            activity_hours: crate::tables::activity_hours_frame(&coverage),
            events,
            policy_requests: self.policy_requests.finish(),
            policies: self.policies.finish(),
            subscriptions: self.subscriptions.finish(),
            vms: self.vms.finish(),
            nics: self.nics.finish(),
            nsg_rules: self.nsg_rules.finish(),
            public_ips: self.public_ips.finish(),
            firewalls: self.firewalls.finish(),
            role_assignments: self.role_assignments.finish(),
            role_definitions: self.role_definitions.finish(),
            group_members: self.group_members.finish(),
            management_groups: self.management_groups.finish(),
            ..Tables::default()
        }
    }
}

/// Per-reason totals across files, for the printed summary.
pub fn rejection_totals(reports: &[FileReport]) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for r in reports {
        for rej in &r.rejections {
            *totals.entry(rej.reason.clone()).or_default() += rej.count;
        }
    }
    totals
}
