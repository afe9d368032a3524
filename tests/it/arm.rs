//! A fake Azure Resource Manager on 127.0.0.1 for the `collect` tests: it serves the items of
//! real-shaped files (Microsoft's examples and the sample tenant) as ARM list pages with
//! `nextLink`, answers the Activity Log `$filter`, checks the bearer token, and injects the
//! faults a test asks for. It records every request and what each distinct page held.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// What the server holds, by lower-case subscription id.
#[derive(Default, Clone)]
pub struct Data {
    pub subscriptions: Vec<Value>,
    /// (subscription, kind) to items; kinds: vms, nics, nsgs, jit, events.
    pub items: BTreeMap<(String, &'static str), Vec<Value>>,
    /// Management group id (lower case) to its descendants, as the descendants API lists them.
    pub management_groups: BTreeMap<String, Vec<Value>>,
    /// Group id (lower case) to its members, as Microsoft Graph's transitiveMembers lists them.
    pub group_members: BTreeMap<String, Vec<Value>>,
    /// Role assignments above every subscription (the root, a management group): each
    /// subscription's list returns them, as the API lists inherited assignments.
    pub inherited: Vec<Value>,
}

impl Data {
    /// Sorts every item of `files` (ARM lists, arrays, single objects, Activity Log pages) by
    /// subscription and kind, the way the id or the shape says.
    pub fn from_files(files: &[&Path]) -> Data {
        let mut data = Data::default();
        for f in files {
            let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            let items = match v {
                Value::Array(a) => a,
                Value::Object(ref o) if o.contains_key("value") => {
                    o["value"].as_array().unwrap().clone()
                }
                other => vec![other],
            };
            for item in items {
                data.add(item);
            }
        }
        data
    }

    pub fn add(&mut self, item: Value) {
        if item.get("subscriptionId").is_some() && item.get("eventTimestamp").is_none() {
            self.subscriptions.push(item);
            return;
        }
        let id = item
            .get("id")
            .or_else(|| item.get("resourceId"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let sub = id.split('/').nth(2).unwrap_or("").to_string();
        if id.contains("/roleassignments/") && !id.starts_with("/subscriptions/") {
            self.inherited.push(item);
            return;
        }
        let kind = if item.get("eventTimestamp").is_some() {
            "events"
        } else if id.contains("/jitnetworkaccesspolicies/") {
            "jit"
        } else if id.contains("/virtualmachines/") {
            "vms"
        } else if id.contains("/networkinterfaces/") {
            "nics"
        } else if id.contains("/roleassignments/") {
            "ra"
        } else if id.contains("/roledefinitions/") {
            "rd"
        } else if id.contains("/roleeligibilityscheduleinstances/") {
            "pim"
        } else if id.contains("/azurefirewalls/") {
            "fws"
        } else if id.contains("/publicipaddresses/") {
            "pips"
        } else if id.contains("/networksecuritygroups/") {
            "nsgs"
        } else {
            panic!("the fake ARM cannot place {id}")
        };
        self.items.entry((sub, kind)).or_default().push(item);
    }
}

/// Faults, each keyed by a lower-case substring of the request path.
#[derive(Default, Clone)]
pub struct Faults {
    pub token: String,
    pub page_size: usize,
    /// Subscriptions whose every call answers 403.
    pub forbidden: Vec<String>,
    /// The first request answers 429 with `Retry-After: 1`.
    pub throttle_once: Vec<String>,
    /// The first n requests answer 503.
    pub unavailable: Vec<(String, usize)>,
    /// The first request waits this long before answering.
    pub slow_once: Vec<(String, Duration)>,
    /// Every request answers 503.
    pub always_unavailable: Vec<String>,
    /// JIT policy ids (lower case) the subscription-scope list leaves out.
    pub omitted_at_subscription_scope: Vec<String>,
    /// Lists whose `nextLink` never ends: it goes from the first page to the second and back.
    pub looping: Vec<String>,
    /// Requests answered 400 with an error message that repeats the Authorization header, as
    /// a careless server or proxy does.
    pub echo_token: Vec<String>,
    /// Lists whose `nextLink` carries a user name and password (`http://user:secret@host/...`).
    pub credential_link: Vec<String>,
}

#[derive(Default)]
pub struct Log {
    /// Every request's path and query, in arrival order.
    pub requests: Vec<String>,
    /// Per distinct path and query answered 200: (subscription, kind, items).
    pub served: BTreeMap<String, (String, &'static str, usize)>,
}

pub struct FakeArm {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeArm {
    pub fn start(data: Data, faults: Faults) -> FakeArm {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new((data, faults, addr));
        let thread = {
            let log = Arc::clone(&log);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let shared = Arc::clone(&shared);
                    let log = Arc::clone(&log);
                    std::thread::spawn(move || serve(conn, &shared.0, &shared.1, shared.2, &log));
                }
            })
        };
        FakeArm {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests whose path contains `needle` (lower case).
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.to_ascii_lowercase().contains(needle))
            .count()
    }

    /// Items served in distinct 200 pages, per (subscription, kind).
    pub fn served(&self) -> BTreeMap<(String, &'static str), usize> {
        let mut out = BTreeMap::new();
        for (sub, kind, n) in self.log.lock().unwrap().served.values() {
            *out.entry((sub.clone(), *kind)).or_default() += n;
        }
        out
    }
}

impl Drop for FakeArm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, data: &Data, faults: &Faults, addr: SocketAddr, log: &Mutex<Log>) {
    let Some((method, target, headers, body)) = crate::engines::read_request(&conn) else {
        return;
    };
    let auth = headers.get("authorization").cloned().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let lower = path.to_ascii_lowercase();
    log.lock().unwrap().requests.push(target.clone());
    let mut conn = conn;
    let respond = |conn: &mut TcpStream, status: &str, extra: &str, body: &str| {
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
            body.len()
        );
    };
    if auth != format!("Bearer {}", faults.token) {
        let body = json!({"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}});
        return respond(&mut conn, "401 Unauthorized", "", &body.to_string());
    }
    let sub = lower.split('/').nth(2).unwrap_or("").to_string();
    if faults.forbidden.contains(&sub) {
        let body = json!({"error": {"code": "AuthorizationFailed", "message": format!("The client does not have authorization to perform action over scope '/subscriptions/{sub}'.")}});
        return respond(&mut conn, "403 Forbidden", "", &body.to_string());
    }
    let first_for_path = {
        let l = log.lock().unwrap();
        l.requests
            .iter()
            .filter(|r| r.to_ascii_lowercase().starts_with(&lower))
            .count()
    };
    if faults
        .always_unavailable
        .iter()
        .any(|n| lower.contains(n.as_str()))
    {
        return respond(
            &mut conn,
            "503 Service Unavailable",
            "",
            r#"{"error":{"code":"ServiceUnavailable","message":"try later"}}"#,
        );
    }
    if first_for_path == 1
        && faults
            .throttle_once
            .iter()
            .any(|n| lower.contains(n.as_str()))
    {
        return respond(
            &mut conn,
            "429 Too Many Requests",
            "Retry-After: 1\r\n",
            r#"{"error":{"code":"TooManyRequests","message":"throttled"}}"#,
        );
    }
    if faults.echo_token.iter().any(|n| lower.contains(n.as_str())) {
        let body = json!({"error": {"code": "BadRequest", "message": format!("Malformed request; headers were Authorization: {auth}")}});
        return respond(&mut conn, "400 Bad Request", "", &body.to_string());
    }
    if let Some((_, n)) = faults
        .unavailable
        .iter()
        .find(|(n, _)| lower.contains(n.as_str()))
        && first_for_path <= *n
    {
        return respond(
            &mut conn,
            "503 Service Unavailable",
            "",
            r#"{"error":{"code":"ServiceUnavailable","message":"try later"}}"#,
        );
    }
    if let Some((_, wait)) = faults
        .slow_once
        .iter()
        .find(|(n, _)| lower.contains(n.as_str()))
        && first_for_path == 1
    {
        std::thread::sleep(*wait);
    }

    let params = parse_query(query);
    let segments: Vec<&str> = lower.trim_end_matches('/').split('/').collect();
    if method == "POST" && segments == ["", "providers", "microsoft.resourcegraph", "resources"] {
        return resource_graph(&mut conn, data, faults, &body, log, &target);
    }
    let (kind, items): (&'static str, Vec<Value>) = match segments.as_slice() {
        ["", "subscriptions"] => ("subscriptions", data.subscriptions.clone()),
        ["", "subscriptions", id] => {
            let found = data.subscriptions.iter().find(|s| {
                s["subscriptionId"]
                    .as_str()
                    .unwrap_or("")
                    .eq_ignore_ascii_case(id)
            });
            return match found {
                Some(s) => {
                    log.lock()
                        .unwrap()
                        .served
                        .insert(target.clone(), (sub.clone(), "subscriptions", 1));
                    respond(&mut conn, "200 OK", "", &s.to_string())
                }
                None => respond(
                    &mut conn,
                    "404 Not Found",
                    "",
                    r#"{"error":{"code":"SubscriptionNotFound","message":"not found"}}"#,
                ),
            };
        }
        [.., "microsoft.compute", "virtualmachines"] => ("vms", items(data, &sub, "vms")),
        [.., "microsoft.network", "networkinterfaces"] => ("nics", items(data, &sub, "nics")),
        [.., "microsoft.network", "networksecuritygroups"] => ("nsgs", items(data, &sub, "nsgs")),
        [.., "microsoft.network", "publicipaddresses"] => ("pips", items(data, &sub, "pips")),
        [.., "microsoft.network", "azurefirewalls"] => ("fws", items(data, &sub, "fws")),
        [.., "microsoft.authorization", "roleassignments"] => {
            let mut all = items(data, &sub, "ra");
            all.extend(data.inherited.iter().cloned());
            ("ra", all)
        }
        [.., "microsoft.authorization", "roledefinitions"] => ("rd", items(data, &sub, "rd")),
        [
            ..,
            "microsoft.authorization",
            "roleeligibilityscheduleinstances",
        ] => ("pim", items(data, &sub, "pim")),
        [
            "",
            "subscriptions",
            _,
            "providers",
            "microsoft.security",
            "jitnetworkaccesspolicies",
        ] => {
            let all = items(data, &sub, "jit");
            let kept = all
                .into_iter()
                .filter(|p| {
                    let id = p["id"].as_str().unwrap_or("").to_ascii_lowercase();
                    !faults.omitted_at_subscription_scope.contains(&id)
                })
                .collect();
            ("jit", kept)
        }
        [
            "",
            "subscriptions",
            _,
            "resourcegroups",
            rg,
            "providers",
            "microsoft.security",
            "jitnetworkaccesspolicies",
        ] => {
            let needle = format!(
                "/resourcegroups/{}/",
                percent_decode(rg).to_ascii_lowercase()
            );
            let kept = items(data, &sub, "jit")
                .into_iter()
                .filter(|p| {
                    p["id"]
                        .as_str()
                        .unwrap_or("")
                        .to_ascii_lowercase()
                        .contains(&needle)
                })
                .collect();
            ("jit", kept)
        }
        ["", "v1.0", "groups", group, "transitivemembers"] => (
            "members",
            data.group_members.get(*group).cloned().unwrap_or_default(),
        ),
        [
            "",
            "providers",
            "microsoft.management",
            "managementgroups",
            group,
            "descendants",
        ] => (
            "mg",
            data.management_groups
                .get(*group)
                .cloned()
                .unwrap_or_default(),
        ),
        [.., "eventtypes", "management", "values"] => {
            let filter = params.get("$filter").cloned().unwrap_or_default();
            ("events", events(items(data, &sub, "events"), &filter))
        }
        _ => {
            return respond(
                &mut conn,
                "404 Not Found",
                "",
                r#"{"error":{"code":"NotFound","message":"no such route"}}"#,
            );
        }
    };
    let size = faults.page_size.max(1);
    let skip: usize = params
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut body = json!({ "value": page });
    let looping = faults.looping.iter().any(|n| lower.contains(n.as_str()));
    if looping || skip + size < items.len() {
        let next = if looping && skip > 0 { 0 } else { skip + size };
        let kept: Vec<String> = query
            .split('&')
            .filter(|p| !p.starts_with("$skiptoken="))
            .map(str::to_string)
            .collect();
        let credentials = if faults
            .credential_link
            .iter()
            .any(|n| lower.contains(n.as_str()))
        {
            "user:secret@"
        } else {
            ""
        };
        body["nextLink"] = Value::String(format!(
            "http://{credentials}{addr}{path}?{}&$skiptoken={}",
            kept.join("&"),
            next
        ));
    }
    // Microsoft Graph links on by `@odata.nextLink`.
    if kind == "members"
        && let Some(next) = body.as_object_mut().and_then(|o| o.remove("nextLink"))
    {
        body["@odata.nextLink"] = next;
    }
    log.lock()
        .unwrap()
        .served
        .insert(target.clone(), (sub.clone(), kind, page.len()));
    respond(&mut conn, "200 OK", "", &body.to_string());
}

/// Resource Graph's `Resources` over the subscriptions asked for: the VMs, NICs and NSGs,
/// ordered by id, `$top` (at most the fault's page size) a page, paged by `$skipToken`.
fn resource_graph(
    conn: &mut TcpStream,
    data: &Data,
    faults: &Faults,
    body: &[u8],
    log: &Mutex<Log>,
    target: &str,
) {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let subs: Vec<String> = request["subscriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
        .collect();
    assert!(
        subs.len() <= 1000,
        "Resource Graph takes at most 1,000 subscriptions"
    );
    let mut all: Vec<Value> = subs
        .iter()
        .flat_map(|s| ["vms", "nics", "nsgs", "pips", "fws"].map(|k| items(data, s, k)))
        .flatten()
        .collect();
    all.sort_by_key(|v| v["id"].as_str().unwrap_or("").to_ascii_lowercase());
    let top = request["options"]["$top"]
        .as_u64()
        .unwrap_or(100)
        .min(faults.page_size.max(1) as u64) as usize;
    let skip: usize = request["options"]["$skipToken"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let mut answer = json!({
        "totalRecords": all.len(),
        "count": page.len(),
        "resultTruncated": "false",
        "data": page,
    });
    if skip + top < all.len() {
        answer["$skipToken"] = json!((skip + top).to_string());
    }
    log.lock().unwrap().served.insert(
        format!("{target}#{skip}"),
        ("(graph)".into(), "graph", page.len()),
    );
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        answer.to_string().len(),
        answer
    );
}

fn items(data: &Data, sub: &str, kind: &'static str) -> Vec<Value> {
    data.items
        .get(&(sub.to_string(), kind))
        .cloned()
        .unwrap_or_default()
}

/// The events inside the `$filter`'s window (both ends inclusive, as the API does), of the
/// named provider when one is given.
fn events(all: Vec<Value>, filter: &str) -> Vec<Value> {
    let quoted: Vec<&str> = filter.split('\'').skip(1).step_by(2).collect();
    let time = |s: &str| s.parse::<DateTime<Utc>>().expect("filter time");
    let (from, to) = (time(quoted[0]), time(quoted[1]));
    let provider = quoted.get(2).map(|p| p.to_ascii_lowercase());
    all.into_iter()
        .filter(|e| {
            let t = time(e["eventTimestamp"].as_str().unwrap());
            let p = e["resourceProviderName"]["value"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase();
            t >= from && t <= to && provider.as_ref().is_none_or(|want| *want == p)
        })
        .collect()
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
