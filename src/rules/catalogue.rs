//! The rule catalogue: stable ids, default severities, titles, rationale, the configuration
//! each rule reads, and the guidance it enforces. Detection content is data: the logic of the
//! SQL rules lives in `queries/rules/<ID>.sql`, embedded here so the binary needs no files.

/// How a rule is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// A Polars SQL query over the enriched tables; the text of `queries/rules/<ID>.sql`.
    Sql(&'static str),
    /// Computed in Rust (interval unions, baselines learned in time order); the text says how.
    Rust(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub version: u32,
    pub severity: &'static str,
    pub title: &'static str,
    pub rationale: &'static str,
    pub recommendation: &'static str,
    pub config_keys: &'static [&'static str],
    pub references: &'static [&'static str],
    pub logic: Logic,
    /// Posture rules judge the inventory snapshot, not activity in a time window.
    pub posture: bool,
}

const JIT_USAGE: &str = "Microsoft Defender for Cloud, Enable just-in-time access on VMs (just-in-time-access-usage.md)";
const JIT_OVERVIEW: &str = "Microsoft Defender for Cloud, Understanding just-in-time VM access (just-in-time-access-overview.md)";
const MCSB_NS: &str = "Microsoft cloud security benchmark NS-1/NS-2 (restrict and secure network access to management ports)";
const MCSB_PA: &str = "Microsoft cloud security benchmark PA-2 (avoid standing access) and PA-7 (just enough administration)";
const MCSB_LT: &str = "Microsoft cloud security benchmark LT-4 (enable logging for investigation) and LT-1 (threat detection)";
const POLICY_JIT: &str = "Azure Policy b0f33259-77d7-4c9e-aac6-3aabcfae693c: Management ports of virtual machines should be protected with just-in-time network access control";
const POLICY_PORTS: &str = "Azure Policy 22730e10-96f6-4aac-ad84-9383d35b5917: Management ports should be closed on your virtual machines";

pub const RULES: &[Rule] = &[
    Rule {
        id: "JIT001",
        version: 1,
        severity: "medium",
        title: "JIT request outside business hours",
        rationale: "Access opened at night, at weekends or on holidays is rarer for legitimate work and is when stolen credentials are used; the weekly review guidance asks for requests at odd hours.",
        recommendation: "Confirm the request with the requestor and the change or incident it served; add a per-caller time zone for people who work elsewhere.",
        config_keys: &[
            "timezone",
            "business_hours.start",
            "business_hours.end",
            "business_hours.days",
            "business_hours.holidays",
            "callers.<caller>.timezone",
        ],
        references: &[JIT_USAGE, MCSB_LT],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT001.sql")),
        posture: false,
    },
    Rule {
        id: "JIT002",
        version: 1,
        severity: "high",
        title: "JIT request from an unapproved source",
        rationale: "The caller's IP or the granted source prefix is outside the approved networks, so the port was opened to, or requested from, somewhere the organisation does not control.",
        recommendation: "Verify the address with the requestor; restrict the policy's allowed source to the approved ranges.",
        config_keys: &["network.approved_sources"],
        references: &[JIT_USAGE, MCSB_NS],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT002.sql")),
        posture: false,
    },
    Rule {
        id: "JIT003",
        version: 1,
        severity: "high",
        title: "JIT request opened to a wide source",
        rationale: "A request granted to '*', Any, Internet or a short prefix exposes the management port to far more than the requestor's address, which defeats JIT.",
        recommendation: "Request access for the requestor's own IP; narrow the policy so wide sources cannot be requested.",
        config_keys: &["network.min_prefix_length"],
        references: &[JIT_OVERVIEW, MCSB_NS],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT003.sql")),
        posture: false,
    },
    Rule {
        id: "JIT004",
        version: 1,
        severity: "high",
        title: "JIT policy allows a wide source",
        rationale: "A policy port whose allowed source is '*', Any, Internet or a short prefix lets any request open the port to the world; the portal's default 'Any' is the usual cause.",
        recommendation: "Set allowedSourceAddressPrefix(es) of each port to the approved ranges.",
        config_keys: &["network.min_prefix_length"],
        references: &[JIT_USAGE, MCSB_NS],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT004.sql")),
        posture: true,
    },
    Rule {
        id: "JIT005",
        version: 1,
        severity: "medium",
        title: "VM without JIT",
        rationale: "No JIT policy covers the VM, so its management ports are either closed by hand or open; high when it has a public IP or an NSG rule open on a management port.",
        recommendation: "Enable JIT on the VM (Defender for Cloud, Workload protections, Just-in-time VM access).",
        config_keys: &["management_ports"],
        references: &[POLICY_JIT, JIT_USAGE],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT005.sql")),
        posture: true,
    },
    Rule {
        id: "JIT006",
        version: 1,
        severity: "medium",
        title: "JIT policy allows long requests",
        rationale: "maxRequestAccessDuration above the limit lets every request keep the port open longer than work needs; the portal default is 3 hours.",
        recommendation: "Lower maxRequestAccessDuration to the configured limit.",
        config_keys: &["limits.max_policy_duration"],
        references: &[JIT_USAGE, MCSB_PA],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT006.sql")),
        posture: true,
    },
    Rule {
        id: "JIT007",
        version: 1,
        severity: "medium",
        title: "JIT request held open too long",
        rationale: "The request's end time minus its start exceeds the configured limit or the policy's own maximum.",
        recommendation: "Ask for shorter windows and request again when needed; lower the policy's maximum.",
        config_keys: &["limits.max_request_duration"],
        references: &[JIT_USAGE, MCSB_PA],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT007.sql")),
        posture: false,
    },
    Rule {
        id: "JIT008",
        version: 1,
        severity: "low",
        title: "JIT request without a real justification",
        rationale: "An empty, missing or boilerplate justification ('test', '.', 'asdf') makes the request unauditable; with a pattern set, the justification must cite a ticket.",
        recommendation: "Require a change or incident number in every justification.",
        config_keys: &["justification.pattern"],
        references: &[JIT_USAGE, MCSB_LT],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT008.sql")),
        posture: false,
    },
    Rule {
        id: "JIT009",
        version: 1,
        severity: "medium",
        title: "New source address for caller",
        rationale: "The caller requested access from, or for, an address never seen for them in the baseline: a new location, or someone else using their account.",
        recommendation: "Confirm the new location with the caller.",
        config_keys: &["baseline.days"],
        references: &[MCSB_LT],
        logic: Logic::Rust(
            "Requests in time order; a caller's sources (caller IP and granted prefix) seen in the baseline (the first baseline.days of the input, or the --state of earlier runs) are known; the first use of any other source after the baseline is a finding, after which it is known.",
        ),
        posture: false,
    },
    Rule {
        id: "JIT010",
        version: 1,
        severity: "medium",
        title: "Burst of JIT requests",
        rationale: "Many requests by one caller in one day of their time zone suggest automation abusing a person's account, or access that should be standing and reviewed as such.",
        recommendation: "Review the day's requests with the caller.",
        config_keys: &[
            "limits.burst_requests_per_day",
            "timezone",
            "callers.<caller>.timezone",
        ],
        references: &[MCSB_LT],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT010.sql")),
        posture: false,
    },
    Rule {
        id: "JIT011",
        version: 1,
        severity: "medium",
        title: "Failed JIT requests",
        rationale: "Initiate attempts that failed (authorization failures above all) show someone trying to open ports they may not.",
        recommendation: "Find out who tried and why; review their role assignments.",
        config_keys: &[],
        references: &[MCSB_LT],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT011.sql")),
        posture: false,
    },
    Rule {
        id: "JIT012",
        version: 1,
        severity: "high",
        title: "JIT policy changed or deleted",
        rationale: "Writing or deleting a JIT policy changes who can open what; outside the expected automation it is tampering until shown otherwise (the AZ-500 Sentinel lab alerts on deletes).",
        recommendation: "Confirm the change against a ticket; compare the new policy with the old.",
        config_keys: &["policy_changes.allowed_callers"],
        references: &[JIT_USAGE, MCSB_LT],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT012.sql")),
        posture: false,
    },
    Rule {
        id: "JIT013",
        version: 1,
        severity: "high",
        title: "Standing NSG exposure bypassing JIT",
        rationale: "An inbound Allow rule not written by JIT opens a management port from the internet on an NSG attached to a VM or its subnet, so JIT's deny rule protects nothing.",
        recommendation: "Remove the rule, or restrict its source; let JIT open the port on request.",
        config_keys: &["management_ports", "network.min_prefix_length"],
        references: &[POLICY_PORTS, MCSB_NS],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT013.sql")),
        posture: true,
    },
    Rule {
        id: "JIT014",
        version: 1,
        severity: "medium",
        title: "Chained JIT access",
        rationale: "Back-to-back or overlapping requests by one caller on one VM make one long window out of short ones, sidestepping the duration limit.",
        recommendation: "Review why the work needed so long; consider a maintenance window instead.",
        config_keys: &["limits.max_continuous_access"],
        references: &[MCSB_PA],
        logic: Logic::Rust(
            "Per caller, VM and port, requests sorted by start; windows that overlap or touch (next start at or before the previous end plus 5 minutes) are merged; a merged window longer than limits.max_continuous_access made of two or more requests is a finding.",
        ),
        posture: false,
    },
    Rule {
        id: "JIT015",
        version: 1,
        severity: "medium",
        title: "Unapproved JIT requestor",
        rationale: "The requestor is not among those allowed to request access, or is a service principal where those are not allowed.",
        recommendation: "Remove the requestor's initiate permission, or add them to requestors.allowed.",
        config_keys: &["requestors.allowed", "requestors.allow_service_principals"],
        references: &[MCSB_PA],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT015.sql")),
        posture: false,
    },
    Rule {
        id: "JIT016",
        version: 1,
        severity: "high",
        title: "Access opened for another address",
        rationale: "The granted source prefix does not contain the IP the request was made from: access was opened for somebody else's address.",
        recommendation: "Find out whose address it is; request access only for one's own address.",
        config_keys: &[],
        references: &[JIT_OVERVIEW, MCSB_NS],
        logic: Logic::Sql(include_str!("../../queries/rules/JIT016.sql")),
        posture: false,
    },
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}
