//! The fortnight the sample tells: ordinary JIT requests in office hours from the office,
//! the planted anomalies of [`super::tenant::PLANTED`], and the Activity Log events all of it
//! leaves, as one shape-neutral [`Event`] list the writers render into each export format.

use super::tenant::{self, PEOPLE, VMS};

/// Milliseconds: the sample's clock. Every export of one event then shows the same instant,
/// whatever number of fractional digits it writes.
pub type Ms = i64;
pub const MINUTE: Ms = 60_000;
pub const HOUR: Ms = 60 * MINUTE;
pub const DAY: Ms = 24 * HOUR;

/// Monday 2 November 2026, 00:00 UTC: the first day of the sample.
pub const START: Ms = 1_793_577_600_000;

/// SplitMix64: a tiny, fixed generator, so the same seed writes the same bytes on every
/// platform and every version of every dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A GUID-shaped id (version 4 layout).
    pub fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Person(usize),
    /// A person of a generated estate (`jitaudit sample --subscriptions N`).
    Member(&'static tenant::Person),
    Automation,
    /// Defender for Cloud writing the NSG rules JIT manages.
    Defender,
}

pub const DEFENDER_APP_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";
pub const DEFENDER_OBJECT_ID: &str = "0d0d0d0d-0000-4000-8000-0000000000dd";

impl Who {
    /// The person behind a call, if a person made it.
    pub fn person(self) -> Option<&'static tenant::Person> {
        match self {
            Who::Person(p) => Some(&PEOPLE[p]),
            Who::Member(p) => Some(p),
            _ => None,
        }
    }

    /// The `caller` Azure writes: the UPN for people, the object id for service principals.
    pub fn caller(self) -> &'static str {
        match self {
            Who::Person(p) => PEOPLE[p].upn,
            Who::Member(p) => p.upn,
            Who::Automation => tenant::AUTOMATION_OBJECT_ID,
            Who::Defender => DEFENDER_OBJECT_ID,
        }
    }
}

/// One JIT access request.
#[derive(Debug, Clone)]
pub struct Request {
    pub at: Ms,
    pub who: Who,
    pub vm: usize,
    pub ports: Vec<u16>,
    /// The granted source; `None` means the request named none, so the caller's IP applies.
    pub source: Option<String>,
    pub caller_ip: String,
    pub hours: i64,
    pub justification: Option<String>,
    pub failed: bool,
}

impl Request {
    pub fn end(&self) -> Ms {
        self.at + self.hours * HOUR
    }

    pub fn granted_source(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.caller_ip)
    }
}

pub const TASKS: &[&str] = &[
    "patch kernel",
    "rotate certificates",
    "investigate disk alert",
    "deploy hotfix",
    "collect diagnostics",
    "restart stuck service",
];

fn vm_index(name: &str) -> usize {
    VMS.iter()
        .position(|v| v.name == name)
        .expect("sample VM exists")
}

fn person(upn: &str) -> usize {
    PEOPLE
        .iter()
        .position(|p| p.upn.starts_with(upn))
        .expect("sample person exists")
}

/// The requests of the sample window, ordinary and planted, in time order.
pub fn requests(rng: &mut Rng, days: u32) -> Vec<Request> {
    let days = days as i64;
    let mut out = Vec::new();
    let jit_vms: Vec<usize> = (0..VMS.len())
        .filter(|v| !VMS[*v].jit_ports.is_empty() && VMS[*v].policy_source != "*")
        .collect();
    for day in 0..days {
        let weekday = day % 7; // day 0 is a Monday
        if weekday >= 5 {
            continue;
        }
        for _ in 0..3 + rng.below(2) {
            let p = rng.below(4) as usize; // alice..dave
            let vm = *rng.pick(&jit_vms);
            // 08:00-14:59 UTC: office hours in Berlin (UTC+1 in November) and, for alice, in
            // New York (UTC-5) only from 13:00 UTC.
            let hour = if p == 0 { 14 } else { 8 + rng.below(7) as i64 };
            let at = START
                + day * DAY
                + hour * HOUR
                + rng.below(50) as i64 * MINUTE
                + 5 * MINUTE
                + rng.below(60_000) as i64;
            let ticket = if rng.below(2) == 0 { "CHG" } else { "INC" };
            out.push(Request {
                at,
                who: Who::Person(p),
                vm,
                ports: vec![VMS[vm].jit_ports[0]],
                source: if rng.below(3) == 0 {
                    None
                } else {
                    Some(PEOPLE[p].office_ip.to_string())
                },
                caller_ip: PEOPLE[p].office_ip.to_string(),
                hours: 1 + rng.below(2) as i64,
                justification: Some(format!(
                    "{ticket}{} {}",
                    100_000 + rng.below(900_000),
                    rng.pick(TASKS)
                )),
                failed: false,
            });
        }
    }
    planted(&mut out, rng, days);
    // The requests still open when the inventory snapshot is taken: their NSG allow rules are
    // there, and monitor-01's DNAT rule on the firewall in front of it.
    let last = days - 1;
    for (minute, vm) in [(21 * 60 + 30, "web-01"), (21 * 60 + 40, "monitor-01")] {
        out.push(planned(
            last,
            minute,
            "bob",
            vm,
            &[22],
            Some("203.0.113.11"),
            "203.0.113.11",
            3,
            Some("CHG311577 overnight patching"),
        ));
    }
    out.retain(|r| r.at < START + days * DAY);
    out.sort_by_key(|r| (r.at, r.vm));
    out
}

/// A request at a given day and minute of the day (UTC).
#[allow(clippy::too_many_arguments)]
fn planned(
    day: i64,
    minute: i64,
    who: &str,
    vm: &str,
    ports: &[u16],
    source: Option<&str>,
    ip: &str,
    hours: i64,
    why: Option<&str>,
) -> Request {
    Request {
        at: START + day * DAY + minute * MINUTE + 17_321,
        who: Who::Person(person(who)),
        vm: vm_index(vm),
        ports: ports.to_vec(),
        source: source.map(str::to_string),
        caller_ip: ip.to_string(),
        hours,
        justification: why.map(str::to_string),
        failed: false,
    }
}

fn planted(out: &mut Vec<Request>, rng: &mut Rng, _days: i64) {
    let office = |who: &str| PEOPLE[person(who)].office_ip;
    let mut add = |r: Request| out.push(r);
    // JIT001: odd hours, and the Berlin winter trap (07:30 UTC is 08:30 in Berlin).
    add(planned(
        2,
        2 * 60 + 13,
        "alice",
        "web-01",
        &[22],
        Some(office("alice")),
        office("alice"),
        1,
        Some("INC204518 pager alert"),
    ));
    add(planned(
        5,
        10 * 60,
        "bob",
        "sql-01",
        &[3389],
        Some(office("bob")),
        office("bob"),
        2,
        Some("CHG118230 weekend maintenance"),
    ));
    add(planned(
        8,
        17 * 60 + 20,
        "carol",
        "web-02",
        &[22],
        Some(office("carol")),
        office("carol"),
        1,
        Some("INC209941 late deploy check"),
    ));
    add(planned(
        1,
        7 * 60 + 30,
        "dave",
        "sql-01",
        &[5985],
        Some(office("dave")),
        office("dave"),
        1,
        Some("CHG107713 early backup check"),
    ));
    // JIT002 + JIT009: bob from home.
    add(planned(
        3,
        9 * 60 + 40,
        "bob",
        "web-02",
        &[22],
        None,
        tenant::HOME_IP,
        1,
        Some("INC203311 hotfix from home"),
    ));
    // JIT003, JIT007, JIT012 (the write is an event, below): carol on the bastion, to '*', 5 hours.
    add(planned(
        4,
        11 * 60,
        "carol",
        "bastion-01",
        &[22],
        Some("*"),
        office("carol"),
        5,
        Some("CHG120045 vendor session"),
    ));
    add(planned(
        10,
        13 * 60,
        "dave",
        "web-01",
        &[22],
        Some("10.0.0.0/8"),
        office("dave"),
        1,
        // JIT021: a SAS URL pasted into the justification, signature and all.
        Some(
            "CHG130032 vpn troubleshooting, profile at https://stsharedvpn.blob.core.windows.net/vpn/client.ovpn?sv=2022-11-02&sr=b&sp=r&sig=Hq3x0fPz2T4kR9sLmN1vB7cD5eF8gJ0aZ%3D",
        ),
    ));
    // JIT008: poor justifications.
    add(planned(
        1,
        10 * 60 + 5,
        "carol",
        "dev-build-01",
        &[22],
        Some(office("carol")),
        office("carol"),
        1,
        None,
    ));
    add(planned(
        2,
        11 * 60 + 15,
        "bob",
        "monitor-01",
        &[22],
        Some(office("bob")),
        office("bob"),
        1,
        Some("test"),
    ));
    add(planned(
        3,
        14 * 60 + 45,
        "dave",
        "web-02",
        &[22],
        Some(office("dave")),
        office("dave"),
        1,
        Some("asdf"),
    ));
    add(planned(
        4,
        14 * 60 + 10,
        "alice",
        "sql-01",
        &[3389],
        Some(office("alice")),
        office("alice"),
        1,
        Some("need access"),
    ));
    // JIT010: bob's burst on day 9.
    // Spread over three VMs 30 minutes apart, so no VM is held open back to back.
    for i in 0..11 {
        let vm = ["web-01", "web-02", "monitor-01"][i as usize % 3];
        add(planned(
            9,
            8 * 60 + 30 + i * 30,
            "bob",
            vm,
            &[22],
            Some(office("bob")),
            office("bob"),
            1,
            Some(&format!("CHG14{i:04} rolling restart")),
        ));
    }
    // JIT014: dave chains three 3-hour requests on sql-01 3389.
    for i in 0..3 {
        add(planned(
            8,
            8 * 60 + i * 180,
            "dave",
            "sql-01",
            &[3389],
            Some(office("dave")),
            office("dave"),
            3,
            Some("CHG150001 data migration"),
        ));
    }
    // JIT009 + JIT002: alice from a hotel; JIT016: alice opens jump-01 for another address.
    add(planned(
        11,
        14 * 60 + 20,
        "alice",
        "dev-build-01",
        &[22],
        Some(tenant::HOTEL_IP),
        tenant::HOTEL_IP,
        1,
        Some("INC220012 travel support"),
    ));
    add(planned(
        11,
        15 * 60,
        "alice",
        "jump-01",
        &[3389],
        Some(tenant::HOTEL_IP),
        office("alice"),
        1,
        Some("INC220013 access for contractor"),
    ));
    // JIT015: mallory is no approved requestor; the automation principal requests access.
    add(planned(
        4,
        12 * 60,
        "mallory",
        "dev-build-01",
        &[22],
        Some(office("mallory")),
        office("mallory"),
        1,
        Some("CHG160123 build cache cleanup"),
    ));
    out.push(Request {
        at: START + 12 * DAY + 3 * HOUR + 7 * MINUTE,
        who: Who::Automation,
        vm: vm_index("jump-01"),
        ports: vec![3389],
        source: Some(tenant::AUTOMATION_IP.to_string()),
        caller_ip: tenant::AUTOMATION_IP.to_string(),
        hours: 1,
        justification: Some("CHG170001 scheduled compliance scan".to_string()),
        failed: false,
    });
    // JIT011: mallory's failed attempts.
    for i in 0..3 {
        let mut r = planned(
            6,
            22 * 60 + i * 4,
            "mallory",
            "sql-01",
            &[3389],
            None,
            tenant::HOME_IP,
            1,
            Some("urgent"),
        );
        r.failed = true;
        out.push(r);
    }
    let _ = rng;
}
