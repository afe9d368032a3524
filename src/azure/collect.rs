//! The collection itself (what is asked for is in `plan`): subscriptions, then per
//! subscription and concurrently its JIT policies (subscription scope, then each resource
//! group that holds VMs, because the subscription-scope list is known to omit policies), VMs,
//! NICs, NSGs and the Activity Log in day-sized windows. Every list follows `nextLink` to the
//! end; every page is written as received, whole or not at all.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::auth;
use super::http::{Arm, FetchError};
use super::manifest::{
    FileEntry, KindEntry, KindStatus, Manifest, ManifestRetry, ManifestWindow, RunStatus,
    SubscriptionEntry,
};
use super::plan::{
    ActivityScope, Kind, SUBSCRIPTION_PERMISSION, SUBSCRIPTIONS_LIST, Settings, activity_filter,
    day_windows, file_safe, percent_encode, resource_group, stamp,
};

/// What a finished run hands back to the command.
pub struct Outcome {
    pub manifest: Manifest,
}

/// Everything the concurrent tasks share.
struct Run {
    arm: Arm,
    out: PathBuf,
    settings: Settings,
    manifest: Mutex<Manifest>,
    bars: Mutex<BTreeMap<usize, ProgressBar>>,
    multi: MultiProgress,
}

/// Where a kind's results go in the manifest.
#[derive(Clone, Copy)]
enum Slot {
    SubscriptionList,
    Kind(usize, Kind),
}

impl Run {
    fn with_entry<T>(&self, slot: Slot, f: impl FnOnce(&mut KindEntry) -> T) -> T {
        let mut m = self.manifest.lock().expect("manifest lock");
        let entry = match slot {
            Slot::SubscriptionList => m.subscription_list.get_or_insert_with(KindEntry::default),
            Slot::Kind(i, kind) => m.subscriptions[i]
                .kinds
                .entry(kind.name().to_string())
                .or_default(),
        };
        f(entry)
    }

    fn save(&self) {
        let m = self.manifest.lock().expect("manifest lock");
        if let Err(e) = m.save(&self.out) {
            self.multi.println(format!("jitaudit: warning: {e:#}")).ok();
        }
    }

    /// Writes one page as received, `.part` first and renamed once whole.
    fn write_page(&self, rel: &str, body: &[u8]) -> Result<()> {
        let path = self.out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let tmp = path.with_extension("json.part");
        std::fs::write(&tmp, body).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        let entry = FileEntry {
            path: rel.to_string(),
            bytes: body.len() as u64,
            sha256: hex::encode(Sha256::digest(body)),
        };
        self.manifest
            .lock()
            .expect("manifest lock")
            .files
            .push(entry);
        Ok(())
    }

    /// Redraws a subscription's progress line from its manifest entry.
    fn tick(&self, slot: Slot) {
        let Slot::Kind(i, _) = slot else { return };
        let bars = self.bars.lock().expect("bars lock");
        let Some(bar) = bars.get(&i) else { return };
        let m = self.manifest.lock().expect("manifest lock");
        let sub = &m.subscriptions[i];
        let parts: Vec<String> = Kind::ALL
            .iter()
            .map(|k| match sub.kinds.get(k.name()) {
                Some(e) => {
                    let mark = match e.status {
                        KindStatus::Ok => " ✓",
                        KindStatus::Failed => " ✗",
                        _ => "",
                    };
                    format!("{} {}p/{}r{mark}", k.short(), e.pages, e.records)
                }
                None => format!("{} -", k.short()),
            })
            .collect();
        bar.set_message(parts.join("  "));
    }

    /// Follows one list from `first` through every `nextLink`, writing page n to
    /// `{prefix}page-{n:04}.json`. Returns the items' ids (for finding resource groups).
    async fn list(&self, slot: Slot, first: &str, prefix: &str) -> Result<Vec<String>, ListError> {
        let mut ids = Vec::new();
        let mut next = Some(first.to_string());
        let mut n = 0;
        while let Some(target) = next.take() {
            let url = self
                .arm
                .url(&target)
                .map_err(|e| ListError::from(e.to_string()))?;
            let page = match self.arm.get(&url).await {
                Ok(page) => page,
                Err(e) => {
                    if let FetchError::GaveUp { attempts, .. } = e {
                        self.with_entry(slot, |k| k.retries += u64::from(attempts - 1));
                    }
                    let denied = matches!(e, FetchError::Denied { .. });
                    let message = match denied {
                        true => self.explain(slot, &e),
                        false => format!("GET {}: {}", redact_query(url.as_str()), e),
                    };
                    return Err(ListError { message, denied });
                }
            };
            let Some(items) = page.json.get("value").and_then(Value::as_array) else {
                return Err(ListError::from(format!(
                    "{}: the response is not a list page (no \"value\" array)",
                    redact_query(url.as_str())
                )));
            };
            n += 1;
            let rel = format!("{prefix}page-{n:04}.json");
            self.write_page(&rel, &page.body)
                .map_err(|e| ListError::from(format!("{e:#}")))?;
            ids.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_string)),
            );
            self.with_entry(slot, |e| {
                e.pages += 1;
                e.records += items.len() as u64;
                e.retries += u64::from(page.retries);
            });
            self.tick(slot);
            next = page
                .json
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        }
        Ok(ids)
    }

    /// An error in words a reader can act on: for 401/403, which permission and where.
    fn explain(&self, slot: Slot, e: &FetchError) -> String {
        let (scope, permission) = match slot {
            Slot::SubscriptionList => {
                ("listing subscriptions".to_string(), SUBSCRIPTION_PERMISSION)
            }
            Slot::Kind(i, kind) => {
                let m = self.manifest.lock().expect("manifest lock");
                (
                    format!("subscription {}", m.subscriptions[i].id),
                    kind.permission(),
                )
            }
        };
        match e {
            FetchError::Denied { status: 401, .. } => format!(
                "{e} ({scope}: the token was refused; it may have expired or be for another cloud than --cloud {})",
                self.settings.cloud.name()
            ),
            FetchError::Denied { .. } => {
                format!("{e} ({scope}: the identity likely lacks {permission})")
            }
            _ => e.to_string(),
        }
    }

    /// Runs one kind: marks it running, times it, records its end.
    async fn kind<F>(&self, slot: Slot, work: F) -> Option<Vec<String>>
    where
        F: std::future::Future<Output = Result<Vec<String>, Vec<String>>>,
    {
        self.with_entry(slot, |e| e.status = KindStatus::Running);
        let started = Instant::now();
        let result = work.await;
        let ms = started.elapsed().as_millis() as u64;
        let ids = self.with_entry(slot, |e| {
            e.duration_ms = ms;
            match result {
                Ok(ids) => {
                    e.status = KindStatus::Ok;
                    Some(ids)
                }
                Err(errors) => {
                    e.status = KindStatus::Failed;
                    e.errors = errors;
                    None
                }
            }
        });
        self.tick(slot);
        self.save();
        ids
    }
}

/// Why a list stopped; `denied` (401/403) means the same call elsewhere in the subscription
/// would be refused too.
struct ListError {
    message: String,
    denied: bool,
}

impl From<String> for ListError {
    fn from(message: String) -> Self {
        ListError {
            message,
            denied: false,
        }
    }
}

/// Strips the query (filters, skip tokens) from a URL for messages.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

pub async fn collect(settings: Settings) -> Result<Outcome> {
    let credential = auth::sign_in(settings.auth, settings.cloud, settings.timeout).await?;
    let arm = Arm::new(
        &settings.arm_endpoint,
        credential.credential,
        settings.cloud.token_scope(),
        settings.concurrency,
        settings.timeout,
        settings.retry,
    )?;
    std::fs::create_dir_all(&settings.out)
        .with_context(|| format!("creating {}", settings.out.display()))?;

    let windows = day_windows(settings.from, settings.to);
    let manifest = Manifest {
        tool: "jitaudit".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        status: RunStatus::Running,
        started: stamp(Utc::now()),
        finished: None,
        cloud: settings.cloud.name().into(),
        arm_endpoint: settings.arm_endpoint.clone(),
        token_scope: settings.cloud.token_scope().into(),
        auth: credential.method.name().into(),
        window: ManifestWindow {
            from: stamp(settings.from),
            to: stamp(settings.to),
            windows: windows.len(),
        },
        activity: match settings.activity {
            ActivityScope::All => "all".into(),
            ActivityScope::Jit => "jit".into(),
        },
        concurrency: settings.concurrency,
        retry: ManifestRetry {
            attempts: settings.retry.attempts,
            budget_seconds: settings.retry.budget.as_secs(),
            timeout_seconds: settings.timeout.as_secs(),
        },
        subscription_list: None,
        subscriptions: Vec::new(),
        errors: Vec::new(),
        files: Vec::new(),
    };
    let multi = MultiProgress::with_draw_target(if settings.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let run = Arc::new(Run {
        arm,
        out: settings.out.clone(),
        settings: settings.clone(),
        manifest: Mutex::new(manifest),
        bars: Mutex::new(BTreeMap::new()),
        multi,
    });
    run.save();
    if settings.progress {
        eprintln!("signed in with {}", credential.method.name());
    }

    subscriptions(&run).await;

    let count = run
        .manifest
        .lock()
        .expect("manifest lock")
        .subscriptions
        .len();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let run = Arc::clone(&run);
        let windows = windows.clone();
        tasks.spawn(async move { subscription(run, i, windows).await });
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            run.manifest
                .lock()
                .expect("manifest lock")
                .errors
                .push(format!("a collection task stopped: {e}"));
        }
    }

    let manifest = {
        let mut m = run.manifest.lock().expect("manifest lock");
        m.files.sort_by(|a, b| a.path.cmp(&b.path));
        m.status = m.outcome();
        m.finished = Some(stamp(Utc::now()));
        m.clone()
    };
    manifest.save(&run.out)?;
    // The table printed next says the same; the progress lines go.
    for bar in run.bars.lock().expect("bars lock").values() {
        bar.finish_and_clear();
    }
    run.multi.clear().ok();
    Ok(Outcome { manifest })
}

/// Fills `manifest.subscriptions`: those named, or every one the identity can list.
async fn subscriptions(run: &Arc<Run>) {
    let named = run.settings.subscriptions.clone();
    if named.is_empty() {
        let slot = Slot::SubscriptionList;
        let listed = run
            .kind(slot, async {
                run.list(slot, SUBSCRIPTIONS_LIST, "subscriptions/")
                    .await
                    .map_err(|e| vec![e.message])
            })
            .await;
        if listed.is_none() {
            return;
        }
        // The ids came back as `/subscriptions/{id}`; the pages hold the names.
        let mut entries = Vec::new();
        let files = run.manifest.lock().expect("manifest lock").files.clone();
        for file in files
            .iter()
            .filter(|f| f.path.starts_with("subscriptions/"))
        {
            let Ok(text) = std::fs::read(run.out.join(&file.path)) else {
                continue;
            };
            let Ok(page) = serde_json::from_slice::<Value>(&text) else {
                continue;
            };
            for item in page
                .get("value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                entries.push(entry_from(item));
            }
        }
        entries.retain(|e| !e.id.is_empty());
        entries.sort_by_key(|a| a.id.to_ascii_lowercase());
        entries.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
        let mut m = run.manifest.lock().expect("manifest lock");
        if entries.is_empty() {
            m.errors
                .push("the identity can list no subscriptions; give it Reader on at least one, or name one with --subscription".into());
        }
        m.subscriptions = entries;
        return;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for id in named {
        let run = Arc::clone(run);
        tasks.spawn(async move {
            let path = format!("/subscriptions/{id}?api-version=2022-12-01");
            let fetched = match run.arm.url(&path) {
                Ok(url) => run.arm.get(&url).await,
                Err(e) => Err(e),
            };
            match fetched {
                Ok(page) => {
                    let rel = format!("subscriptions/{}.json", id.to_ascii_lowercase());
                    let mut entry = entry_from(&page.json);
                    if entry.id.is_empty() {
                        entry.id = id.clone();
                    }
                    if let Err(e) = run.write_page(&rel, &page.body) {
                        entry.errors.push(format!("{e:#}"));
                    }
                    entry
                }
                Err(e) => {
                    let mut entry = entry_from(&Value::Null);
                    entry.id = id.clone();
                    let why = match &e {
                        FetchError::Denied { .. } => format!(
                            "reading the subscription: {e} (the identity likely lacks {SUBSCRIPTION_PERMISSION})"
                        ),
                        _ => format!("reading the subscription: {e}"),
                    };
                    entry.errors.push(why);
                    entry
                }
            }
        });
    }
    let mut entries = Vec::new();
    while let Some(Ok(entry)) = tasks.join_next().await {
        entries.push(entry);
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    run.manifest.lock().expect("manifest lock").subscriptions = entries;
    run.save();
}

fn entry_from(item: &Value) -> SubscriptionEntry {
    let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
    SubscriptionEntry {
        id: text("subscriptionId").unwrap_or_default(),
        name: text("displayName"),
        state: text("state"),
        tenant_id: text("tenantId"),
        errors: Vec::new(),
        kinds: BTreeMap::new(),
    }
}

/// One subscription: VMs then JIT policies (which need the VMs' resource groups), alongside
/// NICs, NSGs and the Activity Log.
async fn subscription(run: Arc<Run>, i: usize, windows: Vec<(DateTime<Utc>, DateTime<Utc>)>) {
    let (sub, label) = {
        let mut m = run.manifest.lock().expect("manifest lock");
        let s = &mut m.subscriptions[i];
        for kind in Kind::ALL {
            s.kinds
                .insert(kind.name().to_string(), KindEntry::default());
        }
        let label = match &s.name {
            Some(n) => format!("{n} ({})", s.id),
            None => s.id.clone(),
        };
        (s.id.clone(), label)
    };
    let bar = run.multi.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg}").expect("static template"),
    );
    bar.set_prefix(label);
    bar.enable_steady_tick(Duration::from_millis(200));
    run.bars.lock().expect("bars lock").insert(i, bar);
    run.tick(Slot::Kind(i, Kind::JitPolicies));

    let simple = |kind: Kind| {
        let run = Arc::clone(&run);
        let sub = sub.clone();
        async move {
            let slot = Slot::Kind(i, kind);
            let prefix = format!("{sub}/{}/", kind.name());
            run.kind(slot, async {
                run.list(slot, &kind.list_path(&sub), &prefix)
                    .await
                    .map_err(|e| vec![e.message])
            })
            .await
        }
    };
    let vms_then_policies = {
        let run = Arc::clone(&run);
        let sub = sub.clone();
        let vms = simple(Kind::VirtualMachines);
        async move {
            let vm_ids = vms.await;
            policies(&run, i, &sub, vm_ids).await;
        }
    };
    let activity = activity(&run, i, &sub, &windows);
    tokio::join!(
        vms_then_policies,
        simple(Kind::NetworkInterfaces),
        simple(Kind::NetworkSecurityGroups),
        activity
    );
    if let Some(bar) = run.bars.lock().expect("bars lock").get(&i) {
        bar.finish();
    }
}

async fn policies(run: &Arc<Run>, i: usize, sub: &str, vm_ids: Option<Vec<String>>) {
    let slot = Slot::Kind(i, Kind::JitPolicies);
    run.kind(slot, async {
        let mut errors = Vec::new();
        let prefix = format!("{sub}/{}/subscription-", Kind::JitPolicies.name());
        let mut denied = false;
        if let Err(e) = run.list(slot, &Kind::JitPolicies.list_path(sub), &prefix).await {
            denied = e.denied;
            errors.push(e.message);
        }
        match vm_ids {
            // The same read would be refused per resource group too.
            _ if denied => {}
            None => errors.push(
                "the per-resource-group listing was skipped because the virtual machines could not be listed; policies the subscription-scope list omits may be missing".into(),
            ),
            Some(ids) => {
                let groups: BTreeMap<String, String> =
                    ids.iter().filter_map(|id| resource_group(id)).collect();
                for (lower, rg) in groups {
                    let path = format!(
                        "/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.Security/jitNetworkAccessPolicies?api-version=2020-01-01",
                        percent_encode(&rg)
                    );
                    let prefix = format!("{sub}/{}/rg-{}-", Kind::JitPolicies.name(), file_safe(&lower));
                    if let Err(e) = run.list(slot, &path, &prefix).await {
                        errors.push(format!("resource group {rg}: {}", e.message));
                    }
                }
            }
        }
        if errors.is_empty() { Ok(Vec::new()) } else { Err(errors) }
    })
    .await;
}

/// The Activity Log, one request chain per day-sized window (and provider, for `jit`). The
/// newest window goes first, alone: when it is refused, the others would be too, and are not
/// sent.
async fn activity(run: &Arc<Run>, i: usize, sub: &str, windows: &[(DateTime<Utc>, DateTime<Utc>)]) {
    let slot = Slot::Kind(i, Kind::ActivityLog);
    let providers: Vec<Option<&'static str>> = match run.settings.activity {
        ActivityScope::All => vec![None],
        ActivityScope::Jit => vec![Some("Microsoft.Security"), Some("Microsoft.Network")],
    };
    let mut requests = Vec::new();
    for &(start, end) in windows.iter().rev() {
        for provider in &providers {
            let filter = activity_filter(start, end, *provider);
            let path = format!(
                "{}&$filter={}",
                Kind::ActivityLog.list_path(sub),
                percent_encode(&filter)
            );
            let tag = match provider {
                Some(p) => format!(
                    "-{}",
                    p.trim_start_matches("Microsoft.").to_ascii_lowercase()
                ),
                None => String::new(),
            };
            let prefix = format!(
                "{sub}/{}/{}{tag}-",
                Kind::ActivityLog.name(),
                start.format("%Y%m%dT%H%M%SZ")
            );
            let label = format!("{} to {}", stamp(start), stamp(end));
            requests.push((path, prefix, label));
        }
    }
    run.kind(slot, async {
        let mut errors = Vec::new();
        let mut rest = requests.into_iter();
        if let Some((path, prefix, label)) = rest.next()
            && let Err(e) = run.list(slot, &path, &prefix).await
        {
            if e.denied {
                let skipped = rest.len();
                return Err(vec![format!(
                    "{label}: {}{}",
                    e.message,
                    if skipped > 0 {
                        format!("; the other {skipped} windows were not asked for")
                    } else {
                        String::new()
                    }
                )]);
            }
            errors.push(format!("{label}: {}", e.message));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (path, prefix, label) in rest {
            let run = Arc::clone(run);
            tasks.spawn(async move {
                run.list(slot, &path, &prefix)
                    .await
                    .map_err(|e| format!("{label}: {}", e.message))
            });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => errors.push(e),
                Err(e) => errors.push(format!("a window's task stopped: {e}")),
            }
        }
        errors.sort();
        if errors.is_empty() {
            Ok(Vec::new())
        } else {
            Err(errors)
        }
    })
    .await;
}
