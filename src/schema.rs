//! The canonical tables and their columns: the contract every source writes and every rule,
//! query and report reads. Names live here and nowhere else, so the SQL under `queries/` and
//! the Rust cannot drift apart. `docs/tables.md` documents each column for auditors; a test
//! checks that every column named here is documented there.

use polars::prelude::{DataType, TimeUnit, TimeZone};

/// A column of a canonical table: its name, type and one line for the table reference.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
}

/// The few physical types the tables use. Lists are comma-joined strings so that SQL `LIKE`,
/// CSV and spreadsheets handle them without special cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Str,
    Int,
    Bool,
    /// UTC instant, nanosecond precision (Azure writes up to 7 fractional digits).
    Time,
}

impl ColumnKind {
    pub fn dtype(self) -> DataType {
        match self {
            ColumnKind::Str => DataType::String,
            ColumnKind::Int => DataType::Int64,
            ColumnKind::Bool => DataType::Boolean,
            ColumnKind::Time => DataType::Datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC)),
        }
    }
}

/// A canonical table: a name (also its Parquet file stem) and its ordered columns.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    pub fn parquet_file(&self) -> String {
        format!("{}.parquet", self.name)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &'static str> {
        self.columns.iter().map(|c| c.name)
    }

    /// The position of the column named `name`: in a constant (`const { .. }`), worked out
    /// when the program is built, and a build error for a name the table does not have.
    pub const fn position(&self, name: &str) -> usize {
        let mut i = 0;
        while i < self.columns.len() {
            if same_bytes(self.columns[i].name.as_bytes(), name.as_bytes()) {
                return i;
            }
            i += 1;
        }
        panic!("the table has no column of that name");
    }
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn col(name: &'static str, kind: ColumnKind) -> ColumnSpec {
    ColumnSpec { name, kind }
}

use ColumnKind::{Bool, Int, Str, Time};

/// The columns of a coverage answer `collect` asks a query engine for (`azure::kql::coverage`):
/// per UTC hour and subscription, the Activity Log records its filter left on the engine. The
/// loader knows such an answer by exactly these columns and counts them into `activity_hours`.
pub const COVERAGE_QUERY_COLUMNS: [&str; 5] = [
    "SubscriptionId",
    "HourStart",
    "Records",
    "FirstTime",
    "LastTime",
];

// Column names shared by several tables.
pub const SUBSCRIPTION_ID: &str = "subscription_id";
pub const RESOURCE_GROUP: &str = "resource_group";
pub const SOURCE_FILE: &str = "source_file";
pub const SOURCE_FORMAT: &str = "source_format";
pub const SOURCE_LINE: &str = "source_line";
pub const VM_ID: &str = "vm_id";
pub const VM_KEY: &str = "vm_key";
pub const VM_NAME: &str = "vm_name";
pub const POLICY_ID: &str = "policy_id";
pub const POLICY_KEY: &str = "policy_key";
pub const PORT: &str = "port";
pub const PROTOCOL: &str = "protocol";
pub const CORRELATION_ID: &str = "correlation_id";
pub const CALLER_IP: &str = "caller_ip";
pub const JUSTIFICATION: &str = "justification";
pub const STATUS: &str = "status";
pub const STATUS_REASON: &str = "status_reason";
pub const END_TIME: &str = "end_time";
pub const DESCRIPTION: &str = "description";

// events
pub const EVENT_ID: &str = "event_id";
pub const TIME: &str = "time";
pub const RESOURCE_ID: &str = "resource_id";
pub const RESOURCE_KEY: &str = "resource_key";
pub const RESOURCE_TYPE: &str = "resource_type";
pub const OPERATION_ID: &str = "operation_id";
pub const OPERATION_NAME: &str = "operation_name";
pub const CATEGORY: &str = "category";
pub const SUB_STATUS: &str = "sub_status";
pub const CALLER: &str = "caller";
pub const CALLER_KIND: &str = "caller_kind";
pub const APP_ID: &str = "app_id";
pub const OBJECT_ID: &str = "object_id";
pub const LEVEL: &str = "level";
pub const PROPERTIES: &str = "properties";

/// One event seen in two exports: same instant, resource, operation, status and call. Not the
/// event id (storage records carry none) nor the caller IP (the portal CSV has none).
pub const EVENT_KEY: &[&str] = &[TIME, RESOURCE_KEY, OPERATION_ID, STATUS, CORRELATION_ID];

pub const EVENTS: TableSpec = TableSpec {
    name: "events",
    columns: &[
        col(EVENT_ID, Str),
        col(TIME, Time),
        col(SUBSCRIPTION_ID, Str),
        col(RESOURCE_GROUP, Str),
        col(RESOURCE_ID, Str),
        col(RESOURCE_KEY, Str),
        col(RESOURCE_TYPE, Str),
        col(OPERATION_ID, Str),
        col(OPERATION_NAME, Str),
        col(CATEGORY, Str),
        col(STATUS, Str),
        col(SUB_STATUS, Str),
        col(CALLER, Str),
        col(CALLER_IP, Str),
        col(CALLER_KIND, Str),
        col(APP_ID, Str),
        col(OBJECT_ID, Str),
        col(CORRELATION_ID, Str),
        col(LEVEL, Str),
        col(DESCRIPTION, Str),
        col(PROPERTIES, Str),
        col(SOURCE_FILE, Str),
        col(SOURCE_FORMAT, Str),
        col(SOURCE_LINE, Int),
    ],
};

/// The `events` columns the caller view and the rules read of the records that are not of JIT
/// policies or network security groups (of those, they read every column): `caller` fills
/// only these for the rest of what an identity did.
pub const ACTIVITY_COLUMNS: [&str; 13] = [
    TIME,
    CALLER,
    OBJECT_ID,
    APP_ID,
    CALLER_KIND,
    CALLER_IP,
    OPERATION_ID,
    OPERATION_NAME,
    STATUS,
    SUB_STATUS,
    RESOURCE_ID,
    RESOURCE_KEY,
    CORRELATION_ID,
];

// requests (the ledger)
pub const REQUEST_ID: &str = "request_id";
pub const REQUESTED_AT: &str = "requested_at";
pub const REQUESTOR: &str = "requestor";
pub const SOURCE_PREFIX: &str = "source_prefix";
pub const DURATION_SECONDS: &str = "duration_seconds";
pub const EVIDENCE: &str = "evidence";
pub const IN_POLICY_HISTORY: &str = "in_policy_history";
pub const IN_ACTIVITY_LOG: &str = "in_activity_log";
pub const IN_NSG: &str = "in_nsg";
pub const NSG_RULE_ID: &str = "nsg_rule_id";

pub const REQUESTS: TableSpec = TableSpec {
    name: "requests",
    columns: &[
        col(REQUEST_ID, Str),
        col(REQUESTED_AT, Time),
        col(REQUESTOR, Str),
        col(CALLER_IP, Str),
        col(JUSTIFICATION, Str),
        col(SUBSCRIPTION_ID, Str),
        col(RESOURCE_GROUP, Str),
        col(VM_ID, Str),
        col(VM_KEY, Str),
        col(VM_NAME, Str),
        col(PORT, Int),
        col(PROTOCOL, Str),
        col(SOURCE_PREFIX, Str),
        col(END_TIME, Time),
        col(DURATION_SECONDS, Int),
        col(STATUS, Str),
        col(STATUS_REASON, Str),
        col(POLICY_ID, Str),
        col(POLICY_KEY, Str),
        col(CORRELATION_ID, Str),
        col(EVIDENCE, Str),
        col(IN_POLICY_HISTORY, Bool),
        col(IN_ACTIVITY_LOG, Bool),
        col(IN_NSG, Bool),
        col(NSG_RULE_ID, Str),
        col(FIREWALL_IP, Str),
        col(MAPPED_PORT, Int),
        col(SOURCE_FILE, Str),
    ],
};

// policy_requests: the `properties.requests[]` history exactly as policies carry it, one row
// per (request, VM, port). The ledger is rebuilt from it, so an ingested directory keeps it.
pub const POLICY_REQUESTS: TableSpec = TableSpec {
    name: "policy_requests",
    columns: &[
        col(POLICY_ID, Str),
        col(POLICY_KEY, Str),
        col(REQUESTED_AT, Time),
        col(REQUESTOR, Str),
        col(JUSTIFICATION, Str),
        col(VM_ID, Str),
        col(VM_KEY, Str),
        col(PORT, Int),
        col(SOURCE_PREFIX, Str),
        col(END_TIME, Time),
        col(STATUS, Str),
        col(STATUS_REASON, Str),
        col(MAPPED_PORT, Int),
        col(SOURCE_FILE, Str),
    ],
};

// policies
pub const POLICY_NAME: &str = "policy_name";
pub const LOCATION: &str = "location";
pub const ALLOWED_SOURCE: &str = "allowed_source";
pub const MAX_DURATION: &str = "max_duration";
pub const MAX_DURATION_SECONDS: &str = "max_duration_seconds";
pub const PROVISIONING_STATE: &str = "provisioning_state";
/// The public IP of the Azure Firewall in front of a VM (a policy entry's `publicIpAddress`).
pub const FIREWALL_IP: &str = "firewall_ip";
/// The firewall port mapped to a requested port (`mappedPort`).
pub const MAPPED_PORT: &str = "mapped_port";

pub const POLICIES: TableSpec = TableSpec {
    name: "policies",
    columns: &[
        col(POLICY_ID, Str),
        col(POLICY_KEY, Str),
        col(POLICY_NAME, Str),
        col(SUBSCRIPTION_ID, Str),
        col(RESOURCE_GROUP, Str),
        col(LOCATION, Str),
        col(VM_ID, Str),
        col(VM_KEY, Str),
        col(VM_NAME, Str),
        col(PORT, Int),
        col(PROTOCOL, Str),
        col(ALLOWED_SOURCE, Str),
        col(MAX_DURATION, Str),
        col(MAX_DURATION_SECONDS, Int),
        col(PROVISIONING_STATE, Str),
        col(FIREWALL_IP, Str),
        col(SOURCE_FILE, Str),
    ],
};

// subscriptions
pub const DISPLAY_NAME: &str = "display_name";
pub const STATE: &str = "state";
pub const TENANT_ID: &str = "tenant_id";

pub const SUBSCRIPTIONS: TableSpec = TableSpec {
    name: "subscriptions",
    columns: &[
        col(SUBSCRIPTION_ID, Str),
        col(DISPLAY_NAME, Str),
        col(STATE, Str),
        col(TENANT_ID, Str),
        col(SOURCE_FILE, Str),
    ],
};

// vms
pub const OS_TYPE: &str = "os_type";
pub const NIC_IDS: &str = "nic_ids";
pub const PRIVATE_IPS: &str = "private_ips";
pub const HAS_PUBLIC_IP: &str = "has_public_ip";
pub const NSG_IDS: &str = "nsg_ids";
pub const SUBNET_IDS: &str = "subnet_ids";
pub const TAGS: &str = "tags";

pub const VMS: TableSpec = TableSpec {
    name: "vms",
    columns: &[
        col(VM_ID, Str),
        col(VM_KEY, Str),
        col(VM_NAME, Str),
        col(SUBSCRIPTION_ID, Str),
        col(RESOURCE_GROUP, Str),
        col(LOCATION, Str),
        col(OS_TYPE, Str),
        col(NIC_IDS, Str),
        col(PRIVATE_IPS, Str),
        col(HAS_PUBLIC_IP, Bool),
        col(NSG_IDS, Str),
        col(SUBNET_IDS, Str),
        col(TAGS, Str),
        col(SOURCE_FILE, Str),
    ],
};

// nics
pub const NIC_ID: &str = "nic_id";
pub const NIC_KEY: &str = "nic_key";
pub const PUBLIC_IP_IDS: &str = "public_ip_ids";
pub const NSG_ID: &str = "nsg_id";

pub const NICS: TableSpec = TableSpec {
    name: "nics",
    columns: &[
        col(NIC_ID, Str),
        col(NIC_KEY, Str),
        col(VM_ID, Str),
        col(VM_KEY, Str),
        col(PRIVATE_IPS, Str),
        col(PUBLIC_IP_IDS, Str),
        col(SUBNET_IDS, Str),
        col(NSG_ID, Str),
        col(SOURCE_FILE, Str),
    ],
};

// public_ips
pub const PUBLIC_IP_ID: &str = "public_ip_id";
pub const PUBLIC_IP_KEY: &str = "public_ip_key";
pub const IP_ADDRESS: &str = "ip_address";
pub const ALLOCATION: &str = "allocation";
pub const FQDN: &str = "fqdn";
pub const ATTACHED_TO: &str = "attached_to";

/// Public IP addresses (Microsoft.Network/publicIPAddresses): the address behind a NIC's
/// `public_ip_ids`, or a firewall's.
pub const PUBLIC_IPS: TableSpec = TableSpec {
    name: "public_ips",
    columns: &[
        col(PUBLIC_IP_ID, Str),
        col(PUBLIC_IP_KEY, Str),
        col(SUBSCRIPTION_ID, Str),
        col(IP_ADDRESS, Str),
        col(ALLOCATION, Str),
        col(FQDN, Str),
        col(ATTACHED_TO, Str),
        col(SOURCE_FILE, Str),
    ],
};

// role_assignments, role_definitions, access (who can open ports)
pub const ASSIGNMENT_ID: &str = "assignment_id";
pub const PRINCIPAL_ID: &str = "principal_id";
pub const PRINCIPAL_TYPE: &str = "principal_type";
pub const PRINCIPAL_NAME: &str = "principal_name";
pub const ROLE_DEFINITION_KEY: &str = "role_definition_key";
pub const ROLE_NAME: &str = "role_name";
pub const ROLE_TYPE: &str = "role_type";
pub const SCOPE: &str = "scope";
pub const CONDITION: &str = "condition";
pub const ELIGIBLE: &str = "eligible";
pub const PERMISSIONS: &str = "permissions";
pub const SCOPE_LEVEL: &str = "scope_level";
pub const HELD: &str = "held";
pub const CAN_INITIATE: &str = "can_initiate";
pub const CAN_GRANT: &str = "can_grant";
pub const BROAD: &str = "broad";

pub const FIREWALL_ID: &str = "firewall_id";
pub const FIREWALL_KEY: &str = "firewall_key";
pub const NAT_RULES: &str = "nat_rules";

/// Azure Firewalls: their public IPs and DNAT rules, those JIT writes (collections named
/// `ASC-JIT...`/`MDC-JIT...`) among them.
pub const FIREWALLS: TableSpec = TableSpec {
    name: "firewalls",
    columns: &[
        col(FIREWALL_ID, Str),
        col(FIREWALL_KEY, Str),
        col(SUBSCRIPTION_ID, Str),
        col(PUBLIC_IP_IDS, Str),
        col(NAT_RULES, Str),
        col(SOURCE_FILE, Str),
    ],
};

/// Role assignments, active (`eligible` false: Resource Manager's roleAssignments, `az role
/// assignment list`) and eligible through PIM (roleEligibilityScheduleInstances).
pub const ROLE_ASSIGNMENTS: TableSpec = TableSpec {
    name: "role_assignments",
    columns: &[
        col(ASSIGNMENT_ID, Str),
        col(PRINCIPAL_ID, Str),
        col(PRINCIPAL_TYPE, Str),
        col(PRINCIPAL_NAME, Str),
        col(ROLE_DEFINITION_KEY, Str),
        col(ROLE_NAME, Str),
        col(SCOPE, Str),
        col(CONDITION, Str),
        col(ELIGIBLE, Bool),
        col(SOURCE_FILE, Str),
    ],
};

/// Role definitions, built-in and custom; `permissions` is the JSON array of their
/// `{actions, notActions}` blocks.
pub const ROLE_DEFINITIONS: TableSpec = TableSpec {
    name: "role_definitions",
    columns: &[
        col(ROLE_DEFINITION_KEY, Str),
        col(ROLE_NAME, Str),
        col(ROLE_TYPE, Str),
        col(PERMISSIONS, Str),
        col(SOURCE_FILE, Str),
    ],
};

pub const GROUP_ID: &str = "group_id";
pub const MEMBER_ID: &str = "member_id";
pub const MEMBER_TYPE: &str = "member_type";
pub const MEMBER_NAME: &str = "member_name";

/// Members of the groups role assignments name, nested ones included, as Microsoft Graph's
/// `transitiveMembers` lists them (`collect --graph`).
pub const GROUP_MEMBERS: TableSpec = TableSpec {
    name: "group_members",
    columns: &[
        col(GROUP_ID, Str),
        col(MEMBER_ID, Str),
        col(MEMBER_TYPE, Str),
        col(MEMBER_NAME, Str),
        col(SOURCE_FILE, Str),
    ],
};

pub const MANAGEMENT_GROUP: &str = "management_group";
pub const CHILD_ID: &str = "child_id";
pub const CHILD_TYPE: &str = "child_type";
pub const PARENT_GROUP: &str = "parent_group";

/// The management group hierarchy: each nested group and subscription under a group, with its
/// parent, as the descendants API lists them (`collect --management-group`).
pub const MANAGEMENT_GROUPS: TableSpec = TableSpec {
    name: "management_groups",
    columns: &[
        col(MANAGEMENT_GROUP, Str),
        col(CHILD_ID, Str),
        col(CHILD_TYPE, Str),
        col(PARENT_GROUP, Str),
        col(DISPLAY_NAME, Str),
        col(SOURCE_FILE, Str),
    ],
};

/// Who can initiate JIT (or grant itself the right), per principal, subscription and
/// assignment: derived from `role_assignments`, `role_definitions` and `group_members`.
pub const ACCESS_TABLE: TableSpec = TableSpec {
    name: "access",
    columns: &[
        col(PRINCIPAL_ID, Str),
        col(PRINCIPAL_TYPE, Str),
        col(PRINCIPAL_NAME, Str),
        col(SUBSCRIPTION_ID, Str),
        col(SCOPE, Str),
        col(SCOPE_LEVEL, Str),
        col(ROLE_NAME, Str),
        col(ROLE_DEFINITION_KEY, Str),
        col(HELD, Str),
        col(CAN_INITIATE, Bool),
        col(CAN_GRANT, Bool),
        col(BROAD, Bool),
        col(CONDITION, Str),
        col(ASSIGNMENT_ID, Str),
        col(GROUP_ID, Str),
    ],
};

/// Role assignments written in the window, one row per name of the principal (JIT019; made
/// by `enrich::grants`).
pub const ROLE_GRANTS: TableSpec = TableSpec {
    name: "role_grants",
    columns: &[
        col("granted_at", Time),
        col("granted_until", Time),
        col("granted_time_utc", Str),
        col(SUBSCRIPTION_ID, Str),
        col(PRINCIPAL_ID, Str),
        col("name", Str),
        col(ROLE_NAME, Str),
        col(CAN_INITIATE, Bool),
        col("granted_by", Str),
        col(SCOPE, Str),
        col("assignment", Str),
    ],
};

// nsg_rules
pub const NSG_KEY: &str = "nsg_key";
pub const NSG_NAME: &str = "nsg_name";
pub const RULE_ID: &str = "rule_id";
pub const RULE_NAME: &str = "rule_name";
pub const PRIORITY: &str = "priority";
pub const DIRECTION: &str = "direction";
pub const ACCESS: &str = "access";
pub const SOURCE_PREFIXES: &str = "source_prefixes";
pub const SOURCE_PORT_RANGES: &str = "source_port_ranges";
pub const DESTINATION_PORT_RANGES: &str = "destination_port_ranges";
pub const DESTINATION_PREFIXES: &str = "destination_prefixes";
pub const ATTACHED_NIC_IDS: &str = "attached_nic_ids";
pub const ATTACHED_SUBNET_IDS: &str = "attached_subnet_ids";
pub const ATTACHMENT: &str = "attachment";
pub const IS_DEFAULT: &str = "is_default";
pub const JIT_RULE: &str = "jit_rule";
pub const JIT_NAMING: &str = "jit_naming";
pub const JIT_POLICY_NAME: &str = "jit_policy_name";
pub const JIT_VM_NAME: &str = "jit_vm_name";

pub const NSG_RULES: TableSpec = TableSpec {
    name: "nsg_rules",
    columns: &[
        col(NSG_ID, Str),
        col(NSG_KEY, Str),
        col(NSG_NAME, Str),
        col(SUBSCRIPTION_ID, Str),
        col(RESOURCE_GROUP, Str),
        col(RULE_ID, Str),
        col(RULE_NAME, Str),
        col(PRIORITY, Int),
        col(DIRECTION, Str),
        col(ACCESS, Str),
        col(PROTOCOL, Str),
        col(SOURCE_PREFIXES, Str),
        col(SOURCE_PORT_RANGES, Str),
        col(DESTINATION_PORT_RANGES, Str),
        col(DESTINATION_PREFIXES, Str),
        col(DESCRIPTION, Str),
        col(ATTACHED_NIC_IDS, Str),
        col(ATTACHED_SUBNET_IDS, Str),
        col(ATTACHMENT, Str),
        col(IS_DEFAULT, Bool),
        col(JIT_RULE, Str),
        col(JIT_NAMING, Str),
        col(JIT_POLICY_NAME, Str),
        col(JIT_VM_NAME, Str),
        col(SOURCE_FILE, Str),
    ],
};

// activity_hours
pub const HOUR: &str = "hour";
pub const RECORDS: &str = "records";
pub const FIRST_TIME: &str = "first_time";
pub const LAST_TIME: &str = "last_time";

/// Activity Log records per UTC hour and subscription, counted as read (before de-duplication),
/// including the records a command's prefilter skipped without parsing: what the data-quality
/// checks read.
pub const ACTIVITY_HOURS: TableSpec = TableSpec {
    name: "activity_hours",
    columns: &[
        col(HOUR, Time),
        col(SUBSCRIPTION_ID, Str),
        col(RECORDS, Int),
        col(FIRST_TIME, Time),
        col(LAST_TIME, Time),
    ],
};

/// Every table `ingest` writes, in the order it writes them.
pub const ALL_TABLES: &[TableSpec] = &[
    EVENTS,
    ACTIVITY_HOURS,
    REQUESTS,
    POLICY_REQUESTS,
    POLICIES,
    SUBSCRIPTIONS,
    VMS,
    NICS,
    NSG_RULES,
    PUBLIC_IPS,
    FIREWALLS,
    ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS,
    GROUP_MEMBERS,
    MANAGEMENT_GROUPS,
    ACCESS_TABLE,
];

/// The name of the per-run summary `ingest` writes beside the tables; its presence marks a
/// directory as already ingested.
pub const INGEST_SUMMARY_FILE: &str = "ingest-summary.json";

/// Values of `events.caller_kind`.
pub mod caller_kind {
    pub const USER: &str = "user";
    pub const SERVICE_PRINCIPAL: &str = "service_principal";
    pub const UNKNOWN: &str = "unknown";
}

/// Values of `nsg_rules.jit_rule`.
pub mod jit_rule {
    pub const DENY: &str = "deny";
    pub const ALLOW: &str = "allow";
}

/// Values that `requests.evidence` joins with `+`.
pub mod evidence {
    pub const POLICY_HISTORY: &str = "policy_history";
    pub const INITIATE_EVENT: &str = "initiate_event";
    pub const NSG_RULE: &str = "nsg_rule";
}

/// Canonical (lower-case) operation ids JIT work is made of.
pub mod ops {
    pub const JIT_INITIATE: &str =
        "microsoft.security/locations/jitnetworkaccesspolicies/initiate/action";
    pub const JIT_WRITE: &str = "microsoft.security/locations/jitnetworkaccesspolicies/write";
    pub const JIT_DELETE: &str = "microsoft.security/locations/jitnetworkaccesspolicies/delete";
    pub const NSG_WRITE: &str = "microsoft.network/networksecuritygroups/write";
    pub const NSG_DELETE: &str = "microsoft.network/networksecuritygroups/delete";
    pub const NSG_RULE_WRITE: &str = "microsoft.network/networksecuritygroups/securityrules/write";
    pub const NSG_RULE_DELETE: &str =
        "microsoft.network/networksecuritygroups/securityrules/delete";
    /// An Azure Firewall's write: JIT's DNAT rules for a VM behind it are written so.
    pub const FIREWALL_WRITE: &str = "microsoft.network/azurefirewalls/write";

    /// Whether an NSG change (canonical operation, resource id) may be one JIT made: a whole
    /// NSG's write or delete (it cannot be told), or a security rule's whose id names a JIT
    /// rule (`SecurityCenter-JITRule...`, `MicrosoftDefenderForCloud-JITRule...`;
    /// azure-formats.md 4.1). The caller view shows only these beside a request; the
    /// prefilter passes over the rest (`nsg_needed` in `sources/fast/prefilter.rs`).
    pub fn may_be_jits(operation: &str, resource_id: &str) -> bool {
        match operation {
            NSG_RULE_WRITE | NSG_RULE_DELETE => {
                let id = resource_id.as_bytes();
                id.windows(7).any(|w| w.eq_ignore_ascii_case(b"jitrule"))
            }
            _ => true,
        }
    }
}

/// Every table spec by name, for commands that take a table name.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    ALL_TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table reference auditors write queries from documents every column of every table.
    #[test]
    fn every_column_is_documented() {
        let doc = include_str!("../docs/tables.md");
        for spec in ALL_TABLES {
            let heading = format!("\n## {}\n", spec.name);
            let start = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/tables.md has no section {}", spec.name));
            let rest = &doc[start + heading.len()..];
            let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
            for c in spec.columns {
                assert!(
                    section.contains(&format!("`{}`", c.name)),
                    "docs/tables.md, {}: column {} undocumented",
                    spec.name,
                    c.name
                );
            }
        }
    }
}

// The rules' inputs: what enrichment (`src/enrich/`) computes in Rust for the SQL rules, named
// here beside the tables it extends. `jitaudit rules explain` lists them; a test in
// `src/enrich/` holds the frames to these lists.

/// A table the SQL rules read: a canonical table with the columns enrichment adds after its
/// own, or (`base: None`) a table enrichment makes whole.
#[derive(Debug, Clone, Copy)]
pub struct RuleInput {
    pub name: &'static str,
    pub base: Option<&'static TableSpec>,
    pub added: &'static [ColumnSpec],
}

/// Which NSG rules reach which VMs, with what they open and from where (JIT013; JIT005 grades
/// its severity by it).
pub const EXPOSURES: TableSpec = TableSpec {
    name: "exposures",
    columns: &[
        col(SUBSCRIPTION_ID, Str),
        col(VM_ID, Str),
        col(VM_NAME, Str),
        col("nsg_name", Str),
        col("rule_name", Str),
        col("rule_id", Str),
        col("priority", Int),
        col("direction", Str),
        col("access", Str),
        col("ports", Str),
        col(PORT, Int),
        col("sources", Str),
        col("via", Str),
        col("opens_management_port", Bool),
        col("from_internet", Bool),
        col("is_jit", Bool),
        col("is_default", Bool),
    ],
};

/// The tables the SQL rules run over, in the order they are registered.
pub const RULE_INPUTS: &[RuleInput] = &[
    RuleInput {
        name: "requests",
        base: Some(&REQUESTS),
        added: &[
            col("time_utc", Str),
            col("in_business_hours", Bool),
            col("local_time", Str),
            col("local_day", Str),
            col("zone", Str),
            col("off_hours_reason", Str),
            col("caller_ip_approved", Bool),
            col("source_approved", Bool),
            col("source_wide", Bool),
            col("source_contains_caller_ip", Bool),
            col("requestor_kind", Str),
            col("requestor_problem", Str),
            col("justification_problem", Str),
            col("duration_limit_seconds", Int),
            col("duration_limit_text", Str),
            col("duration_text", Str),
            col("justification_credential", Str),
        ],
    },
    RuleInput {
        name: "policies",
        base: Some(&POLICIES),
        added: &[col("source_wide", Bool)],
    },
    RuleInput {
        name: "vms",
        base: Some(&VMS),
        added: &[
            col("has_jit", Bool),
            col("exposure", Str),
            col("tags_credential", Str),
        ],
    },
    RuleInput {
        name: "exposures",
        base: None,
        added: EXPOSURES.columns,
    },
    RuleInput {
        name: "jit_events",
        base: Some(&EVENTS),
        added: &[
            col("time_utc", Str),
            col("failure_code", Str),
            col("allowed_writer", Bool),
            col("change", Str),
            col("vm_id", Str),
        ],
    },
    RuleInput {
        name: "access",
        base: Some(&ACCESS_TABLE),
        added: &[
            col("caller", Str),
            col("requested", Bool),
            col("requests_made", Int),
        ],
    },
    RuleInput {
        name: "role_grants",
        base: Some(&ROLE_GRANTS),
        added: &[],
    },
];

impl RuleInput {
    /// Every column, the base table's first.
    #[cfg(test)]
    pub fn column_names(&self) -> Vec<&'static str> {
        let base = self.base.into_iter().flat_map(|b| b.column_names());
        base.chain(self.added.iter().map(|c| c.name)).collect()
    }
}
