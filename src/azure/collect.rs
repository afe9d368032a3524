//! The collection itself (what is asked for is in `plan`): subscriptions (named, under
//! management groups, or every one the identity can list), the Resource Graph inventory when
//! asked, then per subscription and concurrently its JIT policies (subscription scope, then
//! each resource group that holds VMs, because the subscription-scope list is known to omit
//! policies), VMs, NICs, NSGs and the Activity Log in day-sized windows; or, with a query
//! engine, the Activity Log of the whole window from it (`logs`). Every list follows
//! `nextLink` to the end; every page is written as received, whole or not at all.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::auth;
use super::estate;
use super::http::{Api, FetchError};
use super::kql::Selection;
use super::logs::{self, Queries};
use super::manifest::{
    KindEntry, Manifest, ManifestRetry, ManifestWindow, RunStatus, SubscriptionEntry,
};
use super::plan::{
    ActivityScope, Engine, Inventory, Kind, SUBSCRIPTION_PERMISSION, SUBSCRIPTIONS_LIST, Settings,
    activity_filter, day_windows, file_safe, percent_encode, resource_group, stamp,
};
use super::run::{Run, Slot};

/// What a finished run hands back to the command.
pub struct Outcome {
    pub manifest: Manifest,
}

pub async fn collect(settings: Settings) -> Result<Outcome> {
    let credential = auth::sign_in(settings.auth, settings.cloud, settings.timeout).await?;
    let arm = Api::new(
        "--arm-endpoint",
        &settings.arm_endpoint,
        credential.credential.clone(),
        settings.cloud.token_scope(),
        settings.concurrency,
        settings.timeout,
        settings.retry,
    )?;
    let queries = match &settings.logs {
        Some(source) => {
            let api = Api::new(
                match source.engine {
                    Engine::LogAnalytics => "--log-analytics-endpoint",
                    Engine::DataExplorer => "--adx",
                },
                &source.endpoint,
                credential.credential.clone(),
                &source.token_scope,
                source.concurrency,
                source.timeout,
                settings.retry,
            )?;
            let selection = match settings.activity {
                ActivityScope::All => Selection::All,
                ActivityScope::Jit => Selection::Jit,
            };
            let q = Queries::new(api, source.clone(), selection, settings.from, settings.to);
            if settings.show_query {
                for kql in q.sample_queries() {
                    eprintln!("KQL sent for each chunk (only the bounds differ):\n{kql}\n");
                }
            }
            Some(Arc::new(q))
        }
        None => None,
    };
    let members = match &settings.graph {
        Some(endpoint) => Some(Api::new(
            "--graph-endpoint",
            endpoint,
            credential.credential.clone(),
            &format!("{}/.default", endpoint.trim_end_matches('/')),
            settings.concurrency,
            settings.timeout,
            settings.retry,
        )?),
        None => None,
    };
    std::fs::create_dir_all(&settings.out)
        .with_context(|| format!("creating {}", settings.out.display()))?;

    let windows = match settings.logs {
        Some(_) => Vec::new(),
        None => day_windows(settings.from, settings.to),
    };
    let mut manifest = begin(&settings, credential.method.name(), windows.len());
    manifest.logs = queries.as_ref().map(|q| q.entry());
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

    // The engine's queries do not wait for Resource Manager: they run beside it.
    let log_task = queries.map(|q| {
        let run = Arc::clone(&run);
        tokio::spawn(async move { logs::collect(&run, q).await })
    });

    subscriptions(&run).await;

    let ids: Vec<String> = run
        .manifest
        .lock()
        .expect("manifest lock")
        .subscriptions
        .iter()
        .map(|s| s.id.to_ascii_lowercase())
        .collect();
    // With Resource Graph, the VMs' resource groups (for the JIT policy fallback) come from it.
    let graph = match settings.inventory {
        Inventory::ResourceGraph if !ids.is_empty() => {
            Some(estate::resource_graph(&run, &ids).await)
        }
        _ => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let run = Arc::clone(&run);
        let windows = windows.clone();
        let vms = graph
            .as_ref()
            .map(|g| g.as_ref().map(|m| m.get(id).cloned().unwrap_or_default()));
        tasks.spawn(async move { subscription(run, i, windows, vms).await });
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
    // The groups are known once every subscription's assignments are in.
    if let Some(api) = &members {
        estate::group_members(&run, api).await;
    }
    if let Some(task) = log_task
        && let Err(e) = task.await
    {
        run.manifest
            .lock()
            .expect("manifest lock")
            .errors
            .push(format!("the query task stopped: {e}"));
    }

    let manifest = run.finish()?;
    // The table printed next says the same; the progress lines go.
    for bar in run.bars.lock().expect("bars lock").values() {
        bar.finish_and_clear();
    }
    run.multi.clear().ok();
    Ok(Outcome { manifest })
}

/// The manifest of a run that starts now, before anything is asked for.
pub(super) fn begin(settings: &Settings, auth: &str, windows: usize) -> Manifest {
    Manifest {
        tool: "jitaudit".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        status: RunStatus::Running,
        started: stamp(Utc::now()),
        finished: None,
        cloud: settings.cloud.name().into(),
        arm_endpoint: settings.arm_endpoint.clone(),
        token_scope: settings.cloud.token_scope().into(),
        auth: auth.into(),
        window: ManifestWindow {
            from: stamp(settings.from),
            to: stamp(settings.to),
            windows,
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
        management_groups: None,
        resource_graph: None,
        graph: None,
        logs: None,
        subscriptions: Vec::new(),
        errors: Vec::new(),
        files: Vec::new(),
    }
}

/// Fills `manifest.subscriptions`: those named and those under the management groups, or
/// every one the identity can list; less the excluded ones.
async fn subscriptions(run: &Arc<Run>) {
    let mut named: Vec<String> = run
        .settings
        .subscriptions
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if !run.settings.management_groups.is_empty() {
        match estate::management_group_subscriptions(run).await {
            Some(found) => named.extend(found),
            None if named.is_empty() => return,
            None => {}
        }
        named.sort();
        named.dedup();
        named.retain(|id| !run.settings.exclude.contains(id));
        if named.is_empty() {
            run.manifest.lock().expect("manifest lock").errors.push(
                "the management groups hold no subscription to collect (after --exclude-subscription)".into(),
            );
            return;
        }
    }
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
        entries.retain(|e| {
            !e.id.is_empty() && !run.settings.exclude.contains(&e.id.to_ascii_lowercase())
        });
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
    named.retain(|id| !run.settings.exclude.contains(id));
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
/// NICs, NSGs and the Activity Log; `graph` holds the VM ids when Resource Graph listed them
/// (none inside when it failed), and then only the JIT policies (and the log) are asked for.
async fn subscription(
    run: Arc<Run>,
    i: usize,
    windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    graph: Option<Option<Vec<String>>>,
) {
    let kinds = run.kinds();
    let (sub, label) = {
        let mut m = run.manifest.lock().expect("manifest lock");
        let s = &mut m.subscriptions[i];
        for &kind in &kinds {
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
    let wanted = |kind: Kind| kinds.contains(&kind);
    let vms_then_policies = {
        let run = Arc::clone(&run);
        let sub = sub.clone();
        let vms = simple(Kind::VirtualMachines);
        async move {
            let vm_ids = match graph {
                Some(listed) => listed,
                None => vms.await,
            };
            policies(&run, i, &sub, vm_ids).await;
        }
    };
    let maybe = |kind: Kind| {
        let listing = simple(kind);
        let go = wanted(kind);
        async move {
            if go {
                listing.await;
            }
        }
    };
    let activity = async {
        if wanted(Kind::ActivityLog) {
            activity(&run, i, &sub, &windows).await;
        }
    };
    tokio::join!(
        vms_then_policies,
        maybe(Kind::NetworkInterfaces),
        maybe(Kind::NetworkSecurityGroups),
        maybe(Kind::PublicIpAddresses),
        maybe(Kind::AzureFirewalls),
        maybe(Kind::RoleAssignments),
        maybe(Kind::RoleDefinitions),
        maybe(Kind::RoleEligibility),
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
