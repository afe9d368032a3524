//! `jitaudit collect`: resolve the arguments, run the (async) collector on a small runtime,
//! print what was collected per subscription and kind, and exit 0, 3 or 2.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::azure::cloud::Cloud;
use crate::azure::collect;
use crate::azure::http::RetryPolicy;
use crate::azure::manifest::{ChunkStatus, KindStatus, Manifest, RunStatus};
use crate::azure::plan::{self, Engine, LogSource, Settings};
use crate::cli::{CollectArgs, LogArgs};
use crate::exit::Exit;
use crate::normalize::parse_time;

pub fn run(args: CollectArgs) -> Result<Exit> {
    let now = crate::window::now()?;
    let settings = settings(args, now)?;
    plan::validate(&settings, now)?;
    let out = settings.out.clone();
    let outcome = runtime()?.block_on(collect::collect(settings))?;
    let mut stdout = std::io::stdout().lock();
    print_summary(&mut stdout, &outcome.manifest, &out.display().to_string())?;
    Ok(match outcome.manifest.status {
        RunStatus::Complete => Exit::Clean,
        RunStatus::Partial => Exit::Partial,
        RunStatus::Failed | RunStatus::Running => Exit::Error,
    })
}

/// The small runtime the Azure clients run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn settings(args: CollectArgs, now: DateTime<Utc>) -> Result<Settings> {
    let time = |flag: &str, t: &str| -> Result<DateTime<Utc>> {
        let ns = parse_time(t).with_context(|| {
            format!("{flag} {t}: not a timestamp (use RFC 3339, e.g. 2026-11-01T00:00:00Z)")
        })?;
        Ok(DateTime::from_timestamp_nanos(ns))
    };
    let (from, to) = match (&args.from, &args.to) {
        (Some(f), Some(t)) => (time("--from", f)?, time("--to", t)?),
        _ => (now - chrono::Duration::days(i64::from(args.days)), now),
    };
    let logs = log_source(&args.logs, args.cloud)?;
    Ok(Settings {
        logs,
        management_groups: args.management_groups,
        exclude: args
            .exclude
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        inventory: args.inventory,
        show_query: args.logs.show_query,
        graph: args.graph.then(|| {
            args.graph_endpoint
                .clone()
                .unwrap_or_else(|| args.cloud.graph().to_string())
        }),
        out: args.out,
        subscriptions: args.subscriptions,
        from,
        to,
        activity: args.activity,
        cloud: args.cloud,
        arm_endpoint: args
            .arm_endpoint
            .unwrap_or_else(|| args.cloud.arm_endpoint().to_string()),
        auth: args.auth,
        concurrency: args.concurrency,
        timeout: Duration::from_secs(args.timeout.max(1)),
        retry: RetryPolicy {
            attempts: args.attempts.max(1),
            budget: Duration::from_secs(args.retry_budget),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        },
        progress: std::io::stderr().is_terminal(),
    })
}

/// The query engine the flags name, if any.
pub fn log_source(args: &LogArgs, cloud: Cloud) -> Result<Option<LogSource>> {
    let (engine, endpoint, token_scope, targets, table) =
        match (&args.adx, args.log_analytics.is_empty()) {
            (Some(cluster), _) => {
                let cluster = cluster.trim_end_matches('/').to_string();
                let scope = format!("{cluster}/.default");
                let db = args.adx_database.clone().unwrap_or_default();
                (
                    Engine::DataExplorer,
                    cluster,
                    scope,
                    vec![db],
                    args.adx_table.clone(),
                )
            }
            (None, false) => {
                let (endpoint, scope) = cloud.log_analytics();
                (
                    Engine::LogAnalytics,
                    args.log_analytics_endpoint
                        .clone()
                        .unwrap_or_else(|| endpoint.to_string()),
                    scope.to_string(),
                    args.log_analytics
                        .iter()
                        .map(|w| w.to_ascii_lowercase())
                        .collect(),
                    "AzureActivity".to_string(),
                )
            }
            (None, true) => {
                if args.log_analytics_endpoint.is_some() {
                    anyhow::bail!("--log-analytics-endpoint needs --log-analytics WORKSPACE_ID");
                }
                return Ok(None);
            }
        };
    Ok(Some(LogSource {
        engine,
        endpoint,
        token_scope,
        targets,
        table,
        chunk: chrono::Duration::hours(i64::from(args.chunk_hours)),
        min_chunk: chrono::Duration::minutes(1),
        concurrency: args.query_concurrency,
        timeout: Duration::from_secs(args.query_timeout.max(1)),
    }))
}

/// One line per subscription and kind, then every error in full.
fn print_summary(w: &mut impl Write, m: &Manifest, out: &str) -> Result<()> {
    let ok = m
        .subscriptions
        .iter()
        .filter(|s| s.errors.is_empty() && s.kinds.values().all(|k| k.status == KindStatus::Ok))
        .count();
    let status = match m.status {
        RunStatus::Complete => "complete",
        RunStatus::Partial => "partial",
        RunStatus::Failed => "failed",
        RunStatus::Running => "unfinished",
    };
    writeln!(
        w,
        "collect {status}: {ok} of {} subscriptions whole, Activity Log {} to {} ({} events), signed in with {}",
        m.subscriptions.len(),
        m.window.from,
        m.window.to,
        m.activity,
        m.auth
    )?;
    writeln!(
        w,
        "{:<44} {:<24} {:>6} {:>9} {:>7}  status",
        "subscription", "kind", "pages", "records", "retries"
    )?;
    if let Some(list) = &m.subscription_list {
        writeln!(
            w,
            "{:<44} {:<24} {:>6} {:>9} {:>7}  {}",
            "(all)",
            "subscriptions",
            list.pages,
            list.records,
            list.retries,
            status_word(list.status)
        )?;
    }
    for (label, entry) in [
        ("management groups", &m.management_groups),
        ("resource graph", &m.resource_graph),
        ("graph group members", &m.graph),
    ] {
        if let Some(k) = entry {
            writeln!(
                w,
                "{:<44} {:<24} {:>6} {:>9} {:>7}  {}",
                "(all)",
                label,
                k.pages,
                k.records,
                k.retries,
                status_word(k.status)
            )?;
        }
    }
    let mut errors = Vec::new();
    for (label, entry) in [
        ("management groups", &m.management_groups),
        ("resource graph", &m.resource_graph),
        ("graph group members", &m.graph),
    ] {
        errors.extend(
            entry
                .iter()
                .flat_map(|k| &k.errors)
                .map(|e| format!("{label}: {e}")),
        );
    }
    if let Some(l) = &m.logs {
        let count = |s: ChunkStatus| l.chunks.iter().filter(|c| c.status == s).count();
        let in_window = l.rows + l.rows_left_on_engine;
        let share = if l.selection == "jit" && in_window > 0 {
            format!(
                ", {} left on the engine ({:.2}% of the window's rows sent)",
                l.rows_left_on_engine,
                l.rows as f64 * 100.0 / in_window as f64
            )
        } else {
            String::new()
        };
        let not_sent = count(ChunkStatus::Skipped);
        writeln!(
            w,
            "Activity Log from {} {} ({}, {} events): {} queries, {} split, {} rows received{share}; {} partial, {} failed{}",
            l.engine,
            l.targets.join(", "),
            l.table,
            l.selection,
            l.requests,
            count(ChunkStatus::Split),
            l.rows,
            count(ChunkStatus::Partial),
            count(ChunkStatus::Failed),
            if not_sent > 0 {
                format!(", {not_sent} not sent")
            } else {
                String::new()
            },
        )?;
        for c in &l.chunks {
            if matches!(c.status, ChunkStatus::Partial | ChunkStatus::Failed) {
                errors.push(format!(
                    "{} {} {} to {}: {}",
                    c.target,
                    c.query,
                    c.from,
                    c.to,
                    c.error.as_deref().unwrap_or("no answer")
                ));
            }
        }
        // A refusal is said once; the chunks it kept from being sent are counted.
        for target in &l.targets {
            let skipped = l
                .chunks
                .iter()
                .filter(|c| &c.target == target && c.status == ChunkStatus::Skipped)
                .count();
            if skipped > 0 {
                errors.push(format!(
                    "{target}: the other {skipped} queries were not sent after the refusal"
                ));
            }
        }
    }
    for s in &m.subscriptions {
        let label = match &s.name {
            Some(n) => format!("{} {}", short(n, 24), s.id.get(..8).unwrap_or(&s.id)),
            None => s.id.clone(),
        };
        for e in &s.errors {
            errors.push(format!("{}: {e}", s.id));
        }
        for (kind, k) in &s.kinds {
            writeln!(
                w,
                "{:<44} {:<24} {:>6} {:>9} {:>7}  {}",
                label,
                kind,
                k.pages,
                k.records,
                k.retries,
                status_word(k.status)
            )?;
            for e in &k.errors {
                errors.push(format!("{} {kind}: {e}", s.id));
            }
        }
    }
    if let Some(list) = &m.subscription_list {
        errors.extend(list.errors.iter().map(|e| format!("subscriptions: {e}")));
    }
    errors.extend(m.errors.iter().cloned());
    if !errors.is_empty() {
        writeln!(w, "errors:")?;
        for e in &errors {
            writeln!(w, "  {e}")?;
        }
    }
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    let next = match m.status {
        RunStatus::Failed => String::new(),
        _ => format!("; read it with `jitaudit report {out} --out REPORT_DIR`"),
    };
    writeln!(
        w,
        "wrote {} pages ({:.1} MB) and manifest.json to {out}{next}",
        m.files.len(),
        bytes as f64 / 1e6
    )?;
    Ok(())
}

fn status_word(s: KindStatus) -> &'static str {
    match s {
        KindStatus::Ok => "ok",
        KindStatus::Failed => "FAILED",
        KindStatus::Running => "unfinished",
        KindStatus::Pending => "not started",
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
