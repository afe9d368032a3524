//! `jitaudit query`: Polars SQL over the normalized tables for auditors, with `:name`
//! parameters bound as quoted literals, several statements per file (the last one's result
//! is the output), and results as a table, CSV, JSON or Parquet.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result, bail};
use polars::prelude::{
    AnonymousScan, AnonymousScanArgs, DataFrame, IntoLazy, LazyFrame, PolarsResult,
    ScanArgsAnonymous,
};

use crate::cli::{InputArgs, QueryArgs, QueryFormat};
use crate::config::Config;
use crate::exit::Exit;
use crate::output;
use crate::output::frame::{self, FrameForm, FrameOut};
use crate::output::load::{print_errors, print_rejections};
use crate::pipeline::{self, Need};
use crate::rules;
use crate::schema::{self, ALL_TABLES, TableSpec};
use crate::sql::{Engine, Literal};
use crate::tables;
use crate::tables::EventColumns;
use crate::window::{self, Window};

pub fn run(args: QueryArgs) -> Result<Exit> {
    let (paths, sql) = split_args(&args)?;
    let params = parse_params(&args.param)?;
    if args.format == QueryFormat::Parquet && args.out.is_none() {
        bail!("--format parquet writes a binary file: give --out FILE");
    }
    // A directory `ingest` wrote, on its own, is queried where it lies: Polars reads from its
    // Parquet the columns and row groups the statements need (the findings need the rules
    // run over whole tables, so they load it).
    if !mentions(&sql, "findings")
        && let Some((dir, summary)) = pipeline::lone_ingested(&paths)?
    {
        print_errors(&summary);
        print_rejections(&summary);
        let df = execute(tables::scan_parquet(&dir)?, &sql, &params)?;
        write(&df, args.format, args.out.as_ref())?;
        return Ok(summary.exit());
    }
    let input = InputArgs {
        max_document_size: args.max_document_size,
        no_redact: args.no_redact,
        paths,
        strict: args.strict,
        skip_unknown: args.skip_unknown,
        no_prefilter: true,
    };
    let columns = if args.all_columns || mentions(&sql, "findings") {
        EventColumns::All
    } else {
        events_columns_read(&sql, &params)
    };
    // The SHA-256 of each input is evidence in reports and ingest summaries; no table a query
    // reads holds it, so a query is spared the hashing (a third of reading JSON).
    let loaded = super::load(&input, Need::All, false, columns)?;
    print_errors(&loaded.summary);
    print_rejections(&loaded.summary);
    let findings = if mentions(&sql, "findings") {
        let config = Config::load(args.config.as_deref())?;
        let outcome = rules::run(
            &loaded.tables,
            &config,
            &Window::default(),
            window::now()?.date_naive(),
            None,
        )?;
        Some(rules::finding::to_frame(&outcome.findings)?)
    } else {
        None
    };
    let mut frames: Vec<(&str, LazyFrame)> = ALL_TABLES
        .iter()
        .map(|spec| {
            let df = loaded.tables.get(spec.name).expect("every table");
            (spec.name, df.clone().lazy())
        })
        .collect();
    if let Some(f) = findings {
        frames.push(("findings", f.lazy()));
    }
    let df = execute(frames, &sql, &params)?;
    write(&df, args.format, args.out.as_ref())?;
    Ok(loaded.summary.exit())
}

/// Without `--file`, the last positional argument is the SQL and the others are inputs.
fn split_args(args: &QueryArgs) -> Result<(Vec<PathBuf>, String)> {
    let mut positional = args.args.clone();
    let sql =
        match &args.file {
            Some(file) => match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(e) => match crate::queries::find(&file.display().to_string()) {
                    Some(q) => q.sql.to_string(),
                    None => return Err(e).with_context(|| {
                        format!(
                            "reading {} (and no saved query has that name; see `jitaudit queries`)",
                            file.display()
                        )
                    }),
                },
            },
            None => positional
                .pop()
                .context("give the SQL as the last argument, or --file FILE.sql")?,
        };
    if positional.is_empty() {
        bail!(
            "give at least one input (files, directories, or a directory `jitaudit ingest` wrote) before the SQL"
        );
    }
    Ok((positional.into_iter().map(PathBuf::from).collect(), sql))
}

/// `name=value`: a whole number becomes a number literal, anything else a string literal.
fn parse_params(raw: &[String]) -> Result<BTreeMap<String, Literal>> {
    let mut out = BTreeMap::new();
    for p in raw {
        let (name, value) = p
            .split_once('=')
            .with_context(|| format!("--param {p}: expected name=value"))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("--param {p}: the name must be letters, digits and _");
        }
        let literal = match value.parse::<i64>() {
            Ok(n) if !value.starts_with('0') || value == "0" => Literal::Int(n),
            _ => Literal::Str(value.to_string()),
        };
        out.insert(name.to_string(), literal);
    }
    Ok(out)
}

fn mentions(sql: &str, word: &str) -> bool {
    sql.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == word)
}

/// Runs every statement over the named tables; the last one's result is returned.
fn execute(
    frames: Vec<(&str, LazyFrame)>,
    sql: &str,
    params: &BTreeMap<String, Literal>,
) -> Result<DataFrame> {
    let mut engine = Engine::new();
    for (name, lf) in frames {
        engine.register(name, lf);
    }
    engine.run(sql, params)
}

/// Which columns of `events` the statements read. They are run first over empty tables whose
/// scans note the columns Polars asks of them (it asks for only those a statement uses). The
/// `requests` table is made from every column of `events`, so reading it asks for all of
/// them; so does a statement that fails here (the run over the real tables reports it).
fn events_columns_read(sql: &str, params: &BTreeMap<String, Literal>) -> EventColumns {
    let asked = Asked::default();
    let mut engine = Engine::new();
    for spec in ALL_TABLES {
        let scan = Arc::new(NotingScan {
            spec,
            asked: asked.clone(),
        });
        let args = ScanArgsAnonymous {
            schema: Some(tables::empty(spec).schema().clone()),
            name: "jitaudit table",
            ..ScanArgsAnonymous::default()
        };
        match LazyFrame::anonymous_scan(scan, args) {
            Ok(lf) => engine.register(spec.name, lf),
            Err(_) => return EventColumns::All,
        }
    }
    if !engine.runs(sql, params) {
        return EventColumns::All;
    }
    let asked = asked.lock().unwrap_or_else(PoisonError::into_inner);
    let mut names: Vec<&str> = Vec::new();
    for (table, columns) in asked.iter() {
        match (*table, columns) {
            (t, _) if t == schema::REQUESTS.name => return EventColumns::All,
            (t, None) if t == schema::EVENTS.name => return EventColumns::All,
            (t, Some(columns)) if t == schema::EVENTS.name => {
                names.extend(columns.iter().map(String::as_str))
            }
            _ => {}
        }
    }
    EventColumns::only(names)
}

/// Per scan, the table scanned and the columns asked for (`None`: all).
type Asked = Arc<Mutex<Vec<(&'static str, Option<Vec<String>>)>>>;

/// An empty table that notes which of its columns each scan of it asks for.
struct NotingScan {
    spec: &'static TableSpec,
    asked: Asked,
}

impl AnonymousScan for NotingScan {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn scan(&self, args: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        let columns: Option<Vec<String>> = args
            .with_columns
            .map(|c| c.iter().map(|n| n.to_string()).collect());
        let df = tables::empty(self.spec);
        let df = match &columns {
            Some(c) => df.select(c.iter().map(String::as_str))?,
            None => df,
        };
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((self.spec.name, columns));
        Ok(df)
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }
}

/// The tables, their rows and their columns, for SQL error messages.
fn write(df: &DataFrame, format: QueryFormat, out: Option<&PathBuf>) -> Result<()> {
    let form = match format {
        QueryFormat::Table => FrameForm::Table(frame::terminal_width()),
        QueryFormat::Csv => FrameForm::Csv,
        QueryFormat::Json => FrameForm::Json,
        QueryFormat::Parquet => FrameForm::Parquet,
    };
    let answer = FrameOut { df, form };
    match out {
        Some(path) => output::to_file(path, &answer),
        None => output::to_stdout(&answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Option<Vec<&'static str>> {
        match events_columns_read(sql, &BTreeMap::new()) {
            EventColumns::All => None,
            EventColumns::Only(set, _) | EventColumns::Key(set, _) => {
                Some(set.into_iter().collect())
            }
            EventColumns::Lean(_) => panic!("a query never reads lean"),
        }
    }

    /// Besides what a statement reads, the key of de-duplication and what hours are counted by.
    const ALWAYS: [&str; 6] = [
        "time",
        "subscription_id",
        "resource_key",
        "operation_id",
        "status",
        "correlation_id",
    ];

    fn with_always(extra: &[&'static str]) -> Option<Vec<&'static str>> {
        let mut all: Vec<&str> = schema::EVENTS
            .column_names()
            .filter(|c| ALWAYS.contains(c) || extra.contains(c))
            .collect();
        all.sort();
        Some(all)
    }

    /// A query that reads no column but those of the key is spared counting the others (and
    /// reading the identity); one that reads another column is not.
    #[test]
    fn a_query_of_the_key_alone_need_not_tell_copies_apart() {
        let mode = |sql| match events_columns_read(sql, &BTreeMap::new()) {
            EventColumns::All => "all",
            EventColumns::Only(..) => "only",
            EventColumns::Key(..) => "key",
            EventColumns::Lean(_) => "lean",
        };
        assert_eq!(
            mode("SELECT operation_id, COUNT(*) AS n FROM events GROUP BY operation_id"),
            "key"
        );
        assert_eq!(mode("SELECT COUNT(*) AS n FROM vms"), "key");
        assert_eq!(
            mode("SELECT time, resource_key FROM events WHERE status = 'Failed'"),
            "key"
        );
        // Every copy of a record has the same subscription in practice, but not by its key.
        assert_eq!(mode("SELECT DISTINCT subscription_id FROM events"), "only");
        assert_eq!(
            mode("SELECT caller FROM events WHERE status = 'Failed'"),
            "only"
        );
        assert_eq!(mode("SELECT * FROM events"), "all");
    }

    #[test]
    fn the_columns_a_query_reads_are_found_by_planning_it() {
        assert_eq!(
            read("SELECT operation_id, COUNT(*) AS n FROM events GROUP BY operation_id"),
            with_always(&[])
        );
        assert_eq!(
            read("SELECT caller, caller_ip FROM events WHERE level = 'Error' ORDER BY description"),
            with_always(&["caller", "caller_ip", "level", "description"])
        );
        // Several statements, a table made from events, a join with another table: the
        // properties the first statement keeps are not read, since nothing uses them.
        assert_eq!(
            read(
                "CREATE TABLE t AS SELECT caller, properties FROM events WHERE category = 'Policy';
                 SELECT v.vm_name, t.caller FROM t JOIN vms v ON t.caller = v.vm_name"
            ),
            with_always(&["caller", "category"])
        );
        // A table that does not read events.
        assert_eq!(read("SELECT * FROM vms"), with_always(&[]));
    }

    #[test]
    fn every_column_is_read_when_a_query_needs_them_or_cannot_be_planned() {
        assert_eq!(read("SELECT * FROM events"), None);
        assert_eq!(read("SELECT caller FROM events e, events"), None);
        // The ledger is made from every column of events.
        assert_eq!(read("SELECT requestor FROM requests"), None);
        // Not SQL, or a column that does not exist: the real run reports it.
        assert_eq!(read("SELEC caller FROM events"), None);
        assert_eq!(read("SELECT no_such_column FROM events"), None);
    }
}
