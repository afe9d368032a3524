//! `manifest.json`: what a `collect` run asked for, what it got, what failed and why, and the
//! SHA-256 of every page it wrote. It is rewritten (atomically) as the run goes, so a run that
//! was stopped leaves a manifest whose `status` is still `running` and whose unfinished kinds
//! say `pending` or `running`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going, or stopped before it finished.
    Running,
    /// Everything asked for was collected.
    Complete,
    /// Some subscriptions or kinds failed; the rest is whole.
    Partial,
    /// Nothing was collected.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindStatus {
    Pending,
    Running,
    Ok,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub status: RunStatus,
    pub started: String,
    pub finished: Option<String>,
    pub cloud: String,
    pub arm_endpoint: String,
    pub token_scope: String,
    /// The sign-in method that was used (never the token).
    pub auth: String,
    pub window: ManifestWindow,
    /// `all`, or `jit` (Microsoft.Security and Microsoft.Network events only).
    pub activity: String,
    pub concurrency: usize,
    pub retry: ManifestRetry,
    /// Listing the subscriptions (absent when `--subscription` named them).
    pub subscription_list: Option<KindEntry>,
    /// Listing the subscriptions under `--management-group` (absent without one).
    #[serde(default)]
    pub management_groups: Option<KindEntry>,
    /// The Resource Graph inventory of every subscription (`--inventory resource-graph`).
    #[serde(default)]
    pub resource_graph: Option<KindEntry>,
    /// The members of the groups role assignments name, from Microsoft Graph (`--graph`).
    #[serde(default)]
    pub graph: Option<KindEntry>,
    /// The Activity Log read from a query engine (`--log-analytics`, `--adx`).
    #[serde(default)]
    pub logs: Option<LogsEntry>,
    pub subscriptions: Vec<SubscriptionEntry>,
    /// Errors that belong to no one subscription.
    pub errors: Vec<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestWindow {
    pub from: String,
    pub to: String,
    /// Day-sized Activity Log requests the window was split into.
    pub windows: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestRetry {
    pub attempts: u32,
    pub budget_seconds: u64,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriptionEntry {
    pub id: String,
    pub name: Option<String>,
    pub state: Option<String>,
    pub tenant_id: Option<String>,
    pub errors: Vec<String>,
    /// Per kind (`jit-policies`, `virtual-machines`, ...).
    pub kinds: BTreeMap<String, KindEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindEntry {
    pub status: KindStatus,
    /// Pages written (each a whole response body).
    pub pages: u64,
    /// Items in the pages' `value` arrays.
    pub records: u64,
    /// Retries the pages took (429, 5xx, timeouts, resets).
    pub retries: u64,
    pub duration_ms: u64,
    pub errors: Vec<String>,
}

impl Default for KindEntry {
    fn default() -> Self {
        KindEntry {
            status: KindStatus::Pending,
            pages: 0,
            records: 0,
            retries: 0,
            duration_ms: 0,
            errors: Vec::new(),
        }
    }
}

/// The Activity Log as a query engine gave it: what was asked, chunk by chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogsEntry {
    /// `log-analytics` or `data-explorer`.
    pub engine: String,
    pub endpoint: String,
    pub token_scope: String,
    /// Workspace ids, or the database.
    pub targets: Vec<String>,
    pub table: String,
    /// `all`, `jit` or `caller`.
    pub selection: String,
    /// Queries sent (retries not counted; a split chunk's halves are).
    pub requests: u64,
    /// Rows in the responses kept (those a split replaced not counted).
    pub rows: u64,
    /// Rows of the window the filter left on the engine (from the coverage queries).
    pub rows_left_on_engine: u64,
    /// The names of the identity a live `caller` looked for (UPN, object id, app id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caller_names: Vec<String>,
    pub chunks: Vec<ChunkEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkStatus {
    /// The whole answer; its file is read.
    Ok,
    /// Asked again as two halves; its (partial) answer is kept beside as `.superseded`.
    Split,
    /// Still partial at the smallest chunk: the rows that came are read, the run exits 3.
    Partial,
    /// No answer (refused, rejected, retries ran out).
    Failed,
    /// Not sent, because the target refused an earlier query.
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkEntry {
    /// The workspace id or database.
    pub target: String,
    /// `activity` (rows) or `coverage` (counts of the rows left on the engine).
    pub query: String,
    pub from: String,
    pub to: String,
    pub status: ChunkStatus,
    pub rows: u64,
    pub bytes: u64,
    pub retries: u64,
    pub duration_ms: u64,
    /// The file written, relative to the snapshot.
    pub file: Option<String>,
    pub error: Option<String>,
    /// The KQL sent, exactly.
    pub kql: String,
}

impl LogsEntry {
    /// Whether every chunk ended whole (split ones were replaced by their halves).
    pub fn complete(&self) -> bool {
        self.chunks
            .iter()
            .all(|c| matches!(c.status, ChunkStatus::Ok | ChunkStatus::Split))
    }

    pub fn any_ok(&self) -> bool {
        self.chunks.iter().any(|c| c.status == ChunkStatus::Ok)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the snapshot directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// Every kind of every subscription, the subscription list, the management groups and
    /// the Resource Graph inventory.
    pub fn kinds(&self) -> impl Iterator<Item = &KindEntry> {
        self.subscription_list
            .iter()
            .chain(self.management_groups.iter())
            .chain(self.resource_graph.iter())
            .chain(self.graph.iter())
            .chain(self.subscriptions.iter().flat_map(|s| s.kinds.values()))
    }

    /// Complete when every kind succeeded, failed when none did, partial otherwise.
    pub fn outcome(&self) -> RunStatus {
        let (ok, failed) = self.kinds().fold((0, 0), |(ok, failed), k| match k.status {
            KindStatus::Ok => (ok + 1, failed),
            _ => (ok, failed + 1),
        });
        let list_failed = self
            .subscription_list
            .as_ref()
            .is_some_and(|l| l.status != KindStatus::Ok);
        let sub_errors = self.subscriptions.iter().any(|s| !s.errors.is_empty());
        let (ok, failed) = match &self.logs {
            Some(l) if l.complete() => (ok + 1, failed),
            Some(l) if l.any_ok() => (ok + 1, failed + 1),
            Some(_) => (ok, failed + 1),
            None => (ok, failed),
        };
        match (ok, failed) {
            (_, _) if list_failed && self.subscriptions.is_empty() => RunStatus::Failed,
            (0, _) => RunStatus::Failed,
            (_, 0) if !sub_errors && self.errors.is_empty() => RunStatus::Complete,
            _ => RunStatus::Partial,
        }
    }

    /// Writes the manifest beside the pages, replacing the previous one atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let tmp = dir.join(format!(".{MANIFEST_FILE}.part"));
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }
}
