//! The synthetic tenant `jitaudit sample` writes: its subscriptions, VMs, people, and the
//! story of a fortnight of JIT use with a few instances of each anomaly the rules look for.
//! Everything here is plain data, so the sample README can say exactly what is planted.

/// A subscription of the tenant.
#[derive(Debug, PartialEq, Eq)]
pub struct Sub {
    pub id: &'static str,
    pub name: &'static str,
}

pub const TENANT_ID: &str = "8c3f1a52-6d4e-4b1a-9f7c-2e5d8a1b3c4d";
pub const WORKSPACE_ID: &str = "b7e2c9d4-3a1f-4e8b-9c6d-5f2a7e1b8d3c";

pub const SUBS: [Sub; 3] = [
    Sub {
        id: "11111111-aaaa-4bbb-8ccc-000000000001",
        name: "Contoso Production",
    },
    Sub {
        id: "22222222-aaaa-4bbb-8ccc-000000000002",
        name: "Contoso Development",
    },
    Sub {
        id: "33333333-aaaa-4bbb-8ccc-000000000003",
        name: "Contoso Shared Services",
    },
];

/// A virtual machine and how JIT covers it.
pub struct Vm {
    pub sub: usize,
    pub rg: &'static str,
    pub name: &'static str,
    pub os: &'static str,
    pub private_ip: &'static str,
    pub public_ip: bool,
    /// Ports the JIT policy lists; empty means no JIT policy covers the VM.
    pub jit_ports: &'static [u16],
    /// The policy's allowed source for every port.
    pub policy_source: &'static str,
    pub max_duration: &'static str,
    /// NSG attached to the NIC or (for `subnet_nsg`) the subnet.
    pub subnet_nsg: bool,
}

pub const VMS: [Vm; 9] = [
    Vm {
        sub: 0,
        rg: "rg-prod-web",
        name: "web-01",
        os: "Linux",
        private_ip: "10.1.1.4",
        public_ip: false,
        jit_ports: &[22],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
    Vm {
        sub: 0,
        rg: "rg-prod-web",
        name: "web-02",
        os: "Linux",
        private_ip: "10.1.1.5",
        public_ip: false,
        jit_ports: &[22],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
    Vm {
        sub: 0,
        rg: "rg-prod-sql",
        name: "sql-01",
        os: "Windows",
        private_ip: "10.1.2.4",
        public_ip: false,
        jit_ports: &[3389, 5985, 5986],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
    Vm {
        sub: 0,
        rg: "rg-prod-sql",
        name: "jump-01",
        os: "Windows",
        private_ip: "10.1.2.10",
        public_ip: true,
        jit_ports: &[3389],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
    Vm {
        sub: 1,
        rg: "rg-dev",
        name: "dev-build-01",
        os: "Linux",
        private_ip: "10.2.1.4",
        public_ip: false,
        jit_ports: &[22],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
    Vm {
        sub: 1,
        rg: "rg-dev",
        name: "legacy-build-01",
        os: "Linux",
        private_ip: "10.2.1.9",
        public_ip: true,
        jit_ports: &[],
        policy_source: "",
        max_duration: "",
        subnet_nsg: true,
    },
    Vm {
        sub: 1,
        rg: "rg-dev",
        name: "dev-test-02",
        os: "Windows",
        private_ip: "10.2.1.12",
        public_ip: false,
        jit_ports: &[],
        policy_source: "",
        max_duration: "",
        subnet_nsg: false,
    },
    Vm {
        sub: 2,
        rg: "rg-shared",
        name: "bastion-01",
        os: "Linux",
        private_ip: "10.3.1.4",
        public_ip: true,
        jit_ports: &[22],
        policy_source: "*",
        max_duration: "PT24H",
        subnet_nsg: false,
    },
    Vm {
        sub: 2,
        rg: "rg-shared",
        name: "monitor-01",
        os: "Linux",
        private_ip: "10.3.1.8",
        public_ip: false,
        jit_ports: &[22],
        policy_source: "203.0.113.0/24",
        max_duration: "PT3H",
        subnet_nsg: false,
    },
];

/// Somebody who uses JIT.
#[derive(Debug, PartialEq, Eq)]
pub struct Person {
    pub upn: &'static str,
    pub name: &'static str,
    pub object_id: &'static str,
    /// The office address they normally work from (inside the approved 203.0.113.0/24).
    pub office_ip: &'static str,
}

pub const PEOPLE: [Person; 5] = [
    Person {
        upn: "alice@contoso.com",
        name: "Alice Anders",
        object_id: "a1a1a1a1-0000-4000-8000-00000000000a",
        office_ip: "203.0.113.10",
    },
    Person {
        upn: "bob@contoso.com",
        name: "Bob Brandt",
        object_id: "b2b2b2b2-0000-4000-8000-00000000000b",
        office_ip: "203.0.113.11",
    },
    Person {
        upn: "carol@contoso.com",
        name: "Carol Chen",
        object_id: "c3c3c3c3-0000-4000-8000-00000000000c",
        office_ip: "203.0.113.12",
    },
    Person {
        upn: "dave@contoso.com",
        name: "Dave Dorn",
        object_id: "d4d4d4d4-0000-4000-8000-00000000000d",
        office_ip: "203.0.113.13",
    },
    Person {
        upn: "mallory@contoso.com",
        name: "Mallory Moss",
        object_id: "e5e5e5e5-0000-4000-8000-00000000000e",
        office_ip: "203.0.113.14",
    },
];

/// The automation identity that manages JIT policies (an expected writer) and, once, requests
/// access itself (a service principal requestor).
pub const AUTOMATION_APP_ID: &str = "f6f6f6f6-0000-4000-8000-0000000000f6";
pub const AUTOMATION_OBJECT_ID: &str = "f7f7f7f7-0000-4000-8000-0000000000f7";
pub const AUTOMATION_IP: &str = "20.50.2.10";
/// The portal's app id, which user calls carry in their claims.
pub const PORTAL_APP_ID: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";

/// Addresses outside the approved range.
pub const HOME_IP: &str = "198.51.100.77";
pub const HOTEL_IP: &str = "192.0.2.50";

/// The anomalies planted, one line each, as the sample README lists them.
pub const PLANTED: &[(&str, &str)] = &[
    (
        "JIT001",
        "alice (New York) requests web-01 at 02:13 UTC on day 3; bob requests sql-01 on Saturday (day 6); carol at 17:20 UTC on day 9 (18:20 in Berlin). bob's overnight patching at 21:30 and 21:40 UTC on the last day (web-01 and monitor-01, still open when the snapshot is taken; monitor-01's access is a DNAT rule on the firewall in front of it). Also the trap: dave at 07:30 UTC on day 2, 08:30 in Berlin, which is NOT odd.",
    ),
    (
        "JIT002",
        "bob requests web-02 from home, 198.51.100.77, on day 4 (outside 203.0.113.0/24).",
    ),
    (
        "JIT003",
        "carol opens bastion-01 port 22 to '*' on day 5 (bastion-01 sits behind the shared services' Azure Firewall: the access opened as a DNAT rule on 20.50.3.4), and dave opens web-01 to 10.0.0.0/8 on day 11.",
    ),
    (
        "JIT004",
        "the bastion-01 policy allows '*' on port 22, on the Azure Firewall in front of it.",
    ),
    (
        "JIT005",
        "legacy-build-01 (public IP, NSG on its subnet open for 3389) and dev-test-02 have no JIT policy (dev-test-02's was deleted on day 8).",
    ),
    (
        "JIT006",
        "the bastion-01 policy allows requests of up to PT24H.",
    ),
    (
        "JIT007",
        "carol holds bastion-01 open for 5 hours on day 5.",
    ),
    (
        "JIT008",
        "requests with justifications '', 'test', 'asdf' and 'need access' (no ticket number).",
    ),
    (
        "JIT009",
        "bob's home address on day 4 and alice's hotel address on day 12 are new sources for them.",
    ),
    ("JIT010", "bob makes 11 requests on day 10."),
    (
        "JIT011",
        "mallory's three initiate attempts on sql-01 on day 7 fail (AuthorizationFailed).",
    ),
    (
        "JIT012",
        "carol rewrites the bastion-01 policy on day 5, widening port 22 to '*'; mallory deletes the dev-test-02 policy on day 8.",
    ),
    (
        "JIT013",
        "monitor-01's NSG allows 22 from Internet (destinationPortRanges [\"443\", \"22\"]) and legacy-build-01's subnet NSG allows 3389 from '*'.",
    ),
    (
        "JIT014",
        "dave chains three 3-hour requests on sql-01 port 3389 on day 9 (9 hours open).",
    ),
    (
        "JIT015",
        "the automation service principal requests jump-01 on day 13; mallory (not an approved requestor) requests dev-build-01 on day 5.",
    ),
    (
        "JIT016",
        "alice, calling from 203.0.113.10, opens jump-01 for 192.0.2.50 on day 12.",
    ),
    (
        "JIT017",
        "carol holds only Contributor on production, and the break-glass account is Owner at the root (every subscription). Traps: alice and bob hold the narrow JIT Requester role; dave's Owner on shared services is only eligible through PIM.",
    ),
    (
        "JIT018",
        "the deployment pipeline holds JIT Requester on production and never asks, nor does the ops-contractors group on development (its members unknown); the break-glass Owner never asks; bob holds it on development too and asks only in production. Trap: alice, carol, dave and mallory use theirs.",
    ),
    (
        "JIT019",
        "mallory (User Access Administrator on production) grants dave JIT Requester on rg-prod-sql at 06:40 UTC on day 9; he requests sql-01 at 08:00. Trap: she grants alice the role on rg-prod-web on day 6, and alice next asks in production 53 hours later.",
    ),
    (
        "JIT020",
        "mallory is User Access Administrator on production without the right to initiate (her own requests fail). Trap: the break-glass Owner can grant and initiate.",
    ),
    (
        "JIT021",
        "dave's request for web-01 on day 11 pastes a SAS URL, signature and all, into its justification.",
    ),
];

/// The configuration the sample is meant to be audited with (`sample-data/jitaudit.toml`).
pub const CONFIG: &str = r#"# jitaudit configuration for the sample tenant: `jitaudit scan sample-data --config sample-data/jitaudit.toml`
timezone = "Europe/Berlin"
management_ports = [22, 3389, 5985, 5986]

[business_hours]
start = "08:00"
end = "18:00"
days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = ["2026-12-25", "2026-12-26"]

[network]
approved_sources = ["203.0.113.0/24"]
min_prefix_length = 24

[limits]
max_policy_duration = "PT3H"
max_request_duration = "PT3H"
max_continuous_access = "PT4H"
burst_requests_per_day = 8

[baseline]
days = 3

[justification]
pattern = "^(CHG|INC)[0-9]+"

[requestors]
allowed = ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com", "dave@contoso.com", "f7f7f7f7-0000-4000-8000-0000000000f7"]
allow_service_principals = false

[policy_changes]
allowed_callers = ["f7f7f7f7-0000-4000-8000-0000000000f7"]

[callers."alice@contoso.com"]
timezone = "America/New_York"

[[suppress]]
rule = "JIT005"
vm = "legacy-build-01"
reason = "decommissioned in December, CHG10442"
expires = "2027-01-31"

[[suppress]]
rule = "JIT008"
caller = "dave@contoso.com"
reason = "dave's tickets were in the old tracker until October"
expires = "2026-10-31"
"#;

/// The shared services' hub firewall's public address: JIT opens access to the VMs behind it
/// (bastion-01, monitor-01) as DNAT rules there.
pub const FIREWALL_IP: &str = "20.50.3.4";

/// Whether a VM sits behind the shared services' Azure Firewall.
pub fn behind_firewall(vm: usize) -> bool {
    VMS[vm].sub == 2 && VMS[vm].rg == "rg-shared"
}

/// The firewall port JIT maps a VM's port to.
pub fn mapped_port(vm: usize, port: u16) -> u32 {
    50_000 + 100 * vm as u32 + u32::from(port % 100)
}

/// The shared services' Azure Firewall.
pub fn firewall_id() -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-shared/providers/Microsoft.Network/azureFirewalls/fw-hub",
        SUBS[2].id
    )
}
