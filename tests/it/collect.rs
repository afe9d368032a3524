//! `jitaudit collect` against the fake Resource Manager: every page collected through
//! `nextLink`, retries on 429, 503 and a slow answer, a forbidden subscription reported while
//! the others complete, counts equal to what the server served, the token nowhere on disk,
//! and the snapshot giving the same findings as the files it was served from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::arm::{Data, FakeArm, Faults};
use crate::util::*;

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-token-for-tests.c2lnbmF0dXJl";
/// 2026-11-16T00:00:00Z: the sample tenant's two weeks are within `--days 15`.
const NOW: &str = "1794787200";
const PROD: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
const DEV: &str = "22222222-aaaa-4bbb-8ccc-000000000002";
const SHARED: &str = "33333333-aaaa-4bbb-8ccc-000000000003";
/// Microsoft's GetSubscriptions example; the fake server forbids it.
const FORBIDDEN: &str = "291bba3f-e0a5-47bc-a099-3bdcb2a50a05";
/// The subscription of Microsoft's JIT policy list example.
const MS_JIT: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The files the fake server serves, which are also the "equivalent files" for `scan`.
fn served_files() -> Vec<PathBuf> {
    let r = root();
    let mut files: Vec<PathBuf> = [
        "sample-data/arm/subscriptions.json",
        "sample-data/arm/virtual-machines-prod.json",
        "sample-data/arm/virtual-machines-dev.json",
        "sample-data/arm/virtual-machines-shared.json",
        "sample-data/arm/network-interfaces.json",
        "sample-data/arm/network-security-groups.json",
        "sample-data/arm/jit-policies-prod.json",
        "sample-data/arm/jit-policy-dev.json",
        "sample-data/arm/jit-policies-shared.json",
        "sample-data/arm/azure-firewalls-shared.json",
        "sample-data/arm/role-definitions.json",
        "sample-data/arm/role-assignments-prod.json",
        "sample-data/arm/role-assignments-dev.json",
        "sample-data/arm/role-eligibility-shared.json",
        "sample-data/activity-log/prod/az-activity-log-list.json",
        "sample-data/activity-log/prod/rest-page-1.json",
        "sample-data/activity-log/prod/rest-page-2.json",
    ]
    .iter()
    .map(|p| r.join(p))
    .collect();
    files.push(fixture("microsoft/GetSubscriptions.json"));
    files.push(fixture(
        "microsoft/GetJitNetworkAccessPoliciesSubscription_example.json",
    ));
    files
}

fn data() -> Data {
    let files = served_files();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut data = Data::from_files(&refs);
    // Microsoft's JIT example belongs to a subscription its examples never list; list it in
    // the shape of Microsoft's subscription example.
    let mut sub = data.subscriptions.last().unwrap().clone();
    sub["id"] = json!(format!("/subscriptions/{MS_JIT}"));
    sub["subscriptionId"] = json!(MS_JIT);
    sub["displayName"] = json!("Microsoft JIT example");
    data.subscriptions.push(sub);
    data
}

fn collect(server: &FakeArm, out: &Path, extra: &[&str]) -> std::process::Output {
    jitaudit()
        .arg("collect")
        .arg("--out")
        .arg(out)
        .args(["--arm-endpoint", &server.url(), "--auth", "env-token"])
        .args(extra)
        .env("JITAUDIT_ACCESS_TOKEN", TOKEN)
        .env("SOURCE_DATE_EPOCH", NOW)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn kind<'a>(m: &'a Value, sub: &str, kind: &str) -> &'a Value {
    let s = m["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str().unwrap().eq_ignore_ascii_case(sub))
        .unwrap_or_else(|| panic!("{sub} in the manifest"));
    &s["kinds"][kind]
}

fn scan_findings(inputs: &[PathBuf]) -> Vec<Value> {
    let out = jitaudit()
        .arg("scan")
        .args(inputs)
        .arg("--config")
        .arg(root().join("sample-data/jitaudit.toml"))
        .args(["--format", "json"])
        .env("SOURCE_DATE_EPOCH", NOW)
        .output()
        .unwrap();
    assert!(out.status.code().unwrap() <= 1, "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

#[test]
fn collect_survives_faults_counts_what_was_served_and_reports_like_the_files() {
    let omitted = format!(
        "/subscriptions/{PROD}/resourcegroups/rg-prod-sql/providers/microsoft.security/locations/westeurope/jitnetworkaccesspolicies/default"
    );
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 2,
        forbidden: vec![FORBIDDEN.into()],
        throttle_once: vec![format!(
            "/subscriptions/{PROD}/providers/microsoft.compute/virtualmachines"
        )],
        unavailable: vec![(
            format!("/subscriptions/{DEV}/providers/microsoft.network/networksecuritygroups"),
            2,
        )],
        slow_once: vec![(
            format!("/subscriptions/{SHARED}/providers/microsoft.network/networkinterfaces"),
            Duration::from_millis(2500),
        )],
        always_unavailable: vec![],
        omitted_at_subscription_scope: vec![omitted],
        ..Default::default()
    };
    let server = FakeArm::start(data(), faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot");
    let run = collect(
        &server,
        &out,
        &["--days", "15", "--timeout", "1", "--concurrency", "3"],
    );
    let (so, se) = (stdout(&run), stderr(&run));
    assert_eq!(
        run.status.code(),
        Some(3),
        "one subscription is forbidden: {so}{se}"
    );

    let m = manifest(&out);
    assert_eq!(m["status"], "partial");
    assert_eq!(m["auth"], "env-token");
    assert_eq!(m["window"]["windows"], 15);
    // Every served subscription, the forbidden one with its reason.
    assert_eq!(m["subscriptions"].as_array().unwrap().len(), 5);
    // The refused Activity Log is one error, not one per day.
    let refused = kind(&m, FORBIDDEN, "activity-log")["errors"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .as_str()
            .unwrap()
            .contains("the other 14 windows were not asked for")
    );
    let denied = kind(&m, FORBIDDEN, "virtual-machines");
    assert_eq!(denied["status"], "failed");
    let why = denied["errors"][0].as_str().unwrap();
    assert!(
        why.contains("403") && why.contains("Microsoft.Compute/virtualMachines/read"),
        "{why}"
    );
    assert!(
        kind(&m, FORBIDDEN, "jit-policies")["errors"][0]
            .as_str()
            .unwrap()
            .contains("Security Reader")
    );
    assert!(so.contains("FAILED") && so.contains(FORBIDDEN), "{so}");
    for sub in [PROD, DEV, SHARED, MS_JIT] {
        for k in [
            "jit-policies",
            "virtual-machines",
            "network-interfaces",
            "network-security-groups",
            "activity-log",
        ] {
            assert_eq!(
                kind(&m, sub, k)["status"],
                "ok",
                "{sub} {k}: {}",
                kind(&m, sub, k)
            );
        }
    }

    // Retries happened, as many as the faults asked for, and were counted.
    assert_eq!(kind(&m, PROD, "virtual-machines")["retries"], 1);
    assert_eq!(kind(&m, DEV, "network-security-groups")["retries"], 2);
    assert_eq!(kind(&m, SHARED, "network-interfaces")["retries"], 1);
    let dev_nsgs = kind(&m, DEV, "network-security-groups");
    assert_eq!(
        server.count(&format!(
            "/subscriptions/{DEV}/providers/microsoft.network/networksecuritygroups?"
        )) as u64,
        2 + dev_nsgs["pages"].as_u64().unwrap(),
        "two 503s, then one request per page"
    );

    // Record counts equal what the server served, per subscription and kind.
    let served = server.served();
    let name = |k: &'static str| match k {
        "vms" => "virtual-machines",
        "nics" => "network-interfaces",
        "nsgs" => "network-security-groups",
        "pips" => "public-ip-addresses",
        "fws" => "azure-firewalls",
        "ra" => "role-assignments",
        "rd" => "role-definitions",
        "pim" => "role-eligibility",
        "jit" => "jit-policies",
        "events" => "activity-log",
        other => other,
    };
    for ((sub, k), n) in &served {
        if k == &"subscriptions" {
            continue;
        }
        assert_eq!(kind(&m, sub, name(k))["records"], *n as u64, "{sub} {k}");
    }
    assert!(served[&(PROD.to_string(), "events")] > 100);
    assert_eq!(m["subscription_list"]["records"], 5);
    // Pages followed nextLink to the end: 5 subscriptions at 2 a page.
    assert_eq!(m["subscription_list"]["pages"], 3);

    // The policy the subscription-scope list left out came from its resource group.
    let rg_pages = server.count(&format!(
        "/subscriptions/{PROD}/resourcegroups/rg-prod-sql/providers/microsoft.security"
    ));
    assert!(rg_pages >= 1);

    // Every file is in the manifest with its SHA-256; no partial page is left behind.
    let files = all_files(&out);
    let listed = m["files"].as_array().unwrap();
    assert_eq!(files.len(), listed.len() + 1, "pages plus manifest.json");
    for f in listed {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        use sha2::Digest;
        assert_eq!(f["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    }
    assert!(
        files
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".part"))
    );

    // The token is nowhere: not in a page, the manifest, or what was printed.
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
        assert!(
            !text.contains(TOKEN) && !text.contains("fake-token"),
            "{}",
            f.display()
        );
    }
    assert!(!so.contains("fake-token") && !se.contains("fake-token"));

    // `scan` on the snapshot finds exactly what it finds on the files that were served.
    let from_snapshot = scan_findings(std::slice::from_ref(&out));
    let from_files = scan_findings(&served_files());
    assert!(!from_files.is_empty());
    let brief = |all: &[Value]| -> Vec<String> {
        all.iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["rule_id"], f["subscription_id"], f["caller"], f["detail"]
                )
            })
            .collect()
    };
    let (a, b) = (brief(&from_snapshot), brief(&from_files));
    let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
    let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
    assert_eq!(
        from_snapshot, from_files,
        "only in the snapshot: {only_a:#?}\nonly in the files: {only_b:#?}"
    );
    // And `report` reads the snapshot directory as it is.
    let report = dir.path().join("report");
    let r = jitaudit()
        .arg("report")
        .arg(&out)
        .arg("--out")
        .arg(&report)
        .arg("--config")
        .arg(root().join("sample-data/jitaudit.toml"))
        .env("SOURCE_DATE_EPOCH", NOW)
        .output()
        .unwrap();
    assert!(r.status.code().unwrap() <= 1, "{}", stderr(&r));
    // The snapshot is partial, and the report and the terminal both say so.
    assert!(
        stderr(&r).contains("collect got only part"),
        "{}",
        stderr(&r)
    );
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(html.contains("The inputs are incomplete") && html.contains(FORBIDDEN));
}

#[test]
fn a_stopped_run_leaves_a_manifest_that_says_so() {
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 50,
        slow_once: vec![(
            "/providers/microsoft.network/networkinterfaces".into(),
            Duration::from_secs(30),
        )],
        ..Default::default()
    };
    let server = FakeArm::start(data(), faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jitaudit"))
        .arg("collect")
        .arg("--out")
        .arg(&out)
        .args([
            "--arm-endpoint",
            &server.url(),
            "--auth",
            "env-token",
            "--days",
            "3",
        ])
        .args(["--subscription", PROD, "--timeout", "60"])
        .env("JITAUDIT_ACCESS_TOKEN", TOKEN)
        .env("SOURCE_DATE_EPOCH", NOW)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until everything but the slow NIC list is done, then stop the run.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "collect never got going"
        );
        if let Ok(text) = std::fs::read(out.join("manifest.json"))
            && let Ok(m) = serde_json::from_slice::<Value>(&text)
            && m["subscriptions"][0]["kinds"]["virtual-machines"]["status"] == "ok"
            && m["subscriptions"][0]["kinds"]["activity-log"]["status"] == "ok"
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let m = manifest(&out);
    assert_eq!(m["status"], "running");
    assert_eq!(kind(&m, PROD, "network-interfaces")["status"], "running");
    assert!(m["finished"].is_null());
    // Every page on disk is whole, and a report on it warns that the run did not finish.
    let scan = jitaudit().arg("scan").arg(&out).output().unwrap();
    assert!(
        stderr(&scan).contains("did not finish") && stderr(&scan).contains("network-interfaces"),
        "{}",
        stderr(&scan)
    );
}

#[test]
fn retries_are_bounded_and_one_kind_failing_leaves_the_rest_whole() {
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 50,
        always_unavailable: vec![format!(
            "/subscriptions/{PROD}/providers/microsoft.network/networksecuritygroups"
        )],
        ..Default::default()
    };
    let server = FakeArm::start(data(), faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let run = collect(
        &server,
        &out,
        &[
            "--subscription",
            PROD,
            "--activity",
            "jit",
            "--attempts",
            "3",
            "--from",
            "2026-11-09T00:00:00Z",
            "--to",
            "2026-11-12T00:00:00Z",
        ],
    );
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}{}",
        stdout(&run),
        stderr(&run)
    );
    let m = manifest(&out);
    assert!(
        m["subscription_list"].is_null(),
        "named subscriptions are not listed"
    );
    let nsgs = kind(&m, PROD, "network-security-groups");
    assert_eq!(nsgs["status"], "failed");
    assert!(
        nsgs["errors"][0]
            .as_str()
            .unwrap()
            .contains("gave up after 3 attempts"),
        "{nsgs}"
    );
    assert_eq!(
        server.count("/providers/microsoft.network/networksecuritygroups"),
        3
    );
    for k in [
        "jit-policies",
        "virtual-machines",
        "network-interfaces",
        "activity-log",
    ] {
        assert_eq!(kind(&m, PROD, k)["status"], "ok", "{k}");
    }
    // --activity jit asks for the two providers' events, one day at a time.
    let log = server.log.lock().unwrap();
    let activity: Vec<&String> = log
        .requests
        .iter()
        .filter(|r| r.contains("eventtypes"))
        .collect();
    assert_eq!(activity.len(), 3 * 2, "{activity:?}");
    assert!(
        activity
            .iter()
            .any(|r| r.contains("resourceProvider%20eq%20%27Microsoft.Security%27"))
    );
    assert!(
        activity
            .iter()
            .any(|r| r.contains("resourceProvider%20eq%20%27Microsoft.Network%27"))
    );
    drop(log);
    let events = kind(&m, PROD, "activity-log")["records"].as_u64().unwrap();
    let all_events = data().items[&(PROD.to_string(), "events")]
        .iter()
        .filter(|e| {
            let t = e["eventTimestamp"].as_str().unwrap();
            let p = e["resourceProviderName"]["value"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase();
            ("2026-11-09".."2026-11-12").contains(&t)
                && (p == "microsoft.security" || p == "microsoft.network")
        })
        .count() as u64;
    assert_eq!(events, all_events);
    assert!(events > 0);
}

#[test]
fn a_refused_token_is_not_retried_and_nothing_collected_exits_2() {
    let faults = Faults {
        token: "the-right-token".into(),
        page_size: 10,
        ..Default::default()
    };
    let server = FakeArm::start(data(), faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let run = collect(&server, &out, &["--days", "2"]);
    let text = stdout(&run) + &stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{text}");
    assert!(
        text.contains("401") && text.contains("token was refused"),
        "{text}"
    );
    assert_eq!(server.count("/subscriptions"), 1, "401 is not retried");
    assert_eq!(manifest(&out)["status"], "failed");
    assert!(!text.contains("fake-token"));
}

#[test]
fn bad_arguments_fail_before_any_request() {
    let server = FakeArm::start(
        data(),
        Faults {
            token: TOKEN.into(),
            page_size: 5,
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["--subscription", "not-a-guid"], "not a subscription id"),
        (
            &[
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2026-01-02T00:00:00Z",
            ],
            "90 days",
        ),
        (
            &[
                "--from",
                "2026-11-10T00:00:00Z",
                "--to",
                "2026-11-09T00:00:00Z",
            ],
            "window is empty",
        ),
    ];
    for (args, expect) in cases {
        let run = collect(&server, &dir.path().join("x"), args);
        assert_eq!(run.status.code(), Some(2));
        assert!(stderr(&run).contains(expect), "{args:?}: {}", stderr(&run));
    }
    // A directory that already holds something is refused.
    std::fs::write(dir.path().join("old.json"), "{}").unwrap();
    let run = collect(&server, dir.path(), &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("not empty"));
    assert_eq!(server.count("/"), 0);
}

/// Issue 30, item 1: a list whose `nextLink` leads back to an earlier page (here page 2 back to
/// page 1) once made `collect` loop for ever. The list stops at the first link seen before, its
/// kind is marked failed with the reason, and the run ends partial.
#[test]
fn a_next_link_loop_stops_the_list_and_the_run_ends_partial() {
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 2,
        looping: vec!["/providers/microsoft.compute/virtualmachines".into()],
        ..Default::default()
    };
    let (server, _dir, out, _) = one_day_of_prod(faults);
    let vms = kind(&manifest(&out), PROD, "virtual-machines").clone();
    assert_eq!(vms["status"], "failed", "{vms}");
    assert!(
        vms.to_string()
            .contains("leads back to a page already read"),
        "{vms}"
    );
    // The first page (no skip token), the second, the first again by its skip token (another
    // address), then the second again: seen, so not fetched.
    assert_eq!(vms["pages"], 3, "{vms}");
    assert_eq!(
        server.count("/providers/microsoft.compute/virtualmachines"),
        3
    );
    assert_eq!(manifest(&out)["status"], "partial");
}

/// Issue 30, item 2: a 400 whose message repeats the Authorization header put the bearer token
/// into `manifest.json` and onto standard output. Every message `collect` writes has it masked.
#[test]
fn a_token_echoed_by_the_server_is_written_nowhere() {
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 50,
        echo_token: vec!["/providers/microsoft.network/networkinterfaces".into()],
        ..Default::default()
    };
    let (_server, _dir, out, text) = one_day_of_prod(faults);
    let signature = TOKEN.rsplit('.').next().unwrap();
    let written = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    for place in [&text, &written] {
        assert!(
            !place.contains(TOKEN) && !place.contains(signature),
            "the token in {place}"
        );
    }
    let nics = kind(&manifest(&out), PROD, "network-interfaces").to_string();
    assert!(nics.contains("Bearer [redacted]"), "{nics}");
    for f in all_files(&out) {
        let bytes = std::fs::read(&f).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        assert!(!body.contains(signature), "the token in {}", f.display());
    }
}

/// `collect` of one day of the production subscription from a fake with `faults`, which must
/// leave the run partial (exit 3): the server, the directory holding the snapshot, the
/// snapshot, and what the run printed.
fn one_day_of_prod(faults: Faults) -> (FakeArm, tempfile::TempDir, PathBuf, String) {
    let server = FakeArm::start(data(), faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let run = collect(&server, &out, &["--subscription", PROD, "--days", "1"]);
    let text = stdout(&run) + &stderr(&run);
    assert_eq!(run.status.code(), Some(3), "{text}");
    (server, dir, out, text)
}

/// Issue 30, smaller: a `nextLink` carrying `user:password@` was followed with two
/// Authorization headers. It is not followed: the list fails, saying why, and the credentials
/// are written nowhere.
#[test]
fn a_next_link_with_credentials_is_not_followed() {
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 2,
        credential_link: vec!["/providers/microsoft.compute/virtualmachines".into()],
        ..Default::default()
    };
    let (server, _dir, out, text) = one_day_of_prod(faults);
    let vms = kind(&manifest(&out), PROD, "virtual-machines").to_string();
    assert!(
        vms.contains("failed") && vms.contains("not followed"),
        "{vms}"
    );
    assert_eq!(
        server.count("/providers/microsoft.compute/virtualmachines"),
        1
    );
    let written = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(!written.contains("user:secret") && !text.contains("user:secret"));
}

/// Issue 29: with `--graph`, the members of the groups role assignments name are listed from
/// Microsoft Graph (paged by `@odata.nextLink`), written under `graph/groups/<id>/`, and the
/// snapshot gives each member the group's right, as the sample's own Graph page does.
#[test]
fn graph_lists_the_members_of_assigned_groups() {
    const ON_CALL: &str = "6c6c6c6c-0000-4000-8000-0000000000c6";
    let mut data = data();
    let page = root().join(format!(
        "sample-data/graph/groups/{ON_CALL}/members-page-0001.json"
    ));
    let members: Value = serde_json::from_slice(&std::fs::read(&page).unwrap()).unwrap();
    data.group_members
        .insert(ON_CALL.into(), members["value"].as_array().unwrap().clone());
    let faults = Faults {
        token: TOKEN.into(),
        page_size: 2,
        forbidden: vec![FORBIDDEN.into()],
        ..Default::default()
    };
    let server = FakeArm::start(data, faults);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot");
    let run = collect(
        &server,
        &out,
        &["--days", "15", "--graph", "--graph-endpoint", &server.url()],
    );
    assert!(
        run.status.code().unwrap() <= 3,
        "{}{}",
        stdout(&run),
        stderr(&run)
    );
    let m = manifest(&out);
    assert_eq!(m["graph"]["status"], "ok", "{}", m["graph"]);
    assert_eq!(m["graph"]["records"], 3);
    assert_eq!(m["graph"]["pages"], 2, "three members, two a page");
    assert_eq!(
        server.count(&format!("/v1.0/groups/{ON_CALL}/transitivemembers")),
        2
    );
    let access = jitaudit()
        .arg("query")
        .arg(&out)
        .arg("select principal_name, group_id from access where group_id is not null order by 1")
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(access.status.success(), "{}", stderr(&access));
    let text = stdout(&access);
    assert!(
        text.contains(&format!("alice@contoso.com,{ON_CALL}")),
        "{text}"
    );
    assert!(
        text.contains("jit-automation") || text.contains("f6f6f6f6"),
        "{text}"
    );
}
