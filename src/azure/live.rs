//! `caller ID --log-analytics WORKSPACE` (or `--adx`): one identity's Activity Log fetched
//! live into a snapshot directory, which `caller` then reads like any input. First the
//! identity's other names (UPN, object id, app id) are asked for over the whole window; then,
//! chunk by chunk as `collect` does, the records that name any of them, those that share a
//! correlation id with them, and the JIT records (the ledger the view joins).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressDrawTarget};
use serde_json::{Value, json};

use super::auth::{self, AuthMethod};
use super::cloud::Cloud;
use super::http::{Api, RetryPolicy};
use super::kql::{self, Selection};
use super::logs::{self, Queries};
use super::manifest::Manifest;
use super::plan::{ActivityScope, Engine, Inventory, LogSource, Settings, stamp};
use super::run::Run;

/// What a live caller fetch needs.
pub struct LiveCaller {
    pub id: String,
    pub source: LogSource,
    pub auth: AuthMethod,
    pub cloud: Cloud,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub out: PathBuf,
    pub show_query: bool,
}

/// Fetches the caller's records into `out` (a new or empty directory) and returns the
/// manifest; the names found are in `manifest.logs.caller_names`.
pub async fn fetch(live: LiveCaller) -> Result<Manifest> {
    if live.id.chars().any(char::is_control) || live.id.trim().is_empty() {
        bail!("caller {:?}: not a name that can be looked for", live.id);
    }
    let timeout = live.source.timeout;
    let retry = RetryPolicy {
        attempts: 6,
        budget: Duration::from_secs(300),
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(30),
    };
    let credential = auth::sign_in(live.auth, live.cloud, Duration::from_secs(60)).await?;
    let flag = match live.source.engine {
        Engine::LogAnalytics => "--log-analytics-endpoint",
        Engine::DataExplorer => "--adx",
    };
    let api = || {
        Api::new(
            flag,
            &live.source.endpoint,
            credential.credential.clone(),
            &live.source.token_scope,
            live.source.concurrency,
            timeout,
            retry,
        )
    };
    let names = names(&live, &api()?).await?;
    let selection = Selection::Caller {
        names: names.clone(),
        from: live.from,
        to: live.to,
    };
    let queries = Queries::new(api()?, live.source.clone(), selection, live.from, live.to);
    if live.show_query {
        for q in queries.sample_queries() {
            eprintln!("KQL sent for each chunk (only the bounds differ):\n{q}\n");
        }
    }
    std::fs::create_dir_all(&live.out)
        .with_context(|| format!("creating {}", live.out.display()))?;
    let mut entry = queries.entry();
    entry.caller_names = names;
    let settings = Settings {
        out: live.out.clone(),
        subscriptions: Vec::new(),
        from: live.from,
        to: live.to,
        activity: ActivityScope::All,
        cloud: live.cloud,
        arm_endpoint: String::new(),
        auth: live.auth,
        concurrency: live.source.concurrency,
        timeout,
        retry,
        progress: false,
        logs: Some(live.source.clone()),
        management_groups: Vec::new(),
        exclude: Vec::new(),
        inventory: Inventory::Arm,
        show_query: live.show_query,
        graph: None,
    };
    let mut manifest = super::collect::begin(&settings, credential.method.name(), 0);
    manifest.token_scope = live.source.token_scope.clone();
    manifest.activity = "caller".into();
    manifest.logs = Some(entry);
    let run = Arc::new(Run {
        arm: api()?,
        out: live.out.clone(),
        settings,
        manifest: Mutex::new(manifest),
        bars: Mutex::new(BTreeMap::new()),
        multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
    });
    run.save();
    logs::collect(&run, Arc::new(queries)).await;
    let manifest = run.finish()?;
    Ok(manifest)
}

/// The identity's names in the window: the one given, and the `Caller`, object id, app id
/// and UPN of every record that names it.
async fn names(live: &LiveCaller, api: &Api) -> Result<Vec<String>> {
    let kql = kql::caller_names(&live.source.table, live.from, live.to, &live.id);
    if live.show_query {
        eprintln!("KQL sent to find the caller's names:\n{kql}\n");
    }
    let mut found = BTreeSet::from([live.id.to_ascii_lowercase()]);
    for target in &live.source.targets {
        let (path, body) = match live.source.engine {
            Engine::LogAnalytics => (
                format!("/v1/workspaces/{target}/query"),
                json!({"query": kql, "timespan": format!("{}/{}", stamp(live.from), stamp(live.to))}),
            ),
            Engine::DataExplorer => (
                "/v2/rest/query".to_string(),
                json!({"db": target, "csl": kql}),
            ),
        };
        let url = api.url(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let page = api.post(&url, &body, &[]).await.map_err(|e| {
            anyhow::anyhow!(
                "asking {target} for the names of {}: {e} (reading needs {})",
                live.id,
                live.source.engine.permission()
            )
        })?;
        for row in query_rows(&page.json) {
            for key in ["Caller", "ObjectId", "AppId", "Upn"] {
                if let Some(Value::String(s)) = row.get(key)
                    && !s.trim().is_empty()
                    && !s.chars().any(char::is_control)
                {
                    found.insert(s.trim().to_ascii_lowercase());
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// The rows of a Log Analytics or Data Explorer answer, as column name to value.
fn query_rows(json: &Value) -> Vec<serde_json::Map<String, Value>> {
    let tables: Vec<(&Value, &Value)> = match json {
        Value::Object(o) => o
            .get("tables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| (&t["columns"], &t["rows"]))
            .collect(),
        Value::Array(frames) => frames
            .iter()
            .filter(|f| f["TableKind"] == "PrimaryResult")
            .map(|f| (&f["Columns"], &f["Rows"]))
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (columns, rows) in tables {
        let names: Vec<String> = columns
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                c.get("name")
                    .or_else(|| c.get("ColumnName"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        for row in rows.as_array().into_iter().flatten() {
            if let Value::Array(cells) = row {
                out.push(names.iter().cloned().zip(cells.iter().cloned()).collect());
            }
        }
    }
    out
}
