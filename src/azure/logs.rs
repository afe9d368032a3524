//! The Activity Log from a query engine (a Log Analytics workspace or a Data Explorer
//! database) instead of the Activity Log API: the window cut into chunks, a few queries in
//! flight, each answer written as received. A chunk whose answer is partial (HTTP 200 with an
//! `error`, a Data Explorer completion with errors, no completion at all) or that times out is
//! halved and asked again; its partial answer is kept beside as `.superseded`, which no reader
//! takes as data. A chunk still partial at the smallest size is kept, marked partial, and the
//! run exits 3.
//!
//! Wire formats read against: the Log Analytics query API (`POST /v1/workspaces/{id}/query`,
//! body `{"query", "timespan"}`, answer `{"tables": [...], "error"?}`), azure-formats.md 6.2;
//! Data Explorer's "Query/management HTTP request" (`POST /v2/rest/query`, body `{"db",
//! "csl", "properties"}` where `properties` is a JSON string of client request properties)
//! and "Query V2 HTTP response" (frames, `DataSetCompletion` with `HasErrors`/`Cancelled`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::http::{Api, FetchError, Page};
use super::kql::{self, Selection};
use super::manifest::{ChunkEntry, ChunkStatus, LogsEntry};
use super::plan::{Engine, LogSource, QUERY_SERVER_TIMEOUT_SECS, chunks, file_safe, halves};
use super::run::{Run, redact_query};
use crate::secrets::redact;

/// Coverage queries count per hour; they cover this many activity chunks each.
const COVERAGE_CHUNKS: i32 = 7;

/// What one run of queries shares.
pub(super) struct Queries {
    pub(super) api: Api,
    pub(super) source: LogSource,
    pub(super) selection: Selection,
    pub(super) from: DateTime<Utc>,
    pub(super) to: DateTime<Utc>,
    /// Per target, whether it refused a query (401/403): its other chunks are not sent.
    denied: Vec<AtomicBool>,
    /// The progress line on a terminal.
    bar: OnceLock<ProgressBar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Activity,
    Coverage,
}

impl Ask {
    fn name(self) -> &'static str {
        match self {
            Ask::Activity => "activity",
            Ask::Coverage => "coverage",
        }
    }
}

/// One query to send.
#[derive(Debug, Clone)]
struct Job {
    target: usize,
    ask: Ask,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Queries {
    pub(super) fn new(
        api: Api,
        source: LogSource,
        selection: Selection,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Queries {
        let denied = source
            .targets
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect();
        Queries {
            api,
            source,
            selection,
            from,
            to,
            denied,
            bar: OnceLock::new(),
        }
    }

    /// The manifest's record of this engine before anything is sent.
    pub(super) fn entry(&self) -> LogsEntry {
        LogsEntry {
            engine: self.source.engine.name().into(),
            endpoint: self.api.endpoint().trim_end_matches('/').to_string(),
            token_scope: self.source.token_scope.clone(),
            targets: self.source.targets.clone(),
            table: self.source.table.clone(),
            selection: match self.selection {
                Selection::All => "all",
                Selection::Jit => "jit",
                Selection::Caller { .. } => "caller",
            }
            .into(),
            requests: 0,
            rows: 0,
            rows_left_on_engine: 0,
            caller_names: Vec::new(),
            chunks: Vec::new(),
        }
    }

    fn kql(&self, job: &Job) -> Option<String> {
        let table = &self.source.table;
        match job.ask {
            Ask::Activity => Some(kql::activity(table, job.start, job.end, &self.selection)),
            Ask::Coverage => kql::coverage(table, job.start, job.end, &self.selection),
        }
    }

    /// The KQL of the first chunk of each kind, for `--show-query` (the others differ only in
    /// their bounds).
    pub(super) fn sample_queries(&self) -> Vec<String> {
        self.first_jobs()
            .iter()
            .filter(|j| j.target == 0)
            .filter_map(|j| self.kql(j))
            .take(2)
            .collect()
    }

    fn first_jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for target in 0..self.source.targets.len() {
            for (start, end) in chunks(self.from, self.to, self.source.chunk) {
                jobs.push(Job {
                    target,
                    ask: Ask::Activity,
                    start,
                    end,
                });
            }
            if kql::coverage("t", self.from, self.to, &self.selection).is_some() {
                for (start, end) in chunks(self.from, self.to, self.source.chunk * COVERAGE_CHUNKS)
                {
                    jobs.push(Job {
                        target,
                        ask: Ask::Coverage,
                        start,
                        end,
                    });
                }
            }
        }
        jobs
    }

    fn file(&self, job: &Job, superseded: bool) -> String {
        let t = |d: DateTime<Utc>| d.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let target = file_safe(&self.source.targets[job.target].to_ascii_lowercase());
        let dir = match self.source.engine {
            Engine::LogAnalytics => format!("log-analytics/{target}"),
            Engine::DataExplorer => format!(
                "data-explorer/{}/{target}",
                file_safe(
                    &reqwest::Url::parse(self.api.endpoint())
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_default()
                )
            ),
        };
        let name = format!("{}-{}-{}.json", job.ask.name(), t(job.start), t(job.end));
        if superseded {
            format!("{dir}/superseded/{name}.superseded")
        } else {
            format!("{dir}/{name}")
        }
    }

    /// The request for one query: path, body and headers.
    fn request(&self, job: &Job, kql: &str) -> (String, Value, Vec<(&'static str, String)>) {
        let wait = self.source.timeout.as_secs().min(QUERY_SERVER_TIMEOUT_SECS);
        let target = &self.source.targets[job.target];
        match self.source.engine {
            Engine::LogAnalytics => (
                format!("/v1/workspaces/{target}/query"),
                json!({
                    "query": kql,
                    // An ISO 8601 interval; the KQL's own half-open bounds decide the edges.
                    "timespan": format!("{}/{}", stamp(job.start), stamp(job.end)),
                }),
                vec![("Prefer", format!("wait={wait}"))],
            ),
            Engine::DataExplorer => {
                let h = wait / 3600;
                let m = wait % 3600 / 60;
                let s = wait % 60;
                let properties =
                    json!({"Options": {"servertimeout": format!("{h:02}:{m:02}:{s:02}")}});
                (
                    "/v2/rest/query".to_string(),
                    json!({"db": target, "csl": kql, "properties": properties.to_string()}),
                    Vec::new(),
                )
            }
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// What an answer with HTTP 200 holds.
struct Verdict {
    rows: u64,
    /// Sum of the `Records` column (coverage answers).
    records: u64,
    /// Why the answer is not whole.
    partial: Option<String>,
}

/// Reads a 200 answer: its rows, and whether the engine says it is whole.
fn judge(engine: Engine, json: &Value) -> Verdict {
    let mut v = Verdict {
        rows: 0,
        records: 0,
        partial: None,
    };
    let mut count_table = |columns: Vec<&str>, rows: &Vec<Value>| {
        let at = columns.iter().position(|c| *c == "Records");
        for row in rows {
            if let Value::Array(cells) = row {
                v.rows += 1;
                if let Some(i) = at {
                    v.records += cells.get(i).and_then(number).unwrap_or(0);
                }
            }
        }
    };
    match engine {
        Engine::LogAnalytics => {
            for table in json["tables"].as_array().into_iter().flatten() {
                let columns = names(&table["columns"], "name");
                if let Some(rows) = table["rows"].as_array() {
                    count_table(columns, rows);
                }
            }
            if let Some(e) = json.get("error").filter(|e| !e.is_null()) {
                v.partial = Some(format!("the answer carries an error: {}", brief(e)));
            }
        }
        Engine::DataExplorer => {
            let mut completed = false;
            let mut errors = Vec::new();
            for frame in json.as_array().into_iter().flatten() {
                match frame["FrameType"].as_str() {
                    Some("DataTable") if frame["TableKind"] == "PrimaryResult" => {
                        let columns = names(&frame["Columns"], "ColumnName");
                        if let Some(rows) = frame["Rows"].as_array() {
                            count_table(columns, rows);
                            errors.extend(
                                rows.iter()
                                    .filter(|r| r.get("OneApiErrors").is_some())
                                    .map(|r| brief(&r["OneApiErrors"])),
                            );
                        }
                    }
                    Some("DataSetCompletion") => {
                        completed = true;
                        if frame["HasErrors"] == true || frame["Cancelled"] == true {
                            errors.push(brief(&frame["OneApiErrors"]));
                        }
                    }
                    _ => {}
                }
            }
            if !completed {
                errors.push("no DataSetCompletion frame: the answer was cut short".into());
            }
            if !errors.is_empty() {
                v.partial = Some(format!("the answer is not whole: {}", errors.join("; ")));
            }
        }
    }
    v
}

fn names<'a>(columns: &'a Value, key: &str) -> Vec<&'a str> {
    columns
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c[key].as_str().unwrap_or(""))
        .collect()
}

fn number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// An error object in a line: its code and message, or its start.
fn brief(e: &Value) -> String {
    let code = e["code"].as_str().unwrap_or("");
    let message = e["message"].as_str().unwrap_or("");
    let text = if code.is_empty() && message.is_empty() {
        e.to_string()
    } else {
        format!("{code}: {message}")
    };
    text.chars().take(300).collect()
}

/// Runs every chunk of every target, `--query-concurrency` at a time (the client's permits),
/// halving the chunks that come back partial. A target's first chunk goes alone: when it is
/// refused, the others would be too, and are recorded as not sent. Records into `run`'s
/// manifest as it goes.
pub(super) async fn collect(run: &Arc<Run>, queries: Arc<Queries>) {
    if run.settings.progress {
        let bar = run.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg}").expect("static template"),
        );
        bar.set_prefix(format!(
            "{} {}",
            queries.source.engine.name(),
            queries.source.targets.join(", ")
        ));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        let _ = queries.bar.set(bar);
    }
    let mut by_target: Vec<Vec<Job>> = vec![Vec::new(); queries.source.targets.len()];
    for job in queries.first_jobs() {
        by_target[job.target].push(job);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for jobs in by_target {
        let (run, queries) = (Arc::clone(run), Arc::clone(&queries));
        tasks.spawn(async move {
            let mut jobs = jobs.into_iter();
            let mut next = match jobs.next() {
                Some(first) => one(&run, &queries, first).await,
                None => Vec::new(),
            };
            next.extend(jobs);
            next
        });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(more) => {
                for job in more {
                    let (run, queries) = (Arc::clone(run), Arc::clone(&queries));
                    tasks.spawn(async move { one(&run, &queries, job).await });
                }
            }
            Err(e) => run
                .manifest
                .lock()
                .expect("manifest lock")
                .errors
                .push(format!("a query task stopped: {e}")),
        }
        run.save();
    }
    if let Some(logs) = run.manifest.lock().expect("manifest lock").logs.as_mut() {
        logs.chunks.sort_by(|a, b| {
            (&a.target, &a.query, &a.from, &a.to).cmp(&(&b.target, &b.query, &b.from, &b.to))
        });
    }
    if let Some(bar) = queries.bar.get() {
        bar.finish_and_clear();
    }
}

/// Sends one query; returns the halves to ask for when its answer was not whole.
async fn one(run: &Run, q: &Queries, job: Job) -> Vec<Job> {
    let Some(kql) = q.kql(&job) else {
        return Vec::new();
    };
    let mut entry = ChunkEntry {
        target: q.source.targets[job.target].clone(),
        query: job.ask.name().into(),
        from: stamp(job.start),
        to: stamp(job.end),
        status: ChunkStatus::Failed,
        rows: 0,
        bytes: 0,
        retries: 0,
        duration_ms: 0,
        file: None,
        error: None,
        kql: kql.clone(),
    };
    if q.denied[job.target].load(Ordering::SeqCst) {
        entry.status = ChunkStatus::Skipped;
        entry.error = Some("not sent: the target refused an earlier query".into());
        record(run, q, entry, None);
        return Vec::new();
    }
    let (path, body, headers) = q.request(&job, &kql);
    let started = Instant::now();
    let answer = match q.api.url(&path) {
        Ok(url) => q.api.post(&url, &body, &headers).await,
        Err(e) => Err(e),
    };
    entry.duration_ms = started.elapsed().as_millis() as u64;
    let split = || halves(job.start, job.end, q.source.min_chunk);
    let page: Page = match answer {
        Ok(page) => page,
        Err(e) => {
            if let FetchError::GaveUp { attempts, .. } = &e {
                entry.retries = u64::from(attempts.saturating_sub(1));
            }
            let timed_out = matches!(&e, FetchError::GaveUp { last, .. }
                if last.contains("timed out") || last.contains("HTTP 504"));
            if let FetchError::Denied { .. } = e {
                q.denied[job.target].store(true, Ordering::SeqCst);
            }
            entry.error = Some(explain(q, &path, &e));
            // A query that keeps timing out asks for too much at once: smaller chunks.
            if timed_out && let Some(parts) = split() {
                entry.status = ChunkStatus::Split;
                record(run, q, entry, None);
                return jobs(&job, parts);
            }
            record(run, q, entry, None);
            return Vec::new();
        }
    };
    entry.retries = u64::from(page.retries);
    entry.bytes = page.body.len() as u64;
    let verdict = judge(q.source.engine, &page.json);
    entry.rows = verdict.rows;
    let parts = match &verdict.partial {
        Some(_) => split(),
        None => None,
    };
    let rel = q.file(&job, parts.is_some());
    match run.write_page(&rel, &page.body) {
        Ok(()) => entry.file = Some(rel),
        Err(e) => {
            entry.error = Some(format!("{e:#}"));
            record(run, q, entry, None);
            return Vec::new();
        }
    }
    entry.error = verdict.partial.clone();
    entry.status = match (&verdict.partial, &parts) {
        (None, _) => ChunkStatus::Ok,
        (Some(_), Some(_)) => ChunkStatus::Split,
        (Some(_), None) => ChunkStatus::Partial,
    };
    let kept = (entry.status != ChunkStatus::Split).then_some(&verdict);
    record(run, q, entry, kept.map(|v| (v.rows, v.records, job.ask)));
    match parts {
        Some(p) => jobs(&job, p),
        None => Vec::new(),
    }
}

fn jobs(job: &Job, parts: [(DateTime<Utc>, DateTime<Utc>); 2]) -> Vec<Job> {
    parts
        .into_iter()
        .map(|(start, end)| Job {
            start,
            end,
            ..job.clone()
        })
        .collect()
}

/// Adds a chunk's record to the manifest; `kept` counts the rows of an answer that is read.
fn record(run: &Run, q: &Queries, entry: ChunkEntry, kept: Option<(u64, u64, Ask)>) {
    let mut m = run.manifest.lock().expect("manifest lock");
    let Some(logs) = m.logs.as_mut() else { return };
    if let Some(bar) = q.bar.get() {
        let bad = logs
            .chunks
            .iter()
            .filter(|c| !matches!(c.status, ChunkStatus::Ok | ChunkStatus::Split))
            .count();
        bar.set_message(format!(
            "{} queries, {} rows received, {bad} partial or failed",
            logs.requests + 1,
            logs.rows + kept.filter(|k| k.2 == Ask::Activity).map_or(0, |k| k.0)
        ));
    }
    if entry.status != ChunkStatus::Skipped {
        logs.requests += 1;
    }
    match kept {
        Some((rows, _, Ask::Activity)) => logs.rows += rows,
        Some((_, records, Ask::Coverage)) => logs.rows_left_on_engine += records,
        None => {}
    }
    logs.chunks.push(entry);
}

/// An error in words a reader can act on, the token masked.
fn explain(q: &Queries, path: &str, e: &FetchError) -> String {
    let target = match q.source.engine {
        Engine::LogAnalytics => "workspace",
        Engine::DataExplorer => "database",
    };
    let message = match e {
        FetchError::Denied { status: 401, .. } => format!(
            "{e} (the token for {} was refused: it may have expired, or be for another cloud)",
            q.source.token_scope
        ),
        FetchError::Denied { .. } => format!(
            "{e} (the identity likely lacks {})",
            q.source.engine.permission()
        ),
        FetchError::Rejected { .. } => format!(
            "{e} (the {target} refused the query; is `{}` a table or function there with the AzureActivity columns?)",
            q.source.table
        ),
        _ => e.to_string(),
    };
    redact(&format!("POST {}: {message}", redact_query(path)), &[]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_beside_the_tables_makes_a_log_analytics_answer_partial() {
        let whole = json!({"tables": [{"name": "PrimaryResult", "columns": [{"name": "a", "type": "string"}], "rows": [["x"], ["y"]]}]});
        let v = judge(Engine::LogAnalytics, &whole);
        assert_eq!((v.rows, v.partial.is_none()), (2, true));
        let mut partial = whole.clone();
        partial["error"] = json!({"code": "PartialError", "message": "There were some errors when processing your query."});
        let v = judge(Engine::LogAnalytics, &partial);
        assert_eq!(v.rows, 2);
        assert!(v.partial.unwrap().contains("PartialError"));
    }

    #[test]
    fn data_explorer_answers_are_whole_only_with_a_clean_completion() {
        let table = json!({"FrameType": "DataTable", "TableKind": "PrimaryResult", "Columns": [{"ColumnName": "Records", "ColumnType": "long"}], "Rows": [[3], [4]]});
        let done =
            json!({"FrameType": "DataSetCompletion", "HasErrors": false, "Cancelled": false});
        let v = judge(Engine::DataExplorer, &json!([table, done]));
        assert_eq!((v.rows, v.records, v.partial.is_none()), (2, 7, true));
        assert!(
            judge(Engine::DataExplorer, &json!([table]))
                .partial
                .is_some()
        );
        let failed = json!({"FrameType": "DataSetCompletion", "HasErrors": true, "OneApiErrors": [{"error": {"code": "LimitsExceeded"}}]});
        assert!(
            judge(Engine::DataExplorer, &json!([table, failed]))
                .partial
                .unwrap()
                .contains("LimitsExceeded")
        );
    }
}
