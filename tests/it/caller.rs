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
    let out = caller(&["bobby@contoso.com", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("closest known: bob@contoso.com"),
        "{}",
        stderr(&out)
    );
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
