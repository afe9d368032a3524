//! The command line, as clap types. These stay here: each command turns its arguments into
//! plain settings before doing any work.

pub use crate::severity::Severity;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "jitaudit", version, about = "Audit Azure Just-In-Time VM access", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read Activity Log exports, JIT policies and inventory into normalized Parquet tables.
    Ingest(IngestArgs),
    /// Generate a synthetic tenant in every export shape, with known anomalies.
    Sample(SampleArgs),
    /// Run the detection rules and print the findings; exit 1 when any reach --fail-on.
    Scan(ScanArgs),
    /// List the rule catalogue, or explain one rule.
    Rules(RulesArgs),
    /// Run SQL over the normalized tables (and `findings`).
    Query(QueryArgs),
    /// List the saved queries of the query library.
    Queries,
    /// Everything one caller did, in time order (UPN, object id or app id).
    Caller(CallerArgs),
    /// The weekly compliance report: HTML with charts, CSV, JSON and Markdown; gates on --fail-on.
    Report(ReportArgs),
    /// Snapshot subscriptions, JIT policies, VMs, NICs, NSGs and the Activity Log from Azure
    /// Resource Manager into a directory every other command reads. Exit 0 when everything
    /// was collected, 3 when some subscriptions or kinds failed, 2 when nothing was.
    Collect(CollectArgs),
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// A new or empty directory for the raw pages and manifest.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A subscription id to collect (repeatable); default: every subscription the identity can list.
    #[arg(long = "subscription", value_name = "ID")]
    pub subscriptions: Vec<String>,
    /// Activity Log days back from now (the API keeps 90).
    #[arg(long, value_name = "N", default_value_t = 7, conflicts_with_all = ["from", "to"])]
    pub days: u32,
    /// Start of the Activity Log window (RFC 3339), within the last 90 days.
    #[arg(long, value_name = "T", requires = "to")]
    pub from: Option<String>,
    /// End of the Activity Log window (RFC 3339).
    #[arg(long, value_name = "T", requires = "from")]
    pub to: Option<String>,
    /// `all` events (the caller view needs them), or only JIT-related providers' events.
    #[arg(long, value_enum, default_value_t = crate::azure::plan::ActivityScope::All)]
    pub activity: crate::azure::plan::ActivityScope,
    #[arg(long, value_enum, default_value_t = crate::azure::cloud::Cloud::Public)]
    pub cloud: crate::azure::cloud::Cloud,
    /// Resource Manager endpoint, instead of the cloud's own (e.g. a test server).
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// How to sign in; `auto` tries JITAUDIT_ACCESS_TOKEN, workload identity, a service
    /// principal, managed identity, then Azure CLI and Azure Developer CLI.
    #[arg(long, value_enum, default_value_t = crate::azure::auth::AuthMethod::Auto)]
    pub auth: crate::azure::auth::AuthMethod,
    /// Requests in flight at once, across all subscriptions.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Seconds one request may take before it is retried.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Attempts per request, the first included (429, 5xx, timeouts and resets are retried).
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub attempts: u32,
    /// Seconds after which a request is not retried again.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub retry_budget: u64,
    /// Collect every subscription under this management group, nested groups included
    /// (repeatable; with --subscription, both).
    #[arg(long = "management-group", value_name = "ID")]
    pub management_groups: Vec<String>,
    /// Leave this subscription out (repeatable).
    #[arg(long = "exclude-subscription", value_name = "ID")]
    pub exclude: Vec<String>,
    /// How VMs, NICs, NSGs and public IPs are listed: per subscription from Resource Manager, or for all
    /// subscriptions at once with Azure Resource Graph.
    #[arg(long, value_enum, default_value_t = crate::azure::plan::Inventory::Arm)]
    pub inventory: crate::azure::plan::Inventory,
    /// List the members of the groups role assignments name (nested ones included) with
    /// Microsoft Graph, so a right held through a group is reported for each member; needs
    /// GroupMember.Read.All.
    #[arg(long)]
    pub graph: bool,
    /// Microsoft Graph endpoint, instead of the cloud's own (e.g. a test server).
    #[arg(long, value_name = "URL", requires = "graph")]
    pub graph_endpoint: Option<String>,
    #[command(flatten)]
    pub logs: LogArgs,
}

/// Where the Activity Log is read from when not from the Activity Log API.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Read the Activity Log from this Log Analytics workspace's AzureActivity table (its
    /// workspace id, a GUID; repeatable) instead of the Activity Log API, for any window the
    /// workspace keeps.
    #[arg(
        long = "log-analytics",
        value_name = "WORKSPACE_ID",
        conflicts_with = "adx"
    )]
    pub log_analytics: Vec<String>,
    /// The Log Analytics query endpoint, instead of the cloud's own (e.g. a test server).
    #[arg(long, value_name = "URL")]
    pub log_analytics_endpoint: Option<String>,
    /// Read the Activity Log from this Azure Data Explorer cluster (its URL).
    #[arg(long, value_name = "CLUSTER_URL", requires = "adx_database")]
    pub adx: Option<String>,
    /// The Data Explorer database that holds the Activity Log.
    #[arg(long, value_name = "DB", requires = "adx")]
    pub adx_database: Option<String>,
    /// The table (or stored function) with AzureActivity's columns.
    #[arg(long, value_name = "NAME", default_value = "AzureActivity")]
    pub adx_table: String,
    /// Hours of log a query asks for at first; a chunk that comes back partial is halved.
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=2160))]
    pub chunk_hours: u32,
    /// Queries in flight at once (the services allow a few per user).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub query_concurrency: usize,
    /// Seconds one query may take before it is retried or, when it keeps timing out, halved.
    #[arg(long, value_name = "SECS", default_value_t = 630)]
    pub query_timeout: u64,
    /// Print the KQL sent (it is recorded in manifest.json either way).
    #[arg(long)]
    pub show_query: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Csv,
    Json,
    Md,
    /// `findings.ocsf.jsonl`: OCSF 1.3 Detection Findings (class 2004), one a line.
    Ocsf,
    /// `findings.junit.xml`: a test case per rule, a failure per finding at or above --fail-on.
    Junit,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write report.html, findings.csv, requests.csv, summary.json and report.md into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Configuration file (default: ./jitaudit.toml when present, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Which outputs to write (comma-separated); html, csv, json and md by default.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "html,csv,json,md,ocsf,junit"
    )]
    pub format: Vec<ReportFormat>,
    /// Exit 1 when an unsuppressed finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEV")]
    pub fail_on: Option<Severity>,
    /// The report's title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Directory keeping state between runs: the baseline and the previous summary, for
    /// "new since last week"; updated only after a run that read every input.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CallerArgs {
    /// The caller: a UPN (case-insensitive), an object id or an app id.
    pub id: String,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also write a self-contained HTML page with a timeline chart.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Configuration, for the findings that involve the caller.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `caller` from a query engine, live, instead of (or beside) files.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub logs: LogArgs,
    /// How to sign in for a live query (as `collect --auth`).
    #[arg(long, value_enum, default_value_t = crate::azure::auth::AuthMethod::Auto)]
    pub auth: crate::azure::auth::AuthMethod,
    #[arg(long, value_enum, default_value_t = crate::azure::cloud::Cloud::Public)]
    pub cloud: crate::azure::cloud::Cloud,
    /// Keep what a live query fetched in this new or empty directory (by default it is read
    /// from a temporary one and deleted).
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Inputs (files, directories, an ingested directory), then the SQL unless --file is given.
    #[arg(required = true, value_name = "PATH... [SQL]")]
    pub args: Vec<String>,
    /// Read the SQL from a file (or a saved query's name, see `jitaudit queries`); it may hold
    /// several statements: the last one's result is printed.
    #[arg(long, value_name = "FILE.sql")]
    pub file: Option<PathBuf>,
    /// Fill a `:name` parameter: a whole number becomes a number, anything else a quoted string.
    #[arg(long, value_name = "NAME=VALUE")]
    pub param: Vec<String>,
    /// Configuration for the `findings` table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// Write the result here instead of standard output (required for parquet).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Stop at the first rejected record or unreadable file.
    #[arg(long)]
    pub strict: bool,
    /// Warn about, rather than fail on, files of no known format.
    #[arg(long)]
    pub skip_unknown: bool,
    /// Fill every column of `events`, not only those the SQL reads (slower; the answer is the
    /// same, which this is for checking).
    #[arg(long)]
    pub all_columns: bool,
    /// The most a compressed JSON document may inflate to (see the other commands).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_document_size: u64,
    /// Keep credentials pasted into the data as they are (see the other commands).
    #[arg(long)]
    pub no_redact: bool,
}

/// The time window a command looks at.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start of the window (RFC 3339, UTC unless an offset is given).
    #[arg(long, value_name = "T", conflicts_with = "since")]
    pub from: Option<String>,
    /// End of the window (exclusive).
    #[arg(long, value_name = "T", conflicts_with = "since")]
    pub to: Option<String>,
    /// The window ending now: 7d, 24h, 2w or an ISO 8601 duration (SOURCE_DATE_EPOCH pins now).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

impl WindowArgs {
    /// The window these flags ask for.
    pub fn window(&self) -> anyhow::Result<crate::window::Window> {
        crate::window::Window::resolve(
            self.from.as_deref(),
            self.to.as_deref(),
            self.since.as_deref(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// What `scan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Table,
    Csv,
    Json,
    /// OCSF 1.3 Detection Findings (class 2004), one JSON object a line.
    Ocsf,
    /// JUnit XML: a test case per rule, a failure per finding at or above --fail-on.
    Junit,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Configuration file (default: ./jitaudit.toml when present, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Show only findings at or above this severity.
    #[arg(long, value_enum, value_name = "SEV")]
    pub min_severity: Option<Severity>,
    /// Exit 1 when an unsuppressed finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEV")]
    pub fail_on: Option<Severity>,
    /// Directory keeping the baseline between runs (JIT009 learns from earlier runs; updated
    /// only after a run that read every input).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `explain ID`: print one rule's rationale, logic, configuration keys and references.
    #[command(subcommand)]
    pub explain: Option<RulesCommand>,
    /// Print the whole catalogue as Markdown (what `docs/rules.md` holds).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Explain one rule.
    Explain { id: String },
}

/// Inputs every command that reads data takes.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files and directories (searched recursively; .gz read transparently; a directory
    /// `jitaudit ingest` wrote is read back from its tables). `caller` with --log-analytics
    /// or --adx needs none.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Stop at the first rejected record or unreadable file.
    #[arg(long)]
    pub strict: bool,
    /// Warn about, rather than fail on, files of no known format.
    #[arg(long)]
    pub skip_unknown: bool,
    /// Parse every JSON Lines record. By default report, scan and caller pass over the lines
    /// that cannot concern JIT (or the caller) unparsed, counting them only.
    #[arg(long)]
    pub no_prefilter: bool,
    /// The most a compressed JSON document (not JSON Lines, which is read a window at a time)
    /// may inflate to, in bytes or with K, M or G; a file beyond it is an error naming it.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_document_size: u64,
    /// Keep credentials pasted into the data (a token in a justification) as they are, for
    /// forensics; by default they are masked in every output and reported (JIT021).
    #[arg(long)]
    pub no_redact: bool,
}

/// `1048576`, `512K`, `64M`, `2G`: a size in bytes (binary multiples).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text}: expected a size such as 512M or 2G")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text}: expected a size such as 512M or 2G"))?;
    n.checked_mul(1 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text}: out of range"))
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write the tables (<table>.parquet) and ingest-summary.json into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Directory to write the synthetic tenant into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed: the same seed gives the same files, byte for byte.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Days of activity to generate.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=90))]
    pub days: u32,
    /// Multiplies the background (non-JIT) activity, to make benchmark-sized inputs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub scale: u32,
    /// Write the Activity Log only as diagnostic-settings JSON Lines blobs (for benchmarks).
    #[arg(long)]
    pub jsonl_only: bool,
    /// The percentage of background operations that are NSG security-rule writes by
    /// automation (as AKS makes all day), for the benchmark's NSG-heavy mix.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub nsg_share: u32,
    /// Generate an estate of N subscriptions instead of the story's three (for the report and
    /// collectors at a real tenant's size); its activity goes to hourly diagnostic blobs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub subscriptions: Option<u32>,
    /// VMs of the estate, spread over its subscriptions [default: 20 per subscription].
    #[arg(long, value_name = "N", requires = "subscriptions")]
    pub vms: Option<u32>,
    /// People of the estate who use JIT [default: 3 per subscription].
    #[arg(long, value_name = "N", requires = "subscriptions")]
    pub people: Option<u32>,
    /// Where the estate's Activity Log goes: hourly diagnostic blobs, or `AzureActivity` rows
    /// as a Log Analytics workspace holds them (one JSON array per subscription, what the
    /// query-engine tests and benchmark serve).
    #[arg(long, value_enum, default_value_t = crate::sample::LogShape::Blobs, requires = "subscriptions")]
    pub log_shape: crate::sample::LogShape,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of the command line's definition (names, conflicts, defaults), which
    /// otherwise fail only when the command is run.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
