//! `jitaudit ingest`: every format, Microsoft's examples, the quirks, de-duplication across
//! sources, bad input, and reading an ingested directory back.

use std::io::Write;

use crate::util::*;

fn format_of(summary: &serde_json::Value, file_suffix: &str) -> String {
    summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file_suffix))
        .unwrap_or_else(|| panic!("{file_suffix} in summary"))["format"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

#[test]
fn microsoft_examples_are_each_recognised_and_read_whole() {
    let (dir, out) = ingest(&[fixture("microsoft")], &["--strict"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let s = summary(dir.path());
    assert_counts_balance(&s);
    for (file, format) in [
        (
            "GetJitNetworkAccessPoliciesSubscription_example.json",
            "jit-policies",
        ),
        ("GetJitNetworkAccessPolicy_example.json", "jit-policies"),
        ("GetSubscriptions.json", "subscriptions"),
        ("NetworkSecurityGroupGet.json", "network-security-groups"),
        ("PT1H.json", "activity-jsonl"),
        (
            "VirtualMachine_ListAll_MinimumSet_Gen.json",
            "virtual-machines",
        ),
        (
            "VirtualMachine_ListBySubscription_ByLocation_element.json",
            "virtual-machines",
        ),
        ("activity-log-eventhubs-records.json", "activity-records"),
        (
            "activity-log-schema-administrative-event.json",
            "activity-rest-array",
        ),
        ("RoleAssignments_ListForScope.json", "role-assignments"),
        ("GetRoleDefinitionById.json", "role-definitions"),
        (
            "GetRoleEligibilityScheduleInstancesByScope.json",
            "role-eligibility",
        ),
    ] {
        assert_eq!(format_of(&s, file), format, "{file}");
    }
    // Role assignments, active and eligible, named where the input names them.
    let roles = table(dir.path(), "role_assignments");
    assert_eq!(
        strings(&roles, "principal_name"),
        vec![Some("user@my-tenant.com".into()), None]
    );
    assert_eq!(
        strings(&roles, "role_definition_key"),
        vec![
            Some("b24988ac-6180-42a0-ab88-20f7382dd24c".into()),
            Some("0b5fe924-9a61-425c-96af-cfe6e287ca2d".into())
        ]
    );
    assert_eq!(
        table(dir.path(), "role_definitions").height(),
        1,
        "the definition example"
    );
    let policies = table(dir.path(), "policies");
    // Two ports of vm1, once: the list and the single GET hold the same policy.
    assert_eq!(policies.height(), 2);
    assert_eq!(s["duplicates_merged"]["policies"], 2);
    let requests = table(dir.path(), "requests");
    assert_eq!(requests.height(), 1);
    assert_eq!(
        strings(&requests, "requestor"),
        vec![Some("barbara@contoso.com".into())]
    );
    assert_eq!(
        strings(&requests, "source_prefix"),
        vec![Some("192.127.0.2".into())]
    );
    assert_eq!(strings(&requests, "protocol"), vec![Some("*".into())]);
    let events = table(dir.path(), "events");
    assert_eq!(events.height(), 3);
    let levels = strings(&events, "level");
    assert!(
        levels.iter().all(|l| l.as_deref() == Some("Informational")),
        "{levels:?}"
    );
    let nsg = table(dir.path(), "nsg_rules");
    assert_eq!(
        strings(&nsg, "rule_name"),
        vec![Some("rule1".into()), Some("DenyAllInBound".into())]
    );
    let subs = table(dir.path(), "subscriptions");
    assert_eq!(
        strings(&subs, "display_name"),
        vec![Some("Example Subscription".into())]
    );
    // Both VM examples use the same placeholder id: one VM, the richer copy kept.
    let vms = table(dir.path(), "vms");
    assert_eq!(vms.height(), 1);
    assert_eq!(strings(&vms, "os_type"), vec![Some("Windows".into())]);
}

#[test]
fn one_request_in_three_sources_is_one_ledger_row() {
    let (dir, out) = ingest(&[fixture("dedupe")], &["--strict"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let requests = table(dir.path(), "requests");
    assert_eq!(requests.height(), 1, "{requests}");
    assert_eq!(
        strings(&requests, "evidence"),
        vec![Some("policy_history+initiate_event+nsg_rule".into())]
    );
    assert_eq!(
        strings(&requests, "caller_ip"),
        vec![Some("192.127.0.2".into())]
    );
    assert_eq!(
        strings(&requests, "correlation_id"),
        vec![Some("11111111-2222-3333-4444-555555555555".into())]
    );
    assert_eq!(
        strings(&requests, "justification"),
        vec![Some("testing a new version of the product".into())]
    );
    let duration = requests
        .column("duration_seconds")
        .unwrap()
        .i64()
        .unwrap()
        .get(0);
    assert_eq!(duration, Some(3600));
    let nsg = table(dir.path(), "nsg_rules");
    assert_eq!(
        strings(&nsg, "jit_rule"),
        vec![Some("allow".into()), Some("deny".into()), None, None]
    );
    assert_eq!(strings(&nsg, "jit_vm_name")[0].as_deref(), Some("vm1"));
    assert_eq!(
        strings(&nsg, "destination_port_ranges")[2].as_deref(),
        Some("443,22")
    );
    // Both nextLink pages were read.
    assert_eq!(table(dir.path(), "events").height(), 4);
}

#[test]
fn quirks_of_every_shape() {
    let (dir, out) = ingest(&[fixture("quirks")], &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let s = summary(dir.path());
    assert_counts_balance(&s);
    assert_eq!(format_of(&s, "AzureActivity.csv"), "log-analytics-csv");
    assert_eq!(format_of(&s, "AzureActivity.json"), "log-analytics-json");
    assert_eq!(
        format_of(&s, "la-query-response.json"),
        "log-analytics-json"
    );
    assert_eq!(format_of(&s, "portal-activity-log.csv"), "portal-csv");
    assert_eq!(format_of(&s, "policies-array.json"), "jit-policies");
    assert_eq!(format_of(&s, "PT1H.json"), "activity-jsonl");

    // The JSON Lines blob: a malformed line 3 and a record without time on line 5 are
    // rejected with their lines; the blank line is no record; the rest is used.
    let blob = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("PT1H.json"))
        .unwrap();
    assert_eq!(blob["records_read"], 5);
    assert_eq!(blob["records_rejected"], 2);
    let locations: Vec<String> = blob["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_string())
        })
        .collect();
    assert!(
        locations.iter().any(|l| l.contains("PT1H.json:3")),
        "{locations:?}"
    );
    assert!(
        locations.iter().any(|l| l.contains("PT1H.json:5")),
        "{locations:?}"
    );

    // The LA CSV: a bad time and a short row are rejected, each with its line.
    let csv = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("AzureActivity.csv"))
        .unwrap();
    assert_eq!(csv["records_used"], 2);
    assert_eq!(csv["records_rejected"], 2);

    let events = table(dir.path(), "events");
    let ops = strings(&events, "operation_id");
    assert!(ops.contains(&Some(
        "microsoft.security/locations/jitnetworkaccesspolicies/delete".into()
    )));
    assert!(ops.contains(&Some(
        "microsoft.security/locations/jitnetworkaccesspolicies/write".into()
    )));
    // The portal's localized name is mapped; an unknown one is kept as a display name.
    let names = strings(&events, "operation_name");
    let unmapped = names
        .iter()
        .position(|n| n.as_deref() == Some("Some Unmapped Operation"))
        .unwrap();
    assert_eq!(ops[unmapped], None);
    // Statuses have one spelling whatever the shape.
    let statuses = strings(&events, "status");
    assert!(
        statuses
            .iter()
            .flatten()
            .all(|s| ["Started", "Succeeded", "Failed", "Updated"].contains(&s.as_str())),
        "{statuses:?}"
    );
    // Resource Health's eventProperties are lifted into properties.
    let props = strings(&events, "properties");
    assert!(
        props
            .iter()
            .flatten()
            .any(|p| p.contains("\"cause\":\"UserInitiated\""))
    );

    let policies = table(dir.path(), "policies");
    let sources = strings(&policies, "allowed_source");
    assert_eq!(
        sources,
        vec![
            Some("*".into()),
            Some("10.0.0.0/8".into()),
            Some("203.0.113.0/24".into())
        ]
    );
    let seconds = policies
        .column("max_duration_seconds")
        .unwrap()
        .i64()
        .unwrap();
    assert_eq!(seconds.get(0), Some(86_400));
    assert_eq!(seconds.get(1), Some(5_400));

    // The failed initiate (rob, c-1) is no ledger row; eve's LA-only initiate is, with the
    // source defaulted to her IP since the body names none; rob's portal initiate (no body)
    // and the quirky policy's history make the rest.
    let requests = table(dir.path(), "requests");
    let requestors = strings(&requests, "requestor");
    assert!(requestors.contains(&Some("eve@contoso.com".into())));
    let eve = requestors
        .iter()
        .position(|r| r.as_deref() == Some("eve@contoso.com"))
        .unwrap();
    assert_eq!(
        strings(&requests, "source_prefix")[eve].as_deref(),
        Some("198.51.100.4")
    );
    assert_eq!(strings(&requests, "vm_name")[eve].as_deref(), Some("vm9"));
    assert_eq!(
        requestors
            .iter()
            .filter(|r| r.as_deref() == Some("rob@contoso.com"))
            .count(),
        2,
        "history row + portal row, and no row for the failed call: {requests}"
    );
}

#[test]
fn gzip_is_read_transparently() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = std::fs::read(fixture("microsoft/activity-log-eventhubs-records.json")).unwrap();
    let path = tmp.path().join("capture.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap();
    let (dir, out) = ingest(&[path], &["--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(table(dir.path(), "events").height(), 1);
    assert_eq!(
        format_of(&summary(dir.path()), "capture.json.gz"),
        "activity-records"
    );
}

#[test]
fn truncated_document_is_an_error_naming_file_and_offset() {
    let (dir, out) = ingest(&[fixture("bad/truncated-policies.json")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("truncated-policies.json"), "{text}");
    assert!(
        text.contains("truncated JSON document") && text.contains("byte offset 700"),
        "{text}"
    );
    assert_eq!(summary(dir.path())["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn csv_missing_required_columns_lists_them() {
    let (_dir, out) = ingest(&[fixture("bad/missing-columns.csv")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("lacks required columns: OperationNameValue or OperationName"),
        "{text}"
    );
}

#[test]
fn unknown_formats_fail_unless_skipped() {
    for file in ["bad/unknown.json", "bad/unknown.dat", "bad/empty.json"] {
        let (_dir, out) = ingest(&[fixture(file)], &[]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(
            stderr(&out).contains("expected an Activity Log export"),
            "{file}: {}",
            stderr(&out)
        );
        let (dir, out) = ingest(&[fixture(file)], &["--skip-unknown"]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stdout(&out));
        assert_eq!(summary(dir.path())["skipped"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn strict_makes_a_rejected_record_fatal() {
    let (_dir, out) = ingest(
        &[
            fixture("quirks/portal-activity-log.csv"),
            fixture("quirks/AzureActivity.csv"),
        ],
        &["--strict"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AzureActivity.csv"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--strict"), "{}", stderr(&out));
}

#[test]
fn an_ingested_directory_reads_back_to_the_same_tables() {
    let (first, out) = ingest(&[fixture("quirks"), fixture("dedupe")], &[]);
    assert!(out.status.success());
    let (second, out) = ingest(&[first.path().to_path_buf()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for t in [
        "events",
        "requests",
        "policies",
        "policy_requests",
        "vms",
        "nics",
        "nsg_rules",
        "subscriptions",
    ] {
        assert!(
            table(first.path(), t).equals_missing(&table(second.path(), t)),
            "{t} differs after read-back"
        );
    }
    // The evidence of the original files is carried over, not replaced by the Parquet files.
    let s1 = summary(first.path());
    let s2 = summary(second.path());
    assert_eq!(
        s1["files"].as_array().unwrap().len(),
        s2["files"].as_array().unwrap().len()
    );
    assert_eq!(s1["files"][0]["sha256"], s2["files"][0]["sha256"]);
}

#[test]
fn each_file_is_cited_by_its_own_sha256() {
    // Enough files that each thread takes them two at a time and hashes the pair at once;
    // each of a different length, so that a hash given to the wrong file of its pair, or a
    // longer file's last blocks lost, shows.
    let dir = tempfile::tempdir().unwrap();
    let pt1h = std::fs::read(fixture("microsoft/PT1H.json")).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..17 {
        let path = dir.path().join(format!("PT1H-{i:02}.json"));
        let mut bytes = pt1h.clone();
        bytes.extend(std::iter::repeat_n(b'\n', i * 23));
        std::fs::write(&path, &bytes).unwrap();
        use sha2::Digest;
        expected.insert(
            path.display().to_string(),
            hex::encode(sha2::Sha256::digest(&bytes)),
        );
    }
    let out = tempfile::tempdir().unwrap();
    let o = jitaudit()
        .arg("ingest")
        .arg(dir.path())
        .arg("--out")
        .arg(out.path())
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let cited: std::collections::BTreeMap<String, String> = summary(out.path())["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            (path, f["sha256"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(cited, expected);
}

#[test]
fn an_ingested_directory_missing_a_table_says_to_ingest_again() {
    let (dir, out) = ingest(&[fixture("microsoft/PT1H.json")], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(dir.path().join("activity_hours.parquet")).unwrap();
    let scan = jitaudit().arg("scan").arg(dir.path()).output().unwrap();
    assert_eq!(scan.status.code(), Some(2));
    let e = stderr(&scan);
    assert!(
        e.contains("no activity_hours table") && e.contains("jitaudit ingest"),
        "{e}"
    );
}

/// A JSON Lines blob saved by a Windows editor: a byte order mark before the first record and
/// CRLF line ends. Every record is read and used.
#[test]
fn a_byte_order_mark_and_crlf_line_ends_cost_no_record() {
    let sample = walkdir::WalkDir::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/insights-activity-logs"),
    )
    .sort_by_file_name()
    .into_iter()
    .map(|e| e.unwrap())
    .find(|e| e.file_type().is_file())
    .unwrap();
    let text = std::fs::read_to_string(sample.path()).unwrap();
    let lines: Vec<&str> = text.lines().take(2).collect();
    assert_eq!(lines.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("windows-PT1H.json");
    std::fs::write(&file, format!("\u{feff}{}\r\n", lines.join("\r\n"))).unwrap();
    let (out_dir, out) = ingest(&[file], &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let s = summary(out_dir.path());
    assert_counts_balance(&s);
    assert_eq!(s["files"][0]["format"], "activity-jsonl");
    assert_eq!(s["files"][0]["records_read"], 2);
    assert_eq!(s["files"][0]["records_used"], 2, "{s}");
}

/// A lone UTF-16 surrogate escape (JSON's grammar, but no character) costs no record,
/// whichever path reads the line: the plain-record scanner passes over one in a field nobody
/// reads, and the general path reads it as U+FFFD and says so in the file's notes.
#[test]
fn lone_surrogate_escapes_cost_no_record() {
    let tmp = tempfile::tempdir().unwrap();
    let base = r#"{"time":"2026-11-03T19:00:00Z","operationName":"Microsoft.Compute/virtualMachines/write","resultType":"Success","correlationId":"c-1","#;
    let lines = [
        // Plain: the scanner reads it and passes over `location`.
        format!(r#"{base}"resourceId":"/subscriptions/s/resourceGroups/rg","location":"\ud800"}}"#),
        // A key in another case sends it to the general path.
        format!(
            r#"{base}"ResourceID":"/subscriptions/s/resourceGroups/rg2","location":"a\udc00"}}"#
        ),
        // The surrogate in a field that is read.
        format!(
            r#"{base}"resourceId":"/subscriptions/s/resourceGroups/rg3","caller":"bob\ud800@contoso.com"}}"#
        ),
    ];
    let blob = tmp.path().join("PT1H.json");
    std::fs::write(&blob, lines.join("\n")).unwrap();
    let document = tmp.path().join("events.json");
    let rest = r#"[{"eventTimestamp":"2026-11-03T19:00:00Z","operationName":{"value":"Microsoft.Compute/virtualMachines/write"},"status":{"value":"Succeeded"},"correlationId":"c-2","resourceId":"/subscriptions/s/resourceGroups/rg4","caller":"eve\udfff@contoso.com","eventDataId":"e-1"}]"#;
    std::fs::write(&document, rest).unwrap();

    let (dir, out) = ingest(&[blob, document], &["--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(dir.path());
    assert_counts_balance(&s);
    let file = |name: &str| {
        s["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let blob = file("PT1H.json");
    assert_eq!(
        (
            blob["records_used"].as_u64(),
            blob["records_rejected"].as_u64()
        ),
        (Some(3), Some(0))
    );
    let notes = blob["notes"].to_string();
    assert!(
        notes.contains("line 2: lone UTF-16 surrogate") && notes.contains("line 3:"),
        "{notes}"
    );
    assert!(
        !notes.contains("line 1:"),
        "the scanner read nothing to mend: {notes}"
    );
    let document = file("events.json");
    assert_eq!(document["records_used"].as_u64(), Some(1));
    assert!(
        document["notes"]
            .to_string()
            .contains("the document holds lone UTF-16"),
        "{document}"
    );
    let callers = strings(&table(dir.path(), "events"), "caller");
    assert!(
        callers.contains(&Some("bob\u{fffd}@contoso.com".into())),
        "{callers:?}"
    );
    assert!(
        callers.contains(&Some("eve\u{fffd}@contoso.com".into())),
        "{callers:?}"
    );
}

/// Issue 28: an Azure Data Explorer v2 response (a JSON array of frames) is a detected format;
/// its PrimaryResult rows read like the same rows from Log Analytics, and a response that says
/// it completed with errors, or carries an error among its rows, is recorded as partial.
#[test]
fn data_explorer_v2_frames_read_like_the_same_rows_from_log_analytics() {
    let la = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data/log-analytics/AzureActivity-shared-jit.json");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&la).unwrap()).unwrap();
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        for k in r.as_object().unwrap().keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let frames = |has_errors: bool, extra_row: Option<serde_json::Value>| {
        let mut table_rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::Value::Array(names.iter().map(|n| r[n].clone()).collect()))
            .collect();
        table_rows.extend(extra_row);
        serde_json::json!([
            {"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0"},
            {"FrameType": "DataTable", "TableId": 0, "TableKind": "QueryProperties", "TableName": "@ExtendedProperties",
             "Columns": [{"ColumnName": "TableId", "ColumnType": "int"}], "Rows": [[1]]},
            {"FrameType": "DataTable", "TableId": 1, "TableKind": "PrimaryResult", "TableName": "PrimaryResult",
             "Columns": names.iter().map(|n| serde_json::json!({"ColumnName": n, "ColumnType": "string"})).collect::<Vec<_>>(),
             "Rows": table_rows},
            {"FrameType": "DataSetCompletion", "HasErrors": has_errors, "Cancelled": false}
        ])
    };
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("adx-whole.json");
    std::fs::write(&whole, frames(false, None).to_string()).unwrap();
    let (a, out) = ingest(std::slice::from_ref(&la), &["--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (b, out) = ingest(&[whole], &["--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (sa, sb) = (summary(a.path()), summary(b.path()));
    assert_eq!(sb["files"][0]["format"], "data-explorer-v2");
    assert_eq!(
        sb["files"][0]["records_used"],
        sa["files"][0]["records_used"]
    );
    assert!(
        sb["files"][0]["notes"]
            .as_array()
            .is_none_or(|n| n.is_empty()),
        "{sb}"
    );
    let ids = |d: &std::path::Path| {
        let mut v = strings(&table(d, "events"), "event_id");
        v.sort();
        v
    };
    assert_eq!(ids(a.path()), ids(b.path()));
    assert_eq!(
        table(a.path(), "requests").height(),
        table(b.path(), "requests").height()
    );

    let partial = dir.path().join("adx-partial.json");
    let error = serde_json::json!({"OneApiErrors": [{"error": {"code": "LimitsExceeded", "message": "Request is invalid and cannot be executed."}}]});
    std::fs::write(&partial, frames(true, Some(error)).to_string()).unwrap();
    let (c, out) = ingest(&[partial], &[]);
    assert!(out.status.code() != Some(2), "{}", stderr(&out));
    let sc = summary(c.path());
    let notes = sc["files"][0]["notes"].to_string();
    assert!(
        notes.contains("completed with errors") && notes.contains("among its rows"),
        "{sc}"
    );
    assert_eq!(
        sc["files"][0]["records_used"],
        sa["files"][0]["records_used"]
    );
}
