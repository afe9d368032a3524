//! A fake Log Analytics query API and Azure Data Explorer v2 query endpoint on 127.0.0.1, for
//! `collect --log-analytics` and `--adx`. It holds `AzureActivity` rows (as `jitaudit sample
//! --log-shape log-analytics` writes them), runs the part of the KQL jitaudit sends that
//! decides which rows come back (the chunk's half-open window, the JIT filter, the coverage
//! count of what the filter leaves), and answers in the services' shapes: Log Analytics'
//! `{"tables": [...]}` with an `error` beside them when the result is cut at the row limit
//! (HTTP 200, `PartialError`), Data Explorer's frames with a `DataSetCompletion` that says
//! `HasErrors`. It injects 429, 504, a slow answer and refusals, and logs every query.
//!
//! Shapes read against azure-formats.md 6.2 (Log Analytics) and Microsoft's "Query V2 HTTP
//! response" page (Data Explorer).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Map, Value, json};

#[derive(Default, Clone)]
pub struct EngineFaults {
    pub token: String,
    /// More rows than this in one answer: cut there and flagged partial (0: no limit).
    pub row_limit: usize,
    /// The first query answers 429 with `Retry-After: 1`.
    pub throttle_first: bool,
    /// The first n queries answer 504.
    pub gateway_timeouts: usize,
    /// The first query waits this long before answering.
    pub slow_first: Option<Duration>,
    /// Workspaces (or databases) that answer 403.
    pub forbidden: Vec<String>,
    /// A query that would return more rows than this takes this long (a big query is slow).
    pub slow_above: Option<(usize, Duration)>,
}

/// One query as the fake understood it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub target: String,
    pub kind: &'static str,
}

type Request = (String, String, BTreeMap<String, String>, Vec<u8>);
type Columns = Vec<(String, String)>;
type Keep = Box<dyn Fn(&Map<String, Value>) -> bool>;
/// Per subscription and hour: records, first and last time.
pub type Cells = BTreeMap<(String, DateTime<Utc>), (u64, DateTime<Utc>, DateTime<Utc>)>;

pub struct FakeEngine {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Asked>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Rows from `AzureActivity` JSON arrays.
pub fn rows_from(files: &[&Path]) -> Vec<Map<String, Value>> {
    let mut rows = Vec::new();
    for f in files {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for r in v.as_array().unwrap() {
            rows.push(r.as_object().unwrap().clone());
        }
    }
    rows
}

pub fn time_of(row: &Map<String, Value>) -> DateTime<Utc> {
    row["TimeGenerated"].as_str().unwrap().parse().unwrap()
}

fn text(row: &Map<String, Value>, k: &str) -> String {
    match row.get(k) {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(v) => v.to_string().to_ascii_lowercase(),
        None => String::new(),
    }
}

/// The JIT filter of `azure::kql::jit_filter`, as the engine would apply it.
pub fn is_jit(row: &Map<String, Value>) -> bool {
    let op = text(row, "OperationNameValue");
    let id = text(row, "ResourceId");
    let props = text(row, "Properties");
    op.contains("jitnetworkaccesspolicies")
        || op.contains("networksecuritygroups")
            && (!op.contains("securityrules")
                || id.contains("jitrule")
                || props.contains("jitrule")
                || props.contains("jit network access"))
        || op.contains("azurefirewalls")
        || op.contains("roleassignments")
}

/// Counts `row` into its subscription's hour.
pub fn count_into(cells: &mut Cells, row: &Map<String, Value>) {
    let t = time_of(row);
    let hour = t
        .with_minute(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let c = cells
        .entry((text(row, "SubscriptionId"), hour))
        .or_insert((0, t, t));
    c.0 += 1;
    c.1 = c.1.min(t);
    c.2 = c.2.max(t);
}

impl FakeEngine {
    pub fn start(rows: Vec<Map<String, Value>>, faults: EngineFaults) -> FakeEngine {
        FakeEngine::start_with(rows, None, faults)
    }

    /// An engine for `--activity jit` only, at a size whose rows would not fit in memory:
    /// `rows` are the JIT rows, `left` the per-hour counts of all the others (a coverage
    /// query's chunk bounds are whole hours).
    pub fn start_with(
        rows: Vec<Map<String, Value>>,
        left: Option<Cells>,
        faults: EngineFaults,
    ) -> FakeEngine {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new((rows, faults, left));
        let thread = {
            let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (shared, log, counter) =
                        (Arc::clone(&shared), Arc::clone(&log), Arc::clone(&counter));
                    std::thread::spawn(move || {
                        serve(conn, &shared.0, &shared.2, &shared.1, &counter, &log)
                    });
                }
            })
        };
        FakeEngine {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP request: method, path, headers (lower-case names), body.
pub fn read_request(conn: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, target, headers, body))
}

pub fn respond(conn: &mut TcpStream, status: &str, extra: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}

fn serve(
    mut conn: TcpStream,
    rows: &[Map<String, Value>],
    left: &Option<Cells>,
    faults: &EngineFaults,
    counter: &AtomicUsize,
    log: &Mutex<Vec<Asked>>,
) {
    let Some((method, path, headers, body)) = read_request(&conn) else {
        return;
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let lower = path.to_ascii_lowercase();
    let (adx, target, kql) = if method == "POST" && lower == "/v2/rest/query" {
        (
            true,
            request["db"].as_str().unwrap_or("").to_string(),
            request["csl"].as_str().unwrap_or("").to_string(),
        )
    } else if method == "POST" && lower.starts_with("/v1/workspaces/") && lower.ends_with("/query")
    {
        (
            false,
            lower.split('/').nth(3).unwrap_or("").to_string(),
            request["query"].as_str().unwrap_or("").to_string(),
        )
    } else {
        return respond(
            &mut conn,
            "404 Not Found",
            "",
            r#"{"error":{"code":"PathNotFoundError","message":"no such route"}}"#,
        );
    };
    if headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {}", faults.token))
    {
        return respond(
            &mut conn,
            "401 Unauthorized",
            "",
            r#"{"error":{"code":"InvalidTokenError","message":"The provided authentication is not valid for this resource"}}"#,
        );
    }
    if faults.forbidden.contains(&target) {
        return respond(
            &mut conn,
            "403 Forbidden",
            "",
            r#"{"error":{"code":"InsufficientAccessError","message":"The provided credentials have insufficient access to perform the requested operation"}}"#,
        );
    }
    let n = counter.fetch_add(1, Ordering::SeqCst);
    if n == 0 && faults.throttle_first {
        return respond(
            &mut conn,
            "429 Too Many Requests",
            "Retry-After: 1\r\n",
            r#"{"error":{"code":"ThrottledError","message":"too many requests"}}"#,
        );
    }
    if n < faults.gateway_timeouts {
        return respond(
            &mut conn,
            "504 Gateway Timeout",
            "",
            r#"{"error":{"code":"GatewayTimeout","message":"the query took too long"}}"#,
        );
    }
    if n == 0
        && let Some(wait) = faults.slow_first
    {
        std::thread::sleep(wait);
    }
    let (kind, mut columns, mut out) = run_kql(&kql, rows, left.as_ref());
    if let Some((limit, wait)) = faults.slow_above
        && out.len() > limit
    {
        std::thread::sleep(wait);
    }
    let partial = faults.row_limit > 0 && out.len() > faults.row_limit;
    if partial {
        out.truncate(faults.row_limit);
    }
    log.lock().unwrap().push(Asked { target, kind });
    if columns.is_empty() {
        columns = vec![("TimeGenerated".into(), "datetime".into())];
    }
    let body = if adx {
        let cols: Vec<Value> = columns
            .iter()
            .map(|(n, t)| json!({"ColumnName": n, "ColumnType": t}))
            .collect();
        let mut completion =
            json!({"FrameType": "DataSetCompletion", "HasErrors": partial, "Cancelled": false});
        if partial {
            completion["OneApiErrors"] = json!([{"error": {"code": "LimitsExceeded", "message": "Request is invalid and cannot be executed.", "@type": "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException", "@message": "Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of 500000 records, so not all records were returned."}}]);
        }
        json!([
            {"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0"},
            {"FrameType": "DataTable", "TableId": 0, "TableKind": "PrimaryResult", "TableName": "PrimaryResult", "Columns": cols, "Rows": out},
            completion
        ])
    } else {
        let cols: Vec<Value> = columns
            .iter()
            .map(|(n, t)| json!({"name": n, "type": t}))
            .collect();
        let mut answer =
            json!({"tables": [{"name": "PrimaryResult", "columns": cols, "rows": out}]});
        if partial {
            answer["error"] = json!({"code": "PartialError", "message": "There were some errors when processing your query.", "details": [{"code": "EngineError", "message": "Query result set has exceeded the internal record count limit"}]});
        }
        answer
    };
    respond(&mut conn, "200 OK", "", &body.to_string());
}

/// Runs what decides the rows: the last half-open window in the KQL, and whether it asks for
/// the JIT rows, a coverage count of the others, a caller's rows, or every row.
fn run_kql(
    kql: &str,
    rows: &[Map<String, Value>],
    left: Option<&Cells>,
) -> (&'static str, Columns, Vec<Value>) {
    let windows = windows(kql);
    let (from, to) = *windows.last().expect("a window in the KQL");
    let inside = |r: &&Map<String, Value>| {
        let t = time_of(r);
        t >= from && t < to
    };
    let columns_of = |r: &Map<String, Value>| -> Vec<(String, String)> {
        r.iter()
            .map(|(k, v)| {
                let t = match v {
                    Value::Object(_) | Value::Array(_) => "dynamic",
                    Value::Number(_) => "long",
                    _ if k == "TimeGenerated" || k == "EventSubmissionTimestamp" => "datetime",
                    _ => "string",
                };
                (k.clone(), t.to_string())
            })
            .collect()
    };
    let as_row = |r: &Map<String, Value>| Value::Array(r.values().cloned().collect());
    if kql.contains("ObjectId = tostring(") {
        // The caller's names: per distinct Caller and claims, of the rows that name them.
        let names = caller_names(kql);
        let mut seen: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for r in rows.iter().filter(inside) {
            let hit = names.iter().any(|n| {
                text(r, "Caller") == *n
                    || ["Claims", "Authorization", "Properties"]
                        .iter()
                        .any(|c| text(r, c).contains(n.as_str()))
            });
            if hit {
                let claims: Value = serde_json::from_str(r["Claims"].as_str().unwrap_or("{}"))
                    .unwrap_or(Value::Null);
                let claim = |k: &str| claims[k].as_str().unwrap_or("").to_string();
                let key = vec![
                    r["Caller"].as_str().unwrap_or("").to_string(),
                    claim("http://schemas.microsoft.com/identity/claims/objectidentifier"),
                    claim("appid"),
                    claim("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
                ];
                *seen.entry(key).or_default() += 1;
            }
        }
        let columns = ["Caller", "ObjectId", "AppId", "Upn", "Records"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    if *n == "Records" { "long" } else { "string" }.to_string(),
                )
            })
            .collect();
        let out = seen
            .into_iter()
            .map(|(mut k, n)| {
                let mut row: Vec<Value> = k.drain(..).map(Value::String).collect();
                row.push(json!(n));
                Value::Array(row)
            })
            .collect();
        return ("names", columns, out);
    }
    if kql.contains("| summarize Records = count()") {
        let mut cells: Cells = BTreeMap::new();
        match left {
            Some(counted) => cells.extend(
                counted
                    .iter()
                    .filter(|((_, hour), _)| *hour >= from && *hour < to)
                    .map(|(k, v)| (k.clone(), *v)),
            ),
            None => {
                for r in rows.iter().filter(inside).filter(|r| !is_jit(r)) {
                    count_into(&mut cells, r);
                }
            }
        }
        let columns = [
            "SubscriptionId",
            "HourStart",
            "Records",
            "FirstTime",
            "LastTime",
        ]
        .iter()
        .zip(["string", "datetime", "long", "datetime", "datetime"])
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
        let out = cells
            .into_iter()
            .map(|((sub, hour), (n, first, last))| {
                json!([
                    sub,
                    hour.to_rfc3339(),
                    n,
                    first.to_rfc3339(),
                    last.to_rfc3339()
                ])
            })
            .collect();
        return ("coverage", columns, out);
    }
    let (kind, keep): (&'static str, Keep) = if kql.starts_with("let mine") {
        let names = caller_names(kql);
        let (wf, wt) = windows[0];
        let mine = move |r: &Map<String, Value>| {
            names.iter().any(|n| {
                text(r, "Caller") == *n
                    || ["Claims", "Authorization", "Properties"]
                        .iter()
                        .any(|c| text(r, c).contains(n.as_str()))
            })
        };
        let mine = std::rc::Rc::new(mine);
        let m2 = std::rc::Rc::clone(&mine);
        let ids: HashSet<String> = rows
            .iter()
            .filter(|r| {
                let t = time_of(r);
                t >= wf && t < wt && m2(r)
            })
            .map(|r| text(r, "CorrelationId"))
            .collect();
        (
            "caller",
            Box::new(move |r| mine(r) || ids.contains(&text(r, "CorrelationId")) || is_jit(r)),
        )
    } else if kql.contains("jitNetworkAccessPolicies") {
        ("jit", Box::new(is_jit))
    } else {
        ("all", Box::new(|_| true))
    };
    let kept: Vec<&Map<String, Value>> = rows.iter().filter(inside).filter(|r| keep(r)).collect();
    let columns = kept.first().map(|r| columns_of(r)).unwrap_or_default();
    (kind, columns, kept.into_iter().map(as_row).collect())
}

/// Every `TimeGenerated >= datetime(A) and TimeGenerated < datetime(B)` in the KQL.
fn windows(kql: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut rest = kql;
    while let Some(i) = rest.find("TimeGenerated >= datetime(") {
        let after = &rest[i + "TimeGenerated >= datetime(".len()..];
        let a = &after[..after.find(')').unwrap()];
        let j = after.find("TimeGenerated < datetime(").unwrap();
        let after_b = &after[j + "TimeGenerated < datetime(".len()..];
        let b = &after_b[..after_b.find(')').unwrap()];
        out.push((a.parse().unwrap(), b.parse().unwrap()));
        rest = after_b;
    }
    out
}

/// The quoted names of `Caller in~ ("a", "b")`, lower case.
fn caller_names(kql: &str) -> Vec<String> {
    let start = kql.find("Caller in~ (").unwrap() + "Caller in~ (".len();
    let list = &kql[start..start + kql[start..].find(')').unwrap()];
    list.split(',')
        .map(|s| s.trim().trim_matches('"').to_ascii_lowercase())
        .collect()
}
