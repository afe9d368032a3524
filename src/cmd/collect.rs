//! `jitaudit collect`: resolve the arguments, run the (async) collector on a small runtime,
//! print what was collected per subscription and kind, and exit 0, 3 or 2.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::azure::collect;
use crate::azure::http::RetryPolicy;
use crate::azure::manifest::{KindStatus, Manifest, RunStatus};
use crate::azure::plan::{self, Settings};
use crate::cli::CollectArgs;
use crate::exit::Exit;
use crate::normalize::parse_time;

pub fn run(args: CollectArgs) -> Result<Exit> {
    let now = crate::window::now()?;
    let settings = settings(args, now)?;
    plan::validate(&settings, now)?;
    let out = settings.out.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(collect::collect(settings))?;
    let mut stdout = std::io::stdout().lock();
    print_summary(&mut stdout, &outcome.manifest, &out.display().to_string())?;
    Ok(match outcome.manifest.status {
        RunStatus::Complete => Exit::Clean,
        RunStatus::Partial => Exit::Partial,
        RunStatus::Failed | RunStatus::Running => Exit::Error,
    })
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
    Ok(Settings {
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
    let mut errors = Vec::new();
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
