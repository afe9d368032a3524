//! A generated estate, for what the story's three subscriptions cannot show: how the report,
//! the caller view and the collectors behave at the size of a real tenant
//! (`jitaudit sample --subscriptions 20 --vms 400 --people 60 --days 90`). The events are the
//! story's kinds, made by the same code (`events::request_events_on`, `events::background_in`),
//! so every shape and rule reads them as it reads the story's; only the cast is generated.
//!
//! What it holds, in proportions rather than planted cases: about nine VMs in ten under a JIT
//! policy (the rest are JIT005), a few policies open to `*` or allowing 24 hours, people who
//! work on two or three subscriptions and ask for access about once a working day, some at odd
//! hours, from home, without a ticket, or refused. The README it writes gives the counts.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};
use chrono::Datelike;
use serde_json::{Value, json};

use super::events::{self, Event, Scope, Target};
use super::story::{DAY, HOUR, MINUTE, Ms, Request, Rng, START, TASKS, Who};
use super::tenant::{self, Person, Sub};
use super::{Settings, Writer, shapes};

/// The size of the estate.
#[derive(Debug, Clone, Copy)]
pub struct Estate {
    pub subscriptions: u32,
    pub vms: u32,
    pub people: u32,
    pub log_shape: super::LogShape,
}

const APPS: &[&str] = &[
    "payments",
    "retail",
    "logistics",
    "identity",
    "analytics",
    "crm",
    "billing",
    "search",
    "media",
    "hr",
    "portal",
    "telemetry",
];
const STAGES: &[&str] = &["Production", "Development", "Test", "Shared Services"];
/// VM roles and their OS: Windows VMs are reached on RDP and WinRM, Linux ones on SSH.
const ROLES: &[(&str, &str)] = &[
    ("web", "Linux"),
    ("app", "Linux"),
    ("api", "Linux"),
    ("sql", "Windows"),
    ("jump", "Windows"),
    ("batch", "Linux"),
    ("cache", "Linux"),
    ("build", "Windows"),
];
const FIRST: &[&str] = &[
    "ana", "ben", "chloe", "dan", "elena", "farid", "grace", "hugo", "ines", "jonas", "kemal",
    "lena", "marco", "nora", "omar", "paula", "quinn", "rosa", "sven", "tara",
];
const LAST: &[&str] = &[
    "adams", "berg", "costa", "dietz", "evans", "fischer", "garcia", "horn", "ito", "jansen",
    "klein", "lopez", "meyer", "novak", "olsen", "petrov", "quist", "richter", "silva", "weber",
];
const APPROVED: &str = "203.0.113.0/24";

/// A VM of the estate and its JIT policy entry, if it has one.
struct Machine {
    sub: usize,
    rg: String,
    name: String,
    os: &'static str,
    ports: &'static [u16],
    covered: bool,
    source: &'static str,
    max_duration: &'static str,
}

impl Machine {
    fn id(&self, subs: &[&'static Sub]) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
            subs[self.sub].id, self.rg, self.name
        )
    }

    fn policy_id(&self, subs: &[&'static Sub]) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default",
            subs[self.sub].id, self.rg
        )
    }

    fn target(&self, subs: &[&'static Sub], number: i64, private_ip: String) -> Target {
        Target {
            sub: subs[self.sub],
            vm_id: self.id(subs),
            vm_name: self.name.clone(),
            policy_id: self.policy_id(subs),
            nsg_id: format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkSecurityGroups/{}-nsg",
                subs[self.sub].id, self.rg, self.name
            ),
            rule_number: number,
            private_ip,
            firewall: None,
        }
    }
}

/// The cast: subscriptions, VMs, people and where each person works. Subscriptions and people
/// live for the rest of the process (events hold `&'static` references to them, as to the
/// story's constants); `sample` is a one-shot command, so the leak is the process's lifetime.
struct Cast {
    subs: Vec<&'static Sub>,
    machines: Vec<Machine>,
    people: Vec<&'static Person>,
    /// For each person, the subscriptions they work on.
    works_on: Vec<Vec<usize>>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn cast(rng: &mut Rng, e: &Estate) -> Cast {
    let n_subs = e.subscriptions as usize;
    let subs: Vec<&'static Sub> = (0..n_subs)
        .map(|i| {
            let app = APPS[i % APPS.len()];
            let stage = STAGES[(i / APPS.len()) % STAGES.len()];
            let round = i / (APPS.len() * STAGES.len());
            let mut name = format!("Contoso {}{} {stage}", app[..1].to_uppercase(), &app[1..]);
            if round > 0 {
                name.push_str(&format!(" {}", round + 1));
            }
            &*Box::leak(Box::new(Sub {
                id: leak(format!(
                    "{:08x}-e57a-4b00-8c00-{:012x}",
                    0x5000_0000 + i,
                    i + 1
                )),
                name: leak(name),
            }))
        })
        .collect();
    let mut per_sub = vec![0usize; n_subs];
    let machines: Vec<Machine> = (0..e.vms as usize)
        .map(|j| {
            let sub = j % n_subs;
            let k = per_sub[sub];
            per_sub[sub] += 1;
            let (role, os) = *rng.pick(ROLES);
            let covered = rng.below(100) < 90;
            let source = if rng.below(100) < 2 { "*" } else { APPROVED };
            let max_duration = if rng.below(100) < 5 { "PT24H" } else { "PT3H" };
            Machine {
                sub,
                rg: format!("rg-{}-{}", APPS[sub % APPS.len()], k % 4 + 1),
                name: format!("{role}-{:02}", k + 1),
                os,
                ports: if os == "Windows" {
                    &[3389, 5985, 5986]
                } else {
                    &[22]
                },
                covered,
                source,
                max_duration,
            }
        })
        .collect();
    let people: Vec<&'static Person> = (0..e.people as usize)
        .map(|i| {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len() + i) % LAST.len()];
            let round = i / (FIRST.len() * LAST.len());
            let suffix = if round > 0 {
                (round + 1).to_string()
            } else {
                String::new()
            };
            &*Box::leak(Box::new(Person {
                upn: leak(format!("{first}.{last}{suffix}@contoso.com")),
                name: leak(format!(
                    "{}{} {}{}",
                    first[..1].to_uppercase(),
                    &first[1..],
                    last[..1].to_uppercase(),
                    &last[1..]
                )),
                object_id: leak(format!(
                    "{:08x}-7e0a-4000-8000-{:012x}",
                    0xa000_0000 + i,
                    i + 1
                )),
                office_ip: leak(format!("203.0.113.{}", 20 + i % 230)),
            }))
        })
        .collect();
    let works_on = (0..people.len())
        .map(|i| {
            let mut subs = vec![i % n_subs];
            for _ in 0..1 + rng.below(2) {
                let s = rng.below(n_subs as u64) as usize;
                if !subs.contains(&s) {
                    subs.push(s);
                }
            }
            subs
        })
        .collect();
    Cast {
        subs,
        machines,
        people,
        works_on,
    }
}

/// The requests of the window: each person, on each working day, asks for access about nine
/// days in ten (and on one weekend day in thirty); one request in twenty is at an odd hour,
/// one in forty from home, one in two hundred for `*`, one in twenty without a ticket, one in
/// fifty refused. Returns each request with the VM it is for, in time order.
fn requests(rng: &mut Rng, cast: &Cast, days: u32) -> Vec<(Request, usize)> {
    let mut out = Vec::new();
    for day in 0..days as i64 {
        let date = chrono::DateTime::from_timestamp_millis(START + day * DAY).unwrap_or_default();
        let weekend = date.weekday().number_from_monday() > 5;
        for (p, person) in cast.people.iter().enumerate() {
            let chance = if weekend { 3 } else { 90 };
            if rng.below(100) >= chance {
                continue;
            }
            let sub = *rng.pick(&cast.works_on[p]);
            let choices: Vec<usize> = (0..cast.machines.len())
                .filter(|m| cast.machines[*m].sub == sub && cast.machines[*m].covered)
                .collect();
            if choices.is_empty() {
                continue;
            }
            let vm = *rng.pick(&choices);
            let machine = &cast.machines[vm];
            let odd = rng.below(100) < 5;
            let hour = if odd {
                rng.below(5) as i64
            } else {
                7 + rng.below(9) as i64
            };
            let at = START
                + day * DAY
                + hour * HOUR
                + rng.below(60) as i64 * MINUTE
                + rng.below(60_000) as i64;
            let home = rng.below(1000) < 25;
            let caller_ip = if home {
                format!("198.51.100.{}", 1 + p % 250)
            } else {
                person.office_ip.to_string()
            };
            let source = (rng.below(1000) < 5).then(|| "*".to_string());
            let hours = if machine.max_duration == "PT24H" && rng.below(4) == 0 {
                8 + rng.below(5) as i64
            } else {
                1 + rng.below(3) as i64
            };
            let justification = (rng.below(100) >= 5)
                .then(|| format!("CHG{} {}", 100_000 + rng.below(900_000), rng.pick(TASKS)));
            let failed = rng.below(100) < 2;
            out.push((
                Request {
                    at,
                    who: Who::Member(person),
                    vm: 0,
                    ports: vec![machine.ports[0]],
                    source,
                    caller_ip,
                    hours,
                    justification,
                    failed,
                },
                vm,
            ));
        }
    }
    out.sort_by_key(|(r, _)| r.at);
    out
}

/// Writes the estate into `out` and returns the files written.
pub fn generate(out: &Path, s: &Settings, e: &Estate) -> Result<Vec<std::path::PathBuf>> {
    if e.subscriptions == 0 || e.vms < e.subscriptions || e.people == 0 {
        bail!(
            "an estate needs at least one subscription, one VM per subscription and one person \
             (asked for {} subscriptions, {} VMs, {} people)",
            e.subscriptions,
            e.vms,
            e.people
        );
    }
    let mut rng = Rng::new(s.seed ^ 0xe57a_7e00);
    let mut cast = cast(&mut rng, e);
    let end = START + s.days as i64 * DAY;
    let snapshot = super::inventory::snapshot_time(s.days);

    // The JIT events, bucketed by subscription and day. The automation account applies each
    // policy on the first morning; in one subscription in ten somebody then opens a policy to
    // `*` by hand (JIT004, JIT007).
    let index: BTreeMap<&str, usize> = cast
        .subs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    let mut jit: BTreeMap<(usize, i64), Vec<Event>> = BTreeMap::new();
    let mut add = |ev: Event| {
        if ev.at < end {
            let key = (index[ev.sub.id], (ev.at - START).div_euclid(DAY));
            jit.entry(key).or_default().push(ev);
        }
    };
    let mut policy_writes = 0usize;
    for (m, machine) in cast.machines.iter().enumerate() {
        if !machine.covered {
            continue;
        }
        for ev in events::policy_write(
            &mut rng,
            START + 6 * HOUR + (m % 600) as i64 * 5_000,
            cast.subs[machine.sub],
            &machine.policy_id(&cast.subs),
            &machine.id(&cast.subs),
            machine.ports,
            Who::Automation,
            tenant::AUTOMATION_IP,
            APPROVED,
            false,
        ) {
            add(ev);
        }
        policy_writes += 1;
    }
    let mut tampered = Vec::new();
    for sub in 0..cast.subs.len() {
        if rng.below(10) != 0 || s.days < 2 {
            continue;
        }
        let candidates: Vec<usize> = (0..cast.machines.len())
            .filter(|m| cast.machines[*m].sub == sub && cast.machines[*m].covered)
            .collect();
        let people: Vec<usize> = (0..cast.people.len())
            .filter(|p| cast.works_on[*p].contains(&sub))
            .collect();
        if candidates.is_empty() || people.is_empty() {
            continue;
        }
        let m = *rng.pick(&candidates);
        let who = cast.people[*rng.pick(&people)];
        let at = START + (1 + rng.below(s.days as u64 - 1) as i64) * DAY + 14 * HOUR;
        let machine = &cast.machines[m];
        for ev in events::policy_write(
            &mut rng,
            at,
            cast.subs[machine.sub],
            &machine.policy_id(&cast.subs),
            &machine.id(&cast.subs),
            machine.ports,
            Who::Member(who),
            who.office_ip,
            "*",
            false,
        ) {
            add(ev);
        }
        tampered.push(m);
        policy_writes += 1;
    }
    for m in tampered {
        cast.machines[m].source = "*";
    }
    let requests = requests(&mut rng, &cast, s.days);
    for (r, vm) in &requests {
        let machine = &cast.machines[*vm];
        let number = (rng.next() as u32 as i32) as i64;
        let ip = format!(
            "10.{}.{}.{}",
            machine.sub % 250,
            vm / 250 % 250,
            4 + vm % 250
        );
        let target = machine.target(&cast.subs, number, ip);
        for ev in events::request_events_on(r, &target, &mut rng) {
            add(ev);
        }
    }

    let mut w = Writer {
        out: out.to_path_buf(),
        written: Vec::new(),
    };
    w.json("arm/subscriptions.json", &subscriptions(&cast))?;
    for sub in 0..cast.subs.len() {
        w.json(
            &format!("arm/virtual-machines-{:03}.json", sub + 1),
            &virtual_machines(&cast, sub),
        )?;
        w.json(
            &format!("arm/jit-policies-{:03}.json", sub + 1),
            &policies(&cast, sub, &requests, snapshot),
        )?;
    }
    let mut blobs = 0usize;
    let mut records = 0usize;
    let mut rows: Vec<Value> = Vec::new();
    for (i, sub) in cast.subs.iter().enumerate() {
        let scope = Scope {
            index: 3 + i,
            sub,
            rg: format!("rg-{}-1", APPS[i % APPS.len()]),
            vms: (0..cast.machines.len())
                .filter(|m| cast.machines[*m].sub == i)
                .map(|m| cast.machines[m].id(&cast.subs))
                .collect(),
            people: {
                let mut v: Vec<Who> = (0..cast.people.len())
                    .filter(|p| cast.works_on[*p].contains(&i))
                    .map(|p| Who::Member(cast.people[p]))
                    .collect();
                if v.is_empty() {
                    v.push(Who::Member(cast.people[i % cast.people.len()]));
                }
                v
            },
        };
        for day in 0..s.days as i64 {
            let mut evs = jit.remove(&(i, day)).unwrap_or_default();
            evs.extend(events::background_in(
                &scope,
                s.seed,
                day,
                s.scale,
                s.nsg_share,
            ));
            evs.sort_by_key(|e| (e.at, e.event_id.clone()));
            match e.log_shape {
                super::LogShape::Blobs => {
                    let (b, r) = w.hourly_blobs(sub.id, day, &evs)?;
                    blobs += b;
                    records += r;
                }
                super::LogShape::LogAnalytics => {
                    records += evs.len();
                    rows.extend(evs.iter().map(|e| Value::Object(shapes::log_analytics(e))));
                }
            }
        }
        if !rows.is_empty() {
            blobs += 1;
            w.json_compact(
                &format!("log-analytics/AzureActivity-{:03}.json", i + 1),
                &Value::Array(std::mem::take(&mut rows)),
            )?;
        }
    }
    w.text("jitaudit.toml", &config())?;
    let granted = requests.iter().filter(|(r, _)| !r.failed).count();
    let uncovered = cast.machines.iter().filter(|m| !m.covered).count();
    let open_policies = cast
        .machines
        .iter()
        .filter(|m| m.covered && m.source == "*")
        .count();
    let readme = format!(
        "# Generated estate\n\n\
         Written by `jitaudit sample --subscriptions {} --vms {} --people {} --days {} --scale {} --seed {}`.\n\
         Audit it from this directory with `jitaudit report . --config jitaudit.toml --out report`.\n\n\
         - {} subscriptions, {} VMs ({} without a JIT policy, {} with a policy entry open to `*`), {} people.\n\
         - {} JIT requests, of which {granted} JIT requests were granted; {} JIT policy writes.\n\
         - {records} Activity Log records in {blobs} {}.\n\n\
         People work on two or three subscriptions and ask for access about nine working days in \
         ten: one request in twenty at an odd hour, one in forty from home, one in two hundred \
         for `*`, one in twenty without a ticket, one in fifty refused.\n",
        e.subscriptions,
        e.vms,
        e.people,
        s.days,
        s.scale,
        s.seed,
        cast.subs.len(),
        cast.machines.len(),
        uncovered,
        open_policies,
        cast.people.len(),
        requests.len(),
        policy_writes,
        match e.log_shape {
            super::LogShape::Blobs => "hourly diagnostic-settings blobs",
            super::LogShape::LogAnalytics => "files of Log Analytics AzureActivity rows",
        },
    );
    w.text("README.md", &readme)?;
    Ok(w.written)
}

/// The subscription list (azure-formats.md 5.2).
fn subscriptions(cast: &Cast) -> Value {
    let value: Vec<Value> = cast
        .subs
        .iter()
        .map(|s| {
            json!({"id": format!("/subscriptions/{}", s.id), "subscriptionId": s.id,
                   "tenantId": tenant::TENANT_ID, "displayName": s.name, "state": "Enabled"})
        })
        .collect();
    json!({"value": value})
}

/// One subscription's VMs as `VirtualMachines_ListAll` returns them (azure-formats.md 5.1).
fn virtual_machines(cast: &Cast, sub: usize) -> Value {
    let value: Vec<Value> = cast
        .machines
        .iter()
        .filter(|m| m.sub == sub)
        .map(|m| {
            json!({
                "id": m.id(&cast.subs),
                "name": m.name,
                "type": "Microsoft.Compute/virtualMachines",
                "location": "westeurope",
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                    "storageProfile": {"osDisk": {"osType": m.os}},
                    "provisioningState": "Succeeded"
                }
            })
        })
        .collect();
    json!({"value": value})
}

/// One subscription's JIT policies, one per resource group, as the list API returns them
/// (azure-formats.md 1.3), each with the granted requests of its VMs in its history.
fn policies(cast: &Cast, sub: usize, requests: &[(Request, usize)], snapshot: Ms) -> Value {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (m, machine) in cast.machines.iter().enumerate() {
        if machine.sub == sub && machine.covered {
            groups.entry(&machine.rg).or_default().push(m);
        }
    }
    let value: Vec<Value> = groups
        .values()
        .map(|members| {
            let vms: Vec<Value> = members
                .iter()
                .map(|m| {
                    let machine = &cast.machines[*m];
                    let ports: Vec<Value> = machine
                        .ports
                        .iter()
                        .map(|p| json!({"number": p, "protocol": "*",
                                        "allowedSourceAddressPrefix": machine.source,
                                        "maxRequestAccessDuration": machine.max_duration}))
                        .collect();
                    json!({"id": machine.id(&cast.subs), "ports": ports})
                })
                .collect();
            let history: Vec<Value> = requests
                .iter()
                .filter(|(r, vm)| members.contains(vm) && !r.failed && r.at < snapshot)
                .map(|(r, vm)| {
                    let open = r.end() > snapshot;
                    let ports: Vec<Value> = r
                        .ports
                        .iter()
                        .map(|p| json!({"number": p, "allowedSourceAddressPrefix": r.granted_source(),
                                        "endTimeUtc": events::ms_time7(r.end()),
                                        "status": if open { "Initiated" } else { "Revoked" },
                                        "statusReason": if open { "UserRequested" } else { "Expired" }}))
                        .collect();
                    let mut entry = json!({"virtualMachines": [{"id": cast.machines[*vm].id(&cast.subs), "ports": ports}],
                                           "startTimeUtc": events::ms_time7(r.at + 1000), "requestor": r.who.caller()});
                    if let Some(j) = &r.justification {
                        entry["justification"] = json!(j);
                    }
                    entry
                })
                .collect();
            json!({
                "kind": "Basic",
                "properties": {"virtualMachines": vms, "requests": history, "provisioningState": "Succeeded"},
                "id": cast.machines[members[0]].policy_id(&cast.subs),
                "name": "default",
                "type": "Microsoft.Security/locations/jitNetworkAccessPolicies",
                "location": "westeurope"
            })
        })
        .collect();
    json!({"value": value})
}

/// The configuration the estate is audited with: the story's (`tenant::CONFIG`) up to its
/// named people, with the automation account as the one expected policy writer.
fn config() -> String {
    let story = tenant::CONFIG;
    let settings = story
        .find('\n')
        .and_then(|first| Some(&story[first + 1..story.find("[requestors]")?]))
        .unwrap_or(story);
    format!(
        "# jitaudit configuration for a generated estate (see README.md)\n{settings}\
         [requestors]\nallow_service_principals = false\n\n\
         [policy_changes]\nallowed_callers = [\"{}\"]\n",
        tenant::AUTOMATION_OBJECT_ID
    )
}
