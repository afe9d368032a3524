//! `jitaudit sample`: a synthetic tenant in every shape jitaudit reads, deterministic for a
//! seed. Each subscription's Activity Log goes to one primary shape; the JIT events of some
//! are also in a second export (Log Analytics, portal CSV), as auditors really get them, so
//! the load's de-duplication is exercised. `--scale` multiplies the background activity.

mod estate;
mod events;
mod inventory;
mod rbac;
mod shapes;
mod story;
pub mod tenant;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

pub use estate::Estate;
use events::Event;
use story::{DAY, HOUR, Ms, Rng, START};
use tenant::SUBS;

/// What to generate.
/// Where a generated estate's Activity Log goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogShape {
    /// Hourly diagnostic-settings blobs (JSON Lines), as a storage account holds them.
    Blobs,
    /// `AzureActivity` rows as a Log Analytics workspace holds them.
    LogAnalytics,
}

pub struct Settings {
    pub seed: u64,
    pub days: u32,
    pub scale: u32,
    /// Every subscription's Activity Log as diagnostic-settings JSON Lines blobs and nothing
    /// else of the log: the benchmark's input, which DuckDB reads too.
    pub jsonl_only: bool,
    /// The percentage of background operations that are NSG rule writes by automation (the
    /// benchmark's NSG-heavy mix); 0 keeps the default tenant.
    pub nsg_share: u32,
    /// A generated estate of this size instead of the story's three subscriptions.
    pub estate: Option<Estate>,
}

/// Writes the tenant into `out` and returns the files written.
pub fn generate(out: &Path, s: &Settings) -> Result<Vec<PathBuf>> {
    if let Some(e) = &s.estate {
        return estate::generate(out, s, e);
    }
    let mut rng = Rng::new(s.seed);
    let requests = story::requests(&mut rng, s.days);
    let mut jit: Vec<Event> = events::policy_events(&mut rng, s.days);
    for r in &requests {
        jit.extend(events::request_events(r, &mut rng));
    }
    // Role grants (JIT019) draw on their own generator: the story's events stay as they were.
    jit.extend(rbac::grants(&mut Rng::new(s.seed ^ 0x0019_0019)));
    let end = START + s.days as i64 * DAY;
    jit.retain(|e| e.at < end);
    jit.sort_by_key(|e| (e.at, e.event_id.clone()));
    let mut w = Writer {
        out: out.to_path_buf(),
        written: Vec::new(),
    };
    let snapshot = inventory::snapshot_time(s.days);

    // Inventory, as ARM lists them at the end of the window.
    w.json("arm/subscriptions.json", &inventory::subscriptions())?;
    for (sub, short) in ["prod", "dev", "shared"].iter().enumerate() {
        w.json(
            &format!("arm/virtual-machines-{short}.json"),
            &inventory::virtual_machines(sub),
        )?;
    }
    w.json(
        "arm/network-interfaces.json",
        &inventory::network_interfaces(),
    )?;
    w.json(
        "arm/network-security-groups.json",
        &inventory::network_security_groups(&requests, snapshot),
    )?;
    let policy = |sub, rg, forget| inventory::policy(sub, rg, &requests, snapshot, forget);
    // Three shapes of the policy list: an ARM list, a single GET, an array of policies.
    let prod: Vec<Value> = [
        policy(0, "rg-prod-web", START),
        policy(0, "rg-prod-sql", START),
    ]
    .into_iter()
    .flatten()
    .collect();
    w.json("arm/jit-policies-prod.json", &json!({"value": prod}))?;
    if let Some(dev) = policy(1, "rg-dev", START) {
        w.json("arm/jit-policy-dev.json", &dev)?;
    }
    let shared: Vec<Value> = policy(2, "rg-shared", START + 2 * DAY)
        .into_iter()
        .collect();
    w.json("arm/jit-policies-shared.json", &Value::Array(shared))?;
    w.json(
        "arm/azure-firewalls-shared.json",
        &inventory::azure_firewalls(&requests, snapshot),
    )?;
    // Who can open ports, in the three shapes Azure gives them.
    w.json("arm/role-definitions.json", &rbac::definitions())?;
    w.json("arm/role-assignments-prod.json", &rbac::production())?;
    w.json("arm/role-assignments-dev.json", &rbac::development())?;
    w.json(
        "arm/role-eligibility-shared.json",
        &rbac::shared_eligibility(),
    )?;
    w.json(
        &format!(
            "graph/groups/{}/members-page-0001.json",
            rbac::ON_CALL_GROUP_ID
        ),
        &rbac::on_call_members(),
    )?;

    let day_events = |sub: usize, day: i64| -> Vec<Event> {
        let mut v: Vec<Event> = jit
            .iter()
            .filter(|e| e.sub.id == SUBS[sub].id && (e.at - START).div_euclid(DAY) == day)
            .cloned()
            .collect();
        v.extend(events::background(s.seed, sub, day, s.scale, s.nsg_share));
        v.sort_by_key(|e| (e.at, e.event_id.clone()));
        v
    };
    let days = s.days as i64;
    let half = days.min(7);

    // Diagnostic settings to a storage account, JSON Lines hourly blobs: development always,
    // every subscription for the benchmark.
    let blob_subs: &[usize] = if s.jsonl_only { &[0, 1, 2] } else { &[1] };
    for &sub in blob_subs {
        for day in 0..days {
            w.hourly_blobs(SUBS[sub].id, day, &day_events(sub, day))?;
        }
    }
    if s.jsonl_only {
        w.text("jitaudit.toml", tenant::CONFIG)?;
        return Ok(w.written);
    }
    // Production: `az monitor activity-log list` for the first week, two REST API pages after.
    let first: Vec<Value> = (0..half)
        .flat_map(|d| day_events(0, d))
        .map(|e| shapes::rest(&e))
        .collect();
    w.json(
        "activity-log/prod/az-activity-log-list.json",
        &Value::Array(first),
    )?;
    if days > half {
        let split = half + (days - half) / 2;
        let page = |from: i64, to: i64| -> Vec<Value> {
            (from..to)
                .flat_map(|d| day_events(0, d))
                .map(|e| shapes::rest(&e))
                .collect()
        };
        let next = format!(
            "https://management.azure.com/subscriptions/{}/providers/microsoft.insights/eventtypes/management/values?api-version=2015-04-01&$filter=eventTimestamp%20ge%20'{}'&$skiptoken=c2tpcHRva2VuPTI",
            SUBS[0].id,
            events::ms_time7(START)
        );
        // The API answers compact JSON; `az` pretty-prints.
        w.json_compact(
            "activity-log/prod/rest-page-1.json",
            &json!({"value": page(half, split), "nextLink": next}),
        )?;
        w.json_compact(
            "activity-log/prod/rest-page-2.json",
            &json!({"value": page(split, days), "nextLink": null}),
        )?;
    }
    // Its JIT events again, as a Log Analytics CSV export.
    let prod_jit: Vec<&Event> = jit
        .iter()
        .filter(|e| e.sub.id == SUBS[0].id && e.operation.starts_with("Microsoft.Security/"))
        .collect();
    w.la_csv("log-analytics/AzureActivity-prod-jit.csv", &prod_jit)?;

    // Its initiate events again, as the portal's "Download as CSV".
    let dev_initiate: Vec<&Event> = jit
        .iter()
        .filter(|e| e.sub.id == SUBS[1].id && e.operation == events::OP_INITIATE)
        .collect();
    w.portal_csv("portal/JIT-activity-log-dev.csv", &dev_initiate)?;

    // Shared services: Event Hubs capture for the first week, pre-2018 `records` blobs after.
    let capture: Vec<Value> = (0..half)
        .flat_map(|d| day_events(2, d))
        .map(|e| shapes::record(&e, false))
        .collect();
    w.json(
        "event-hubs/activity-capture-shared.json",
        &json!({"records": capture}),
    )?;
    for day in half..days {
        let records: Vec<Value> = day_events(2, day)
            .iter()
            .map(|e| shapes::record(e, true))
            .collect();
        w.json(
            &format!("legacy-storage/{}", blob_path(2, START + day * DAY)),
            &json!({"records": records}),
        )?;
    }
    // Its JIT events again, as a Log Analytics JSON export.
    let shared_jit: Vec<Value> = jit
        .iter()
        .filter(|e| e.sub.id == SUBS[2].id && e.operation.starts_with("Microsoft.Security/"))
        .map(|e| Value::Object(shapes::log_analytics(e)))
        .collect();
    w.json(
        "log-analytics/AzureActivity-shared-jit.json",
        &Value::Array(shared_jit),
    )?;

    w.text("jitaudit.toml", tenant::CONFIG)?;
    w.readme(s, &requests)?;
    Ok(w.written)
}

/// `insights-activity-logs/resourceId=/SUBSCRIPTIONS/{ID}/y=/m=/d=/h=/m=00/PT1H.json`.
fn blob_path(sub: usize, at: Ms) -> String {
    blob_path_of(SUBS[sub].id, at)
}

/// [`blob_path`] of any subscription id.
fn blob_path_of(subscription: &str, at: Ms) -> String {
    let t = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default();
    format!(
        "insights-activity-logs/resourceId=/SUBSCRIPTIONS/{}/{}/m=00/PT1H.json",
        subscription.to_uppercase(),
        t.format("y=%Y/m=%m/d=%d/h=%H")
    )
}

struct Writer {
    out: PathBuf,
    written: Vec<PathBuf>,
}

impl Writer {
    fn create(&mut self, rel: &str) -> Result<BufWriter<File>> {
        let path = self.out.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        self.written.push(path);
        Ok(BufWriter::new(f))
    }

    fn json(&mut self, rel: &str, v: &Value) -> Result<()> {
        let mut f = self.create(rel)?;
        serde_json::to_writer_pretty(&mut f, v)?;
        f.write_all(b"\n")?;
        Ok(f.flush()?)
    }

    fn json_compact(&mut self, rel: &str, v: &Value) -> Result<()> {
        let mut f = self.create(rel)?;
        serde_json::to_writer(&mut f, v)?;
        f.write_all(b"\n")?;
        Ok(f.flush()?)
    }

    fn text(&mut self, rel: &str, text: &str) -> Result<()> {
        let mut f = self.create(rel)?;
        f.write_all(text.as_bytes())?;
        Ok(f.flush()?)
    }

    /// One day's events of a subscription (in time order) as the hourly JSON Lines blobs a
    /// diagnostic setting writes, an hour without events writing none; returns the blobs and
    /// records written.
    fn hourly_blobs(
        &mut self,
        subscription: &str,
        day: i64,
        events: &[Event],
    ) -> Result<(usize, usize)> {
        let (mut blobs, mut records) = (0, 0);
        for hour in 0..24 {
            let lo = START + day * DAY + hour * HOUR;
            let in_hour: Vec<&Event> = events
                .iter()
                .filter(|e| e.at >= lo && e.at < lo + HOUR)
                .collect();
            if in_hour.is_empty() {
                continue;
            }
            blobs += 1;
            records += in_hour.len();
            self.json_lines(&blob_path_of(subscription, lo), &in_hour)?;
        }
        Ok((blobs, records))
    }

    fn json_lines(&mut self, rel: &str, events: &[&Event]) -> Result<()> {
        let mut f = self.create(rel)?;
        for e in events {
            serde_json::to_writer(&mut f, &shapes::record(e, true))?;
            f.write_all(b"\n")?;
        }
        Ok(f.flush()?)
    }

    fn la_csv(&mut self, rel: &str, events: &[&Event]) -> Result<()> {
        let f = self.create(rel)?;
        let mut csv = csv::Writer::from_writer(f);
        // The portal's Log Analytics export marks time columns with their zone.
        let header: Vec<String> = shapes::LA_CSV_COLUMNS
            .iter()
            .map(|c| {
                if matches!(*c, "TimeGenerated" | "EventSubmissionTimestamp") {
                    format!("{c} [UTC]")
                } else {
                    c.to_string()
                }
            })
            .collect();
        csv.write_record(&header)?;
        for e in events {
            let row = shapes::log_analytics(e);
            csv.write_record(shapes::LA_CSV_COLUMNS.iter().map(|c| match row.get(*c) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }))?;
        }
        Ok(csv.flush()?)
    }

    fn portal_csv(&mut self, rel: &str, events: &[&Event]) -> Result<()> {
        let f = self.create(rel)?;
        let mut csv = csv::Writer::from_writer(f);
        csv.write_record(shapes::PORTAL_COLUMNS)?;
        for e in events {
            csv.write_record(shapes::portal(e))?;
        }
        Ok(csv.flush()?)
    }

    fn readme(&mut self, s: &Settings, requests: &[story::Request]) -> Result<()> {
        let mut f = self.create("README.md")?;
        let granted = requests.iter().filter(|r| !r.failed).count();
        writeln!(f, "# Sample tenant\n")?;
        writeln!(
            f,
            "Synthetic, written by `jitaudit sample --seed {} --days {} --scale {}`; regenerate it rather than editing it.",
            s.seed, s.days, s.scale
        )?;
        writeln!(
            f,
            "Three subscriptions, nine VMs, five people and an automation service principal, {} days from Monday 2 November 2026 (UTC).",
            s.days
        )?;
        writeln!(
            f,
            "{granted} JIT requests were granted and {} failed; every export shape jitaudit reads is here.\n",
            requests.len() - granted
        )?;
        writeln!(f, "## Files\n")?;
        writeln!(f, "| path | shape | what it holds |\n|---|---|---|")?;
        for (path, shape, what) in FILES {
            writeln!(f, "| `{path}` | {shape} | {what} |")?;
        }
        writeln!(f, "\n## Planted anomalies\n")?;
        writeln!(
            f,
            "Business hours are 08:00-18:00 Monday to Friday in Europe/Berlin (alice works from America/New_York); the office range is 203.0.113.0/24; day 1 is 2 November.\n"
        )?;
        writeln!(f, "| rule | what was planted |\n|---|---|")?;
        for (rule, what) in tenant::PLANTED {
            writeln!(f, "| {rule} | {what} |")?;
        }
        Ok(f.flush()?)
    }
}

const FILES: &[(&str, &str, &str)] = &[
    (
        "jitaudit.toml",
        "configuration",
        "what the sample is audited with: Berlin business hours, the office range, ticket-number justifications, approved requestors, one live and one expired suppression",
    ),
    (
        "arm/subscriptions.json",
        "ARM list of subscriptions",
        "the three subscriptions",
    ),
    (
        "arm/virtual-machines-*.json",
        "ARM list of VMs",
        "VMs per subscription; `-shared` uses the minimal list shape (id and location only)",
    ),
    (
        "arm/network-interfaces.json",
        "ARM list of NICs",
        "private IPs, public IPs, NIC-level NSGs",
    ),
    (
        "arm/network-security-groups.json",
        "ARM list of NSGs",
        "JIT deny rules (old and new naming), the one open request's allow rule, standing rules",
    ),
    (
        "arm/jit-policies-prod.json",
        "JIT policies, ARM list",
        "two policies with their request history",
    ),
    (
        "arm/jit-policy-dev.json",
        "JIT policy, single GET",
        "the development policy",
    ),
    (
        "arm/jit-policies-shared.json",
        "JIT policies, JSON array",
        "the shared-services policy, whose history has forgotten the first two days",
    ),
    (
        "arm/azure-firewalls-shared.json",
        "ARM list of Azure Firewalls",
        "the shared services' hub firewall: bastion-01 and monitor-01 sit behind it, JIT opening DNAT rules",
    ),
    (
        "arm/role-definitions.json",
        "`az role definition list`",
        "built-in roles and two custom ones: the narrow JIT Requester, a network role that cannot open ports",
    ),
    (
        "arm/role-assignments-prod.json",
        "ARM list of role assignments (no names)",
        "production's assignments: people, a pipeline, a group, a break-glass Owner at the root",
    ),
    (
        "arm/role-assignments-dev.json",
        "`az role assignment list --all`",
        "development's assignments, with names",
    ),
    (
        "arm/role-eligibility-shared.json",
        "ARM list of PIM eligibility instances",
        "dave may activate Owner or JIT Requester on shared services",
    ),
    (
        "graph/groups/…/members-page-0001.json",
        "Microsoft Graph `transitiveMembers` page",
        "the on-call group's members (a user, a nested group, a service principal)",
    ),
    (
        "activity-log/prod/az-activity-log-list.json",
        "REST EventData array (`az monitor activity-log list`)",
        "production, first week",
    ),
    (
        "activity-log/prod/rest-page-*.json",
        "REST API pages with `nextLink`",
        "production, second week",
    ),
    (
        "log-analytics/AzureActivity-prod-jit.csv",
        "Log Analytics AzureActivity CSV",
        "production's JIT events again (merged as duplicates)",
    ),
    (
        "insights-activity-logs/resourceId=/SUBSCRIPTIONS/…/PT1H.json",
        "diagnostic settings to storage, JSON Lines",
        "development, hourly blobs, upper-case ids",
    ),
    (
        "portal/JIT-activity-log-dev.csv",
        "portal \"Download as CSV\"",
        "development's initiate events again (merged as duplicates)",
    ),
    (
        "event-hubs/activity-capture-shared.json",
        "Event Hubs `{\"records\": [...]}`",
        "shared services, first week",
    ),
    (
        "legacy-storage/insights-activity-logs/…/PT1H.json",
        "pre-2018 storage `{\"records\": [...]}` blobs",
        "shared services, second week",
    ),
    (
        "log-analytics/AzureActivity-shared-jit.json",
        "Log Analytics AzureActivity JSON",
        "shared services' JIT events again (merged as duplicates)",
    ),
];
