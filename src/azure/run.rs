//! What the concurrent collection tasks share: the client, the output directory, the
//! manifest they all record into (rewritten after every change), and the progress bars; and
//! the two steps every list goes through, following `nextLink` page by page and recording a
//! kind's outcome.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http::{Api, FetchError};
use super::manifest::{FileEntry, KindEntry, KindStatus, Manifest};
use super::plan::{Inventory, Kind, SUBSCRIPTION_PERMISSION, Settings};
use crate::secrets::redact;

/// Pages one list may take: a subscription's busiest day of Activity Log is some thousands of
/// pages; this many means a server that does not end its list.
const MAX_PAGES: u32 = 20_000;

/// Everything the concurrent tasks share.
pub(super) struct Run {
    pub(super) arm: Api,
    pub(super) out: PathBuf,
    pub(super) settings: Settings,
    pub(super) manifest: Mutex<Manifest>,
    pub(super) bars: Mutex<BTreeMap<usize, ProgressBar>>,
    pub(super) multi: MultiProgress,
}

/// Where a kind's results go in the manifest.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    SubscriptionList,
    ManagementGroups,
    ResourceGraph,
    Graph,
    Kind(usize, Kind),
}

/// What reading a management group's descendants needs.
pub(super) const MANAGEMENT_GROUP_PERMISSION: &str =
    "Microsoft.Management/managementGroups/descendants/read (Reader at the management group)";
/// What a Resource Graph query needs: read access to the resources, per subscription.
pub(super) const RESOURCE_GRAPH_PERMISSION: &str =
    "read access to the resources (Reader on the subscriptions or a management group above them)";

impl Run {
    pub(super) fn with_entry<T>(&self, slot: Slot, f: impl FnOnce(&mut KindEntry) -> T) -> T {
        let mut m = self.manifest.lock().expect("manifest lock");
        let entry = match slot {
            Slot::SubscriptionList => m.subscription_list.get_or_insert_with(KindEntry::default),
            Slot::ManagementGroups => m.management_groups.get_or_insert_with(KindEntry::default),
            Slot::ResourceGraph => m.resource_graph.get_or_insert_with(KindEntry::default),
            Slot::Graph => m.graph.get_or_insert_with(KindEntry::default),
            Slot::Kind(i, kind) => m.subscriptions[i]
                .kinds
                .entry(kind.name().to_string())
                .or_default(),
        };
        f(entry)
    }

    pub(super) fn save(&self) {
        let m = self.manifest.lock().expect("manifest lock");
        if let Err(e) = m.save(&self.out) {
            self.multi.println(format!("jitaudit: warning: {e:#}")).ok();
        }
    }

    /// Writes one page as received, `.part` first and renamed once whole.
    pub(super) fn write_page(&self, rel: &str, body: &[u8]) -> Result<()> {
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

    /// Closes the manifest: files in order, the outcome, the end time; saved beside the pages.
    pub(super) fn finish(&self) -> Result<Manifest> {
        let manifest = {
            let mut m = self.manifest.lock().expect("manifest lock");
            m.files.sort_by(|a, b| a.path.cmp(&b.path));
            m.status = m.outcome();
            m.finished = Some(super::plan::stamp(chrono::Utc::now()));
            m.clone()
        };
        manifest.save(&self.out)?;
        Ok(manifest)
    }

    /// The kinds listed per subscription: the Activity Log only when no query engine holds
    /// it, VMs, NICs and NSGs only when Resource Graph does not list them.
    pub(super) fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| match k {
                Kind::ActivityLog => self.settings.logs.is_none(),
                Kind::VirtualMachines
                | Kind::NetworkInterfaces
                | Kind::NetworkSecurityGroups
                | Kind::PublicIpAddresses
                | Kind::AzureFirewalls => self.settings.inventory == Inventory::Arm,
                Kind::JitPolicies
                | Kind::RoleAssignments
                | Kind::RoleDefinitions
                | Kind::RoleEligibility => true,
            })
            .collect()
    }

    /// Redraws a subscription's progress line from its manifest entry.
    pub(super) fn tick(&self, slot: Slot) {
        let Slot::Kind(i, _) = slot else { return };
        let bars = self.bars.lock().expect("bars lock");
        let Some(bar) = bars.get(&i) else { return };
        let m = self.manifest.lock().expect("manifest lock");
        let sub = &m.subscriptions[i];
        let parts: Vec<String> = self
            .kinds()
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

    /// Follows one Resource Manager list from `first` through every `nextLink`, writing page
    /// n to `{prefix}page-{n:04}.json`. Returns the items' ids (for finding resource groups).
    pub(super) async fn list(
        &self,
        slot: Slot,
        first: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ListError> {
        self.list_on(&self.arm, "nextLink", slot, first, prefix)
            .await
    }

    /// [`Run::list`] on another endpoint, whose pages link on by `next_key` (Microsoft Graph:
    /// `@odata.nextLink`).
    pub(super) async fn list_on(
        &self,
        api: &Api,
        next_key: &str,
        slot: Slot,
        first: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ListError> {
        let mut ids = Vec::new();
        let mut next = Some(first.to_string());
        let mut n = 0;
        // A server whose nextLink leads back to a page already read would be followed for
        // ever: a link seen before ends the list as failed, and so does a list longer than
        // any real one.
        let mut seen = std::collections::HashSet::new();
        while let Some(target) = next.take() {
            let url = api
                .url(&target)
                .map_err(|e| ListError::from(e.to_string()))?;
            if !seen.insert(url.as_str().to_string()) {
                return Err(ListError::from(format!(
                    "nextLink leads back to a page already read ({}) after {n} page(s); the list was stopped there",
                    redact_query(url.as_str())
                )));
            }
            if n >= MAX_PAGES {
                return Err(ListError::from(format!(
                    "more than {MAX_PAGES} pages in one list ({}); stopped there, as no real list is that long",
                    redact_query(url.as_str())
                )));
            }
            let page = match api.get(&url).await {
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
                    return Err(ListError {
                        message: redact(&message, &[]).into_owned(),
                        denied,
                    });
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
                .get(next_key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        }
        Ok(ids)
    }

    /// An error in words a reader can act on: for 401/403, which permission and where.
    pub(super) fn explain(&self, slot: Slot, e: &FetchError) -> String {
        let (scope, permission) = match slot {
            Slot::SubscriptionList => {
                ("listing subscriptions".to_string(), SUBSCRIPTION_PERMISSION)
            }
            Slot::ManagementGroups => (
                "listing a management group".to_string(),
                MANAGEMENT_GROUP_PERMISSION,
            ),
            Slot::ResourceGraph => ("Resource Graph".to_string(), RESOURCE_GRAPH_PERMISSION),
            Slot::Graph => (
                "Microsoft Graph".to_string(),
                "GroupMember.Read.All (Microsoft Graph application permission)",
            ),
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
    pub(super) async fn kind<F>(&self, slot: Slot, work: F) -> Option<Vec<String>>
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
pub(super) struct ListError {
    pub(super) message: String,
    pub(super) denied: bool,
}

impl From<String> for ListError {
    /// The message goes into the manifest and onto standard output: credentials masked.
    fn from(message: String) -> Self {
        ListError {
            message: redact(&message, &[]).into_owned(),
            denied: false,
        }
    }
}

/// Strips the query (filters, skip tokens) from a URL for messages.
pub(super) fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
