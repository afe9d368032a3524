//! `jitaudit query` and `jitaudit queries`: every saved query on the sample, parameters bound
//! as literals, several statements, errors that list the tables, each output format.

use std::path::{Path, PathBuf};

use crate::util::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

fn query(args: &[&str]) -> std::process::Output {
    jitaudit().arg("query").args(args).output().unwrap()
}

#[test]
fn every_saved_query_runs_on_the_sample_and_returns_rows() {
    let (dir, out) = ingest(&[sample()], &[]);
    assert!(out.status.success());
    let d = dir.path().to_str().unwrap();
    let config = sample().join("jitaudit.toml");
    for q in jitaudit::queries::all() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("queries")
            .join(format!("{}.sql", q.name));
        let out = query(&[
            d,
            "--file",
            file.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--param",
            "vm=web-01",
            "--param",
            "caller=bob@contoso.com",
        ]);
        assert!(out.status.success(), "{}: {}", q.name, stderr(&out));
        let rows: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", q.name));
        assert!(
            !rows.as_array().unwrap().is_empty(),
            "{} returned no rows on the sample",
            q.name
        );
    }
    let list = stdout(&jitaudit().arg("queries").output().unwrap());
    assert!(
        list.contains("vm_access_history") && list.contains("--param vm=..."),
        "{list}"
    );
}

#[test]
fn parameters_are_literals_not_sql() {
    let d = sample();
    let d = d.to_str().unwrap();
    let sql = "SELECT COUNT(*) AS n FROM requests WHERE requestor = :who";
    let ok = query(&[d, sql, "--param", "who=bob@contoso.com", "--format", "csv"]);
    assert!(
        stdout(&ok).lines().nth(1).unwrap().parse::<u32>().unwrap() > 0,
        "{}",
        stdout(&ok)
    );
    // An injection attempt is a string that matches nobody, not a widened WHERE clause.
    let evil = query(&[d, sql, "--param", "who=x' OR '1'='1", "--format", "csv"]);
    assert!(evil.status.success(), "{}", stderr(&evil));
    assert_eq!(stdout(&evil), "n\n0\n");
    let missing = query(&[d, sql]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("--param who=VALUE"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn several_statements_print_the_last_and_errors_list_the_tables() {
    let d = sample();
    let d = d.to_str().unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "-- two steps; the first makes a table\nCREATE TABLE ssh AS SELECT * FROM requests WHERE port = 22;\nSELECT COUNT(*) AS n FROM ssh;\n",
    )
    .unwrap();
    let out = query(&[
        d,
        "--file",
        file.path().to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("n\n"));
    let bad = query(&[d, "SELECT nope FROM requests"]);
    assert_eq!(bad.status.code(), Some(2));
    let text = stderr(&bad);
    assert!(
        text.contains("nope") && text.contains("requests (") && text.contains("nsg_rules ("),
        "{text}"
    );
}

#[test]
fn output_formats() {
    let d = sample();
    let d = d.to_str().unwrap();
    let sql =
        "SELECT requested_at, requestor, justification FROM requests ORDER BY requested_at LIMIT 3";
    let json = query(&[d, sql, "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert!(rows[0]["requested_at"].as_str().unwrap().ends_with('Z'));
    let table = query(&[d, sql]);
    assert!(stdout(&table).contains("(3 rows)"));
    let no_out = query(&[d, sql, "--format", "parquet"]);
    assert_eq!(no_out.status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("r.parquet");
    let out = query(&[d, sql, "--format", "parquet", "--out", pq.to_str().unwrap()]);
    assert!(out.status.success());
    let f = std::fs::File::open(&pq).unwrap();
    use polars::prelude::SerReader;
    let df = polars::prelude::ParquetReader::new(f).finish().unwrap();
    assert_eq!(df.height(), 3);
    // A cell a spreadsheet would run is neutralised in CSV.
    let csv = query(&[d, "SELECT '=cmd()' AS x", "--format", "csv"]);
    assert_eq!(stdout(&csv), "x\n'=cmd()\n");
}

/// One event twice, as a plain diagnostic record and as a richer one (properties that give
/// its category and id, a level, a caller) that names another IP address: de-duplication keeps the richer copy, and must keep
/// it too when the query reads only the IP address.
fn twice_recorded(dir: &Path) -> (PathBuf, PathBuf) {
    let key = r#""time": "2026-11-03T02:14:00.1234567Z", "resourceId": "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-1", "operationName": "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE", "resultType": "Success", "correlationId": "c0ffee00-0000-4000-8000-000000000001""#;
    let plain = dir.join("plain").join("PT1H.json");
    let rich = dir.join("rich").join("PT1H.json");
    std::fs::create_dir_all(plain.parent().unwrap()).unwrap();
    std::fs::create_dir_all(rich.parent().unwrap()).unwrap();
    std::fs::write(
        &plain,
        format!("{{{key}, \"callerIpAddress\": \"198.51.100.1\"}}\n"),
    )
    .unwrap();
    std::fs::write(
        &rich,
        format!(
            "{{{key}, \"callerIpAddress\": \"198.51.100.2\", \"level\": \"Information\", \"identity\": {{\"claims\": {{\"upn\": \"mallory@contoso.com\"}}}}, \"category\": \"Write\", \"properties\": {{\"eventCategory\": \"Policy\", \"eventDataId\": \"evt-rich-1\", \"entity\": \"nsg-1\", \"message\": \"q\\u0075oted \\\"rule\\\"\"}}}}\n"
        ),
    )
    .unwrap();
    (plain, rich)
}

/// A query fills only the columns of `events` its SQL reads; its answers are those of a run
/// that fills them all (`--all-columns`), on the sample, Microsoft's examples, the quirks
/// (every shape: REST, Log Analytics JSON and CSV, portal CSV), a directory `ingest` wrote on
/// its own and stacked with JSON, and one event recorded twice where the copy kept decides the answer.
#[test]
fn a_query_reading_few_columns_answers_as_one_reading_all() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, rich) = twice_recorded(tmp.path());
    let (ingested_rich, out) = ingest(std::slice::from_ref(&rich), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (ingested_all, out) = ingest(
        &[
            sample(),
            fixtures().join("quirks"),
            plain.clone(),
            rich.clone(),
        ],
        &["--skip-unknown"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inputs: Vec<Vec<PathBuf>> = vec![
        // On its own, an ingested directory is read for the columns wanted only.
        vec![ingested_all.path().to_path_buf()],
        vec![
            sample(),
            fixtures().join("microsoft"),
            fixtures().join("quirks"),
            plain.clone(),
            rich.clone(),
        ],
        vec![rich.clone(), plain.clone()],
        vec![plain.clone(), ingested_rich.path().to_path_buf()],
    ];
    let queries = [
        "SELECT caller_ip, COUNT(*) AS n FROM events GROUP BY caller_ip ORDER BY caller_ip",
        "SELECT operation_id, status, COUNT(*) AS n FROM events GROUP BY operation_id, status ORDER BY operation_id, status",
        "SELECT COUNT(*) AS n, COUNT(DISTINCT correlation_id) AS c, MIN(time) AS t, MAX(resource_key) AS r FROM events",
        "SELECT time, caller, caller_kind, level, sub_status FROM events ORDER BY time, caller, level, sub_status",
        "SELECT category, COUNT(*) AS n FROM events GROUP BY category ORDER BY category",
        "SELECT event_id FROM events ORDER BY event_id",
        "SELECT resource_group, resource_type, description FROM events WHERE app_id IS NULL ORDER BY resource_group, resource_type, description",
        "SELECT properties FROM events WHERE properties IS NOT NULL ORDER BY properties",
        "SELECT * FROM activity_hours ORDER BY hour, subscription_id",
    ];
    for paths in &inputs {
        let mut args: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
        args.push("--skip-unknown");
        for sql in queries {
            let run = |all: bool| {
                let mut a = args.clone();
                a.extend([sql, "--format", "csv"]);
                if all {
                    a.push("--all-columns");
                }
                let out = query(&a);
                assert!(out.status.success(), "{sql} on {args:?}: {}", stderr(&out));
                stdout(&out)
            };
            let (few, all) = (run(false), run(true));
            assert!(all.lines().count() > 1, "{sql} on {args:?}: no rows");
            assert_eq!(few, all, "{sql} on {args:?}");
        }
    }
    // On its own, an ingested directory is scanned where it lies (not loaded): it answers as
    // the files it was made from.
    let made_from = [
        sample(),
        fixtures().join("quirks"),
        plain.clone(),
        rich.clone(),
    ];
    for sql in queries {
        let answer = |paths: &[&str]| {
            let mut a = paths.to_vec();
            a.extend(["--skip-unknown", sql, "--format", "csv"]);
            let out = query(&a);
            assert!(out.status.success(), "{sql} on {a:?}: {}", stderr(&out));
            stdout(&out)
        };
        let raw: Vec<&str> = made_from.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            answer(&[ingested_all.path().to_str().unwrap()]),
            answer(&raw),
            "{sql}"
        );
    }
    // What the richer copy's properties hold is read when a query reads them.
    let out = query(&[
        rich.to_str().unwrap(),
        "SELECT properties, category, event_id FROM events",
        "--format",
        "json",
    ]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let props: serde_json::Value =
        serde_json::from_str(rows[0]["properties"].as_str().unwrap()).unwrap();
    assert_eq!(props["entity"], "nsg-1", "{rows}");
    assert_eq!(props["message"], "quoted \"rule\"", "{rows}");
    assert_eq!(rows[0]["category"], "Policy", "{rows}");
    assert_eq!(rows[0]["event_id"], "evt-rich-1", "{rows}");
    // The copy kept is the richer one, whichever comes first.
    for paths in &inputs[2..] {
        let mut args: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
        args.extend(["SELECT caller_ip FROM events", "--format", "csv"]);
        assert_eq!(
            stdout(&query(&args)),
            "caller_ip\n198.51.100.2\n",
            "{args:?}"
        );
    }
}

/// An ingested directory whose `events` lacks a column is refused, naming the table and the
/// column, whether the query reads that column, another, or all of them.
#[test]
fn an_ingested_table_missing_a_column_is_refused_by_name() {
    let (dir, out) = ingest(&[sample()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut events = table(dir.path(), "events");
    events = events.drop("caller").unwrap();
    let file = std::fs::File::create(dir.path().join("events.parquet")).unwrap();
    polars::prelude::ParquetWriter::new(file)
        .finish(&mut events)
        .unwrap();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec![d, "SELECT operation_id FROM events"],
        vec![d, "SELECT caller FROM events"],
        vec![d, "SELECT operation_id FROM events", "--all-columns"],
    ] {
        let out = query(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("is not a jitaudit events table")
                && err.contains("missing columns: caller"),
            "{args:?}: {err}"
        );
    }
}

/// Records left out are said on standard error beside the answer (standard output holds only
/// the rows), by `query` and by `caller`: how many, why, and where the first is. A number out
/// of range (issue 30) is read as null, whichever columns a query reads: its record is kept.
#[test]
fn records_left_out_are_said_beside_the_answer() {
    let dir = sample().join("insights-activity-logs");
    let bob: Vec<String> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .flat_map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.contains("bob@contoso.com") && l.contains("\"durationMs\":0"))
        .take(2)
        .collect();
    assert_eq!(bob.len(), 2);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("PT1H.json");
    let huge = bob[1].replace("\"durationMs\":0", "\"durationMs\":1e400");
    let broken = r#"{"time":"2026-11-05T10:00:00Z","caller":"bob@contoso.com","#;
    std::fs::write(
        &file,
        [bob[0].as_str(), &huge, broken, &bob[1]].join("\n") + "\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    for extra in [None, Some("--all-columns")] {
        let mut args = vec![f, "SELECT COUNT(*) AS n FROM events", "--format", "csv"];
        args.extend(extra);
        let out = query(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        // The line with the huge number is a copy of the last: one event, kept once.
        assert_eq!(stdout(&out), "n\n2\n", "{extra:?}");
        let err = stderr(&out);
        assert!(err.contains("1 of 4 records rejected"), "{err}");
        assert!(
            err.contains(&format!("malformed JSON line (first at {f}:3:")),
            "{err}"
        );
    }
    let out = jitaudit()
        .args(["caller", "bob@contoso.com", f, "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("records rejected, left out of the answer"),
        "{err}"
    );
    assert!(
        err.contains(&format!("malformed JSON line (first at {f}:")),
        "{err}"
    );
    // Nothing is said when nothing was left out.
    std::fs::write(&file, bob.join("\n") + "\n").unwrap();
    let out = query(&[f, "SELECT COUNT(*) AS n FROM events", "--format", "csv"]);
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("n\n2\n", "")
    );
}
