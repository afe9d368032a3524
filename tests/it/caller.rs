//! `jitaudit caller`: one identity across its names, in time order, with a strictly escaped
//! HTML page.

use std::path::{Path, PathBuf};

use crate::util::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

fn caller(args: &[&str]) -> std::process::Output {
    jitaudit().arg("caller").args(args).output().unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
}

#[test]
fn upn_in_any_case_and_object_id_are_the_same_caller() {
    let s = sample();
    let s = s.to_str().unwrap();
    let by_upn = json(&caller(&["BOB@Contoso.com", s, "--format", "json"]));
    let by_oid = json(&caller(&[
        "b2b2b2b2-0000-4000-8000-00000000000b",
        s,
        "--format",
        "json",
    ]));
    assert_eq!(by_upn["summary"]["requests"], by_oid["summary"]["requests"]);
    assert!(by_upn["summary"]["requests"].as_u64().unwrap() > 10);
    let times: Vec<&str> = by_upn["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time_utc"].as_str().unwrap())
        .filter(|t| !t.is_empty())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "the timeline is in time order");
    let kinds: std::collections::BTreeSet<&str> = by_upn["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["jit_request", "activity", "nsg_change", "finding"] {
        assert!(kinds.contains(k), "bob's timeline lacks {k}: {kinds:?}");
    }
    // A window narrows it.
    let day = json(&caller(&[
        "bob@contoso.com",
        s,
        "--from",
        "2026-11-11T00:00:00Z",
        "--to",
        "2026-11-12T00:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(day["summary"]["requests"], 12);
}

#[test]
fn unknown_caller_names_the_closest_known() {
    let s = sample();
    // Suggestions are read from the columns that name callers alone: an object id (of a
    // caller whose records are not JIT ones) is known as well as a UPN.
    for (id, closest) in [
        ("bobby@contoso.com", "closest known: bob@contoso.com"),
        (
            "e5e5e5e5-0000-4000-8000-00000000000f",
            "closest known: e5e5e5e5-0000-4000-8000-00000000000e,",
        ),
    ] {
        let out = caller(&[id, s.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(closest), "{}", stderr(&out));
    }
}

#[test]
fn html_page_is_self_contained_and_escapes_every_input_value() {
    let tmp = tempfile::tempdir().unwrap();
    let payload = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let vm = "/subscriptions/99999999-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm<b>1";
    let policy = serde_json::json!({"id": "/subscriptions/99999999-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default",
        "properties": {"virtualMachines": [{"id": vm, "ports": [{"number": 22, "protocol": "*", "allowedSourceAddressPrefix": "*", "maxRequestAccessDuration": "PT3H"}]}],
        "requests": [{"virtualMachines": [{"id": vm, "ports": [{"number": 22, "allowedSourceAddressPrefix": "203.0.113.5", "endTimeUtc": "2027-01-12T10:00:00Z", "status": "Revoked", "statusReason": "Expired"}]}],
                      "startTimeUtc": "2027-01-12T09:00:00Z", "requestor": "eve@contoso.com", "justification": payload}]}});
    let input = tmp.path().join("policy.json");
    std::fs::write(&input, policy.to_string()).unwrap();
    let html = tmp.path().join("eve.html");
    let out = caller(&[
        "eve@contoso.com",
        input.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script"), "a script element survived");
    assert!(!page.contains("<img"), "an img element survived");
    assert!(!page.contains("<b>1"), "markup from a resource id survived");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;"),
        "the payload is shown as text"
    );
    assert!(page.contains("<svg"), "the timeline chart is inline");
    assert!(
        !page.contains("http://")
            || page
                .matches("http://")
                .all(|_| page.contains("http://www.w3.org/2000/svg"))
    );
    assert!(!page.contains("https://"), "no request to any host");
}

/// A pipe named as the input (`/dev/stdin` here, `<(zcat ...)` in a shell) is read, once:
/// `query` counts what the same bytes in a file give, and `caller`, which reads a file twice
/// to find a caller's other names, reads the pipe once whole and gives the same view.
#[test]
fn a_pipe_is_read_once_and_gives_what_the_file_gives() {
    let mut text = String::new();
    for entry in walkdir::WalkDir::new(sample().join("insights-activity-logs")).sort_by_file_name()
    {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    // A record that names Carol only by her UPN: asked for by object id, only a second look
    // (or a whole read) finds it.
    text.push_str(concat!(
        r#"{"time":"2026-11-05T10:00:00.000Z","resourceId":"/SUBSCRIPTIONS/22222222-AAAA-4BBB-8CCC-000000000002/RESOURCEGROUPS/RG-DEV/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/DEV-TEST-02","#,
        r#""operationName":"Microsoft.Compute/virtualMachines/start/action","category":"Action","resultType":"Success","#,
        r#""correlationId":"aaaaaaaa-0000-4000-8000-000000000099","level":"Information","callerIpAddress":"203.0.113.99","#,
        r#""identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"carol@contoso.com"}}}"#,
        "\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all-PT1H.json");
    std::fs::write(&file, &text).unwrap();
    let file = file.to_str().unwrap();

    let sql = "SELECT COUNT(*) AS n, COUNT(DISTINCT caller) AS callers FROM events";
    let from_pipe = jitaudit()
        .args(["query", "/dev/stdin", sql, "--format", "csv"])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    let from_file = jitaudit()
        .args(["query", file, sql, "--format", "csv"])
        .output()
        .unwrap();
    assert!(from_pipe.status.success(), "{}", stderr(&from_pipe));
    assert_eq!(stdout(&from_pipe), stdout(&from_file));
    assert!(
        !stdout(&from_file).contains("\n0,"),
        "{}",
        stdout(&from_file)
    );

    // By object id: the file is read twice (the UPN is found the first time).
    for who in ["C3C3C3C3-0000-4000-8000-00000000000C", "bob@contoso.com"] {
        let piped = jitaudit()
            .args(["caller", who, "/dev/stdin", "--format", "json"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        let a = json(&piped);
        let b = json(&caller(&[who, file, "--format", "json"]));
        assert!(!b["timeline"].as_array().unwrap().is_empty(), "{who}");
        assert_eq!(a, b, "{who}");
    }
    let carol = json(&caller(&[
        "C3C3C3C3-0000-4000-8000-00000000000C",
        file,
        "--format",
        "json",
    ]));
    assert!(
        carol.to_string().contains("203.0.113.99"),
        "the UPN-only record is Carol's"
    );
}

/// A diagnostic-settings record of a VM start by the identity these claims name.
fn start_by(claims: &str, address: &str) -> String {
    format!(
        concat!(
            r#"{{"time":"2026-11-06T09:00:00.000Z","resourceId":"/SUBSCRIPTIONS/22222222-AAAA-4BBB-8CCC-000000000002/RESOURCEGROUPS/RG-DEV/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/DEV-TEST-02","#,
            r#""operationName":"Microsoft.Compute/virtualMachines/start/action","category":"Action","resultType":"Success","#,
            r#""correlationId":"dddddddd-0000-4000-8000-{}","level":"Information","callerIpAddress":"{}","#,
            r#""identity":{{"claims":{{{}}}}}}}"#,
            "\n"
        ),
        format!("{:0>12}", address.rsplit('.').next().unwrap_or_default()),
        address,
        claims
    )
}

/// `caller` looks up the other names of the identity in the first file that names it, before
/// reading everything, and reads again for the names only later records show: either way it
/// gives what reading every record gives.
#[test]
fn names_found_first_or_only_later_give_what_a_whole_read_gives() {
    let dir = tempfile::tempdir().unwrap();
    let upn = r#""http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"trent@contoso.com""#;
    let oid = |n: u8| {
        format!(
            r#""http://schemas.microsoft.com/identity/claims/objectidentifier":"7e7e7e7e-0000-4000-8000-00000000000{n}""#
        )
    };
    // Read first (a small part of the input): Trent by UPN and his first object id.
    std::fs::write(
        dir.path().join("a-first-PT1H.json"),
        start_by(&format!("{upn},{}", oid(1)), "198.51.100.1"),
    )
    .unwrap();
    // The bulk of the input.
    let bulk = dir.path().join("m-bulk");
    for entry in walkdir::WalkDir::new(sample().join("insights-activity-logs")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let name = entry.path().to_string_lossy().replace(['/', '='], "_");
            std::fs::create_dir_all(&bulk).unwrap();
            std::fs::copy(entry.path(), bulk.join(name)).unwrap();
        }
    }
    // Read last: a second object id beside the UPN, and records that name only one of the
    // object ids.
    std::fs::write(
        dir.path().join("z-late-PT1H.json"),
        [
            start_by(&format!("{upn},{}", oid(2)), "198.51.100.2"),
            start_by(&oid(1), "198.51.100.3"),
            start_by(&oid(2), "198.51.100.4"),
        ]
        .concat(),
    )
    .unwrap();
    let input = dir.path().to_str().unwrap();
    let quick = json(&caller(&["trent@contoso.com", input, "--format", "json"]));
    let whole = json(&caller(&[
        "trent@contoso.com",
        input,
        "--format",
        "json",
        "--no-prefilter",
    ]));
    assert_eq!(quick, whole);
    assert_eq!(
        quick["summary"]["identities"],
        serde_json::json!([
            "7e7e7e7e-0000-4000-8000-000000000001",
            "7e7e7e7e-0000-4000-8000-000000000002",
            "trent@contoso.com"
        ])
    );
    let text = quick["timeline"].to_string();
    for n in 1..=4 {
        assert!(
            text.contains(&format!("198.51.100.{n}")),
            "record {n}: {text}"
        );
    }
}

/// The early look for the caller's other names reads files one at a time: role assignments
/// read without the file that defines their roles are no reason for a warning, since the read
/// of all the inputs together has the definitions. With the files of Resource Manager sorted
/// before the logs and the logs large enough for the look to reach them, the look once warned
/// of "roles the inputs do not define" that the inputs did define.
#[test]
fn the_early_look_warns_of_nothing_the_whole_input_answers() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        for entry in walkdir::WalkDir::new(from) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let name = entry.path().strip_prefix(from).unwrap();
                let target = to.join(name);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    };
    copy(&sample().join("arm"), &dir.path().join("arm"));
    let logs = dir.path().join("insights-activity-logs");
    copy(&sample().join("insights-activity-logs"), &logs);
    // Enough log after the Resource Manager files for a sixteenth of the input to cover them.
    let mut filler = Vec::new();
    for f in files_under(&logs) {
        filler.extend(std::fs::read(f).unwrap());
    }
    let bulk = filler.repeat(40);
    std::fs::write(logs.join("zz-bulk.json"), &bulk).unwrap();
    let arm: u64 = files_under(&dir.path().join("arm"))
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        16 * arm < bulk.len() as u64,
        "the look reaches the role files"
    );
    let out = caller(&[
        "bob@contoso.com",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    // The role assignments were read: bob's rights are named.
    assert!(
        json(&out)["summary"]["rights"]
            .to_string()
            .contains("JIT Requester"),
        "{}",
        json(&out)["summary"]
    );
}

/// Issue 27: the caller page stays light for a busy identity: every JIT request, NSG change and
/// finding, the latest 500 other records, and the rest counted by operation, so nothing read is
/// unaccounted for.
#[test]
fn the_caller_page_of_a_busy_identity_shows_the_latest_activity_and_counts_the_rest() {
    let estate = tempfile::tempdir().unwrap();
    let out = jitaudit()
        .args([
            "sample",
            "--subscriptions",
            "3",
            "--vms",
            "12",
            "--people",
            "4",
        ])
        .args(["--days", "21", "--scale", "12", "--out"])
        .arg(estate.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let page = estate.path().join("caller.html");
    let automation = "f7f7f7f7-0000-4000-8000-0000000000f7";
    let out = jitaudit()
        .args(["caller", automation])
        .arg(estate.path())
        .args(["--format", "json", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timeline = json["timeline"].as_array().unwrap();
    let activity = timeline.iter().filter(|e| e["kind"] == "activity").count();
    assert!(activity > 600, "the identity is busy: {activity}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<tr class=\"kind-activity\"").count(), 500);
    for kind in ["jit_request", "nsg_change", "finding"] {
        let n = timeline.iter().filter(|e| e["kind"] == kind).count();
        assert_eq!(
            html.matches(&format!("<tr class=\"kind-{kind}\"")).count(),
            n,
            "{kind}"
        );
    }
    assert!(html.contains(&format!("latest 500 of their {activity} other")));
    // The counts by operation add up to every activity record.
    let section = &html[html.find("Other activity by operation").unwrap()..];
    let counted: usize = section
        .split("<td class=\"n\">")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, activity);
}

/// The firewall writes Defender for Cloud makes for a request on a VM behind an Azure Firewall
/// (the sample's monitor-01 and bastion-01, behind fw-hub at 20.50.3.4) stand beside that
/// request; a write of the same firewall far from any request, and one of another firewall
/// beside the request, do not.
#[test]
fn firewall_writes_stand_beside_the_requests_they_opened() {
    let s = sample();
    let shared = s.join("legacy-storage/insights-activity-logs/resourceId=/SUBSCRIPTIONS/33333333-AAAA-4BBB-8CCC-000000000003/y=2026/m=11/d=15/h=00/m=00/PT1H.json");
    let records: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared).unwrap()).unwrap();
    let write = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["operationName"] == "Microsoft.Network/azureFirewalls/write")
        .expect("the sample's firewall write for bob's monitor-01 request")
        .clone();
    // The traps: fw-hub written by the network team on a quiet morning, and another
    // firewall written at the very second of the real one.
    let mut quiet = write.clone();
    quiet["time"] = "2026-11-14T06:13:00.000Z".into();
    quiet["correlationId"] = "00000000-0000-4000-8000-00000000f001".into();
    let mut other = write.clone();
    let other_id = write["resourceId"]
        .as_str()
        .unwrap()
        .replace("FW-HUB", "FW-SPOKE");
    other["resourceId"] = other_id.clone().into();
    other["correlationId"] = "00000000-0000-4000-8000-00000000f002".into();
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("PT1H.json");
    std::fs::write(
        &extra,
        serde_json::json!({"records": [quiet, other]}).to_string(),
    )
    .unwrap();
    let bob = json(&caller(&[
        "bob@contoso.com",
        s.to_str().unwrap(),
        extra.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let timeline = bob["timeline"].as_array().unwrap();
    let nanos = |e: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(e["time_utc"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let fronted: Vec<i64> = timeline
        .iter()
        .filter(|e| e["kind"] == "jit_request")
        .filter(|e| {
            let vm = e["resource"].as_str().unwrap();
            vm.ends_with("/monitor-01") || vm.ends_with("/bastion-01")
        })
        .map(nanos)
        .collect();
    let firewall: Vec<&serde_json::Value> = timeline
        .iter()
        .filter(|e| e["kind"] == "firewall_change")
        .collect();
    assert!(
        fronted.len() >= 4,
        "bob opens monitor-01 often: {fronted:?}"
    );
    // Started and Accepted, for each of them.
    assert_eq!(firewall.len(), 2 * fronted.len(), "{firewall:#?}");
    for f in &firewall {
        let at = nanos(f);
        assert!(
            fronted.iter().any(|r| at >= *r && at - r < 60_000),
            "{f:#?} is beside no request"
        );
        let resource = f["resource"].as_str().unwrap().to_ascii_lowercase();
        assert!(resource.ends_with("/fw-hub"), "{f:#?}");
    }
    // The open request's DNAT rule is in the firewall's snapshot, and the ledger knows it.
    let ledger = jitaudit()
        .arg("query")
        .arg(&s)
        .arg("select vm_name, firewall_ip, mapped_port, status from requests where firewall_ip is not null and status = 'Initiated'")
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&ledger),
        "vm_name,firewall_ip,mapped_port,status\nmonitor-01,20.50.3.4,50822,Initiated\n",
        "{}",
        stderr(&ledger)
    );
}
