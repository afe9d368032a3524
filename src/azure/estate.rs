//! The estate beyond one subscription at a time: the subscriptions under management groups
//! (their descendants, nested groups included, paged by `nextLink`), and the VMs, NICs, NSGs
//! and public IP addresses of every subscription from Azure Resource Graph (up to 1,000 subscriptions a request,
//! paged by `$skipToken`), written page by page as received.
//!
//! Wire formats read against: the management groups API's `GetDescendants` example
//! (azure-rest-api-specs, Microsoft.Management stable 2023-04-01: `value[]` of `id`, `type`
//! `Microsoft.Management/managementGroups` or `.../managementGroups/subscriptions`, `name`,
//! `properties.displayName`, `properties.parent.id`; `nextLink`), and Resource Graph's
//! `Resources` operation (Microsoft.ResourceGraph 2022-10-01: request `{"subscriptions",
//! "query", "options": {"$top", "$skipToken", "resultFormat"}}`, answer `{"totalRecords",
//! "count", "resultTruncated", "$skipToken", "data"}`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use super::http::FetchError;
use super::plan::{file_safe, percent_encode};
use super::run::{Run, Slot};

/// Subscriptions per Resource Graph request: the service takes at most 1,000.
pub const GRAPH_SUBSCRIPTIONS: usize = 1000;
/// Rows per Resource Graph page: the service's largest `$top`.
const GRAPH_TOP: u64 = 1000;
const GRAPH_API: &str = "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01";
/// What the loader reads of the inventory, in a stable order so that `$skipToken` pages hold.
const GRAPH_QUERY: &str = "Resources\n| where type in~ ('microsoft.compute/virtualmachines', 'microsoft.network/networkinterfaces', 'microsoft.network/networksecuritygroups', 'microsoft.network/publicipaddresses', 'microsoft.network/azurefirewalls')\n| order by id asc";
/// Pages a Resource Graph listing may take before it is taken for a server that never ends.
const GRAPH_MAX_PAGES: u32 = 20_000;

/// The subscription ids under every `--management-group` (lower case, sorted), or none when
/// a group could not be listed whole (the manifest says why).
pub(super) async fn management_group_subscriptions(run: &Arc<Run>) -> Option<Vec<String>> {
    let groups = run.settings.management_groups.clone();
    run.kind(Slot::ManagementGroups, async {
        let mut subs = BTreeSet::new();
        let mut errors = Vec::new();
        for group in &groups {
            let path = format!(
                "/providers/Microsoft.Management/managementGroups/{}/descendants?api-version=2023-04-01",
                percent_encode(group)
            );
            let prefix = format!("management-groups/{}/descendants-", file_safe(group));
            match run.list(Slot::ManagementGroups, &path, &prefix).await {
                // Descendants hold nested groups and their subscriptions alike; a
                // subscription's id is `/subscriptions/{id}`.
                Ok(ids) => subs.extend(ids.iter().filter_map(|id| {
                    let mut parts = id.trim_matches('/').split('/');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some(s), Some(sub), None) if s.eq_ignore_ascii_case("subscriptions") => {
                            Some(sub.to_ascii_lowercase())
                        }
                        _ => None,
                    }
                })),
                Err(e) => errors.push(format!("management group {group}: {}", e.message)),
            }
        }
        if errors.is_empty() {
            Ok(subs.into_iter().collect())
        } else {
            Err(errors)
        }
    })
    .await
}

/// The VM ids per subscription (lower case) from Resource Graph, whose pages are written for
/// the loader; none when the inventory could not be listed whole.
pub(super) async fn resource_graph(
    run: &Arc<Run>,
    subscriptions: &[String],
) -> Option<BTreeMap<String, Vec<String>>> {
    let mut vms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let listed = run
        .kind(Slot::ResourceGraph, async {
            for (b, batch) in subscriptions.chunks(GRAPH_SUBSCRIPTIONS).enumerate() {
                graph_batch(run, b + 1, batch, &mut vms)
                    .await
                    .map_err(|e| vec![e])?;
            }
            Ok(Vec::new())
        })
        .await;
    listed.map(|_| vms)
}

async fn graph_batch(
    run: &Run,
    number: usize,
    batch: &[String],
    vms: &mut BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let url = run.arm.url(GRAPH_API).map_err(|e| e.to_string())?;
    let mut skip: Option<String> = None;
    let mut seen = HashSet::new();
    let mut n = 0u32;
    loop {
        let mut options = json!({"$top": GRAPH_TOP, "resultFormat": "objectArray"});
        if let Some(token) = &skip {
            options["$skipToken"] = json!(token);
        }
        let body = json!({"subscriptions": batch, "query": GRAPH_QUERY, "options": options});
        let page = match run.arm.post(&url, &body, &[]).await {
            Ok(page) => page,
            Err(e) => {
                if let FetchError::GaveUp { attempts, .. } = e {
                    run.with_entry(Slot::ResourceGraph, |k| {
                        k.retries += u64::from(attempts - 1)
                    });
                }
                return Err(format!(
                    "subscriptions batch {number}, page {}: {}",
                    n + 1,
                    run.explain(Slot::ResourceGraph, &e)
                ));
            }
        };
        let Some(data) = page.json.get("data").and_then(Value::as_array) else {
            return Err(format!(
                "subscriptions batch {number}: the answer has no \"data\" array (is resultFormat objectArray honoured?)"
            ));
        };
        n += 1;
        run.write_page(
            &format!("resource-graph/batch-{number:03}-page-{n:04}.json"),
            &page.body,
        )
        .map_err(|e| format!("{e:#}"))?;
        for item in data {
            let id = item["id"].as_str().unwrap_or("");
            let lower = id.to_ascii_lowercase();
            if lower.contains("/providers/microsoft.compute/virtualmachines/") {
                let sub = lower.split('/').nth(2).unwrap_or("").to_string();
                vms.entry(sub).or_default().push(id.to_string());
            }
        }
        run.with_entry(Slot::ResourceGraph, |k| {
            k.pages += 1;
            k.records += data.len() as u64;
            k.retries += u64::from(page.retries);
        });
        skip = page
            .json
            .get("$skipToken")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let truncated = matches!(page.json.get("resultTruncated"), Some(Value::String(s)) if s.eq_ignore_ascii_case("true"))
            || page.json.get("resultTruncated") == Some(&Value::Bool(true));
        match &skip {
            None if truncated => {
                return Err(format!(
                    "subscriptions batch {number}: Resource Graph truncated the result and gave no $skipToken to page on"
                ));
            }
            None => return Ok(()),
            Some(token) if !seen.insert(token.clone()) => {
                return Err(format!(
                    "subscriptions batch {number}: a $skipToken came back twice after {n} page(s); stopped there"
                ));
            }
            Some(_) if n >= GRAPH_MAX_PAGES => {
                return Err(format!(
                    "subscriptions batch {number}: more than {GRAPH_MAX_PAGES} pages; stopped there"
                ));
            }
            Some(_) => {}
        }
    }
}

/// The groups the role assignment and eligibility pages written so far name (lower case).
fn assigned_groups(run: &Run) -> Vec<String> {
    let files = run.manifest.lock().expect("manifest lock").files.clone();
    let mut groups = BTreeSet::new();
    for f in files
        .iter()
        .filter(|f| f.path.contains("/role-assignments/") || f.path.contains("/role-eligibility/"))
    {
        let Ok(text) = std::fs::read(run.out.join(&f.path)) else {
            continue;
        };
        let Ok(page) = serde_json::from_slice::<Value>(&text) else {
            continue;
        };
        for item in page["value"].as_array().into_iter().flatten() {
            let p = &item["properties"];
            if p["principalType"].as_str() == Some("Group")
                && let Some(id) = p["principalId"].as_str()
            {
                groups.insert(id.to_ascii_lowercase());
            }
        }
    }
    groups.into_iter().collect()
}

/// Lists, with Microsoft Graph, the members (nested groups' too) of every group a role
/// assignment names: `GET /v1.0/groups/{id}/transitiveMembers`, paged by `@odata.nextLink`,
/// each page written under `graph/groups/{id}/`, where the loader takes the group's id from.
pub(super) async fn group_members(run: &Arc<Run>, graph: &super::http::Api) {
    let groups = assigned_groups(run);
    run.kind(Slot::Graph, async {
        let mut errors = Vec::new();
        for g in &groups {
            let path = format!(
                "/v1.0/groups/{g}/transitiveMembers?$select=id,displayName,userPrincipalName,appId"
            );
            let prefix = format!("graph/groups/{g}/members-");
            if let Err(e) = run
                .list_on(graph, "@odata.nextLink", Slot::Graph, &path, &prefix)
                .await
            {
                errors.push(format!("group {g}: {}", e.message));
            }
        }
        if errors.is_empty() {
            Ok(Vec::new())
        } else {
            Err(errors)
        }
    })
    .await;
}
