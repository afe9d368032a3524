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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the snapshot directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// Every kind of every subscription, and the subscription list.
    pub fn kinds(&self) -> impl Iterator<Item = &KindEntry> {
        self.subscription_list
            .iter()
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
