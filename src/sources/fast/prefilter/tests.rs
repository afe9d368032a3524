//! The prefilter held to what the commands read: words in any case, NSG rule writes passed
//! over or kept, second reads, the sketch of a skipped line and the hours it counts.

use super::*;

#[test]
fn keeps_jit_lines_in_any_case_and_escaped_lines() {
    let f = Prefilter::for_need(&Need::Jit).unwrap();
    assert!(f.keeps(br#"{"operationName":"MICROSOFT.SECURITY/LOCATIONS/JITNETWORKACCESSPOLICIES/INITIATE/ACTION"}"#));
    assert!(f.keeps(
        br#"{"operationName":"Microsoft.Network/networkSecurityGroups/securityRules/write"}"#
    ));
    assert!(f.keeps(
        br#"{"operationName":"Microsoft.Security/locations/\u006aitNetworkAccessPolicies/write"}"#
    ));
    assert!(!f.keeps(br#"{"operationName":"Microsoft.Compute/virtualMachines/start/action"}"#));
}

/// Issue 26: a log full of NSG rule writes by automation. Those are passed over; anything
/// JIT may have made, anything laid out otherwise and anything naming a wanted word is not.
#[test]
fn nsg_rule_writes_jit_did_not_make_are_passed_over() {
    let line = |op: &str, rule: &str, rest: &str| {
        format!(
            r#"{{ "time": "2026-11-05T02:00:06Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/MC_X/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/AKS-NSG/SECURITYRULES/{rule}", "operationName": "{op}", "caller": "c0ffee"{rest}}}"#
        )
    };
    let write = "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE";
    let delete = "Microsoft.Network/networkSecurityGroups/securityRules/delete";
    let jit = Prefilter::for_need(&Need::Jit).unwrap();
    let caller = Prefilter::for_need(&Need::JitAnd(vec!["c0ffee".into()])).unwrap();
    let someone = Prefilter::for_need(&Need::JitAnd(vec!["bob@contoso.com".into()])).unwrap();
    let passed_over = [
        line(write, "k8s-azure-lb_allow_IPv4_1", ""),
        line(delete, "k8s-azure-lb_allow_IPv4_1", ""),
    ];
    for l in &passed_over {
        assert!(!jit.keeps(l.as_bytes()), "{l}");
        assert!(!someone.keeps(l.as_bytes()), "{l}");
        // The caller's own changes are the caller's.
        assert!(caller.keeps(l.as_bytes()), "{l}");
    }
    let kept = [
        // JIT's rules, by name or by description, in any case.
        line(write, "MicrosoftDefenderForCloud-JITRule-1-AB", ""),
        line(delete, "SECURITYCENTER-JITRULE_-2_CD", ""),
        line(
            write,
            "r",
            r#", "properties": {"responseBody": "{\"description\":\"MDC JIT Network Access rule\"}"}"#,
        ),
        // A whole NSG's write, or an operation the parser could read elsewhere.
        line("Microsoft.Network/networkSecurityGroups/write", "x", ""),
        line(
            write,
            "x",
            r#", "OperationNameValue": "Microsoft.Network/networkSecurityGroups/write""#,
        ),
        line(
            write,
            "x",
            r#", "OPERATIONNAME": "Microsoft.Network/networkSecurityGroups/write""#,
        ),
        line(write, "x", r#", "properties": {"operationName": "x"}"#),
        // Laid out otherwise, or escaped.
        format!(
            r#"{{"operationName": "{write}", "time": "2026-11-05T02:00:06Z", "resourceId": "/x/networkSecurityGroups/n"}}"#
        ),
        line(write, "x", r#", "note": "\u0041""#),
    ];
    for l in &kept {
        assert!(jit.keeps(l.as_bytes()), "{l}");
        assert!(someone.keeps(l.as_bytes()), "{l}");
    }
    // A line JIT's words and another word both name is kept for the other.
    let both = line(
        write,
        "x",
        r#", "resourceType": "Microsoft.Security/jitNetworkAccessPolicies""#,
    );
    assert!(jit.keeps(both.as_bytes()));
    // A word is looked for as a path's segment: bare, in a text, it is not the operation's
    // or a resource's.
    let bare = line(write, "x", r#", "note": "jitNetworkAccessPolicies""#);
    assert!(!jit.keeps(bare.as_bytes()));
    // A second read keeps what the first passed over, when it names a new name.
    let second = Prefilter::for_need(&Need::NewFor {
        names: vec!["c0ffee".into()],
        already: vec!["bob@contoso.com".into()],
    })
    .unwrap();
    assert!(second.keeps(passed_over[0].as_bytes()));
    assert!(!second.keeps(kept[0].as_bytes()));
    assert!(!second.keeps(kept[3].as_bytes()));
}

#[test]
fn caller_words_are_literal_and_ascii_only() {
    let f = Prefilter::for_need(&Need::JitAnd(vec!["a.b+c@contoso.com".into()])).unwrap();
    assert!(f.keeps(br#"{"caller":"A.B+C@CONTOSO.COM"}"#));
    assert!(!f.keeps(br#"{"caller":"aXb+c@contoso.com"}"#));
    assert!(Prefilter::for_need(&Need::JitAnd(vec!["jörg@contoso.com".into()])).is_none());
    assert!(Prefilter::for_need(&Need::All).is_none());
}

#[test]
fn a_second_read_keeps_only_what_the_first_did_not() {
    let f = Prefilter::for_need(&Need::NewFor {
        names: vec!["bob@contoso.com".into(), "b2b2".into()],
        already: vec!["bob@contoso.com".into()],
    })
    .unwrap();
    assert!(f.keeps(br#"{"caller":"B2B2"}"#));
    assert!(!f.keeps(br#"{"caller":"b2b2","upn":"bob@contoso.com"}"#));
    assert!(!f.keeps(br#"{"caller":"b2b2","op":"Microsoft.Network/networkSecurityGroups/write"}"#));
    assert!(!f.keeps(br#"{"caller":"b2b2","x":"\u0027"}"#));
    assert!(!f.keeps(br#"{"caller":"carol"}"#));
}

#[test]
fn sketch_reads_time_and_subscription_without_parsing() {
    let line = br#"{ "time": "2026-11-05T02:00:06.298Z", "resourceId": "/SUBSCRIPTIONS/22222222-AAAA-4BBB-8CCC-000000000002/RESOURCEGROUPS/RG"}"#;
    let (t, sub) = sketch(line).unwrap();
    assert_eq!(t, parse_time("2026-11-05T02:00:06.298Z").unwrap());
    assert_eq!(sub, Some(&b"22222222-AAAA-4BBB-8CCC-000000000002"[..]));
    let mut c = Coverage::default();
    let mut counter = SkipCounter::default();
    counter.count(&mut c, line);
    counter.count(&mut c, line);
    counter.finish(&mut c);
    let ((_, sub), cell) = c.cells.iter().next().unwrap();
    assert_eq!(sub.as_deref(), Some("22222222-aaaa-4bbb-8ccc-000000000002"));
    assert_eq!(cell.records, 2);
    assert_eq!(sketch(br#"{"resourceId":"/subscriptions/x"}"#), None);
    let no_sub = sketch(br#"{"time":"2026-11-05T02:00:06Z","resourceId":"/providers/x"}"#);
    assert_eq!(no_sub.map(|s| s.1), Some(None));
    // Laid out otherwise: the keys are looked for anywhere.
    let moved = br#"{"level":"Informational","resourceId":"/subscriptions/S1/x","time":"2026-11-05T02:00:06Z"}"#;
    assert_eq!(
        sketch(moved),
        Some((
            parse_time("2026-11-05T02:00:06Z").unwrap(),
            Some(&b"S1"[..])
        ))
    );
    let escaped = br#"{ "time": "2026-11-05T02:00:06Z", "resourceId": "/subscriptions/S\u0031/x"}"#;
    assert_eq!(sketch(escaped).map(|s| s.1), Some(None));
}

/// A role assignment's write is kept (JIT019 reads it); the evidence every record carries
/// (`roleAssignmentScope`) keeps nothing.
#[test]
fn role_assignment_writes_are_kept_and_their_evidence_word_is_not_a_reason() {
    let f = Prefilter::for_need(&Need::Jit).unwrap();
    let write = br#"{ "time": "2026-11-10T06:40:00Z", "resourceId": "/SUBSCRIPTIONS/S/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/X", "operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"}"#;
    let read = br#"{ "time": "2026-11-10T06:40:00Z", "resourceId": "/SUBSCRIPTIONS/S/RG/X", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", "identity": {"authorization": {"evidence": {"roleAssignmentScope": "/subscriptions/S", "roleAssignmentId": "a"}}}}"#;
    assert!(f.keeps(write));
    assert!(!f.keeps(read));
}

/// The hours and subscriptions of a filtered read (skipped lines sketched, kept ones
/// parsed) are those of reading every line, on the sample tenant's JSON Lines with lines
/// of other layouts, hours and subscriptions mixed in.
#[test]
fn a_filtered_read_counts_the_same_hours_as_a_full_one() {
    use crate::sources::{Batch, FileReport, detect};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let mut text = String::new();
    for entry in walkdir::WalkDir::new(dir.join("insights-activity-logs")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
            text.push('\n');
        }
    }
    for (hour, sub) in [(3, "44444444-0000-4000-8000-000000000004"), (4, "SUB-X")] {
        text.push_str(&format!(
            r#"{{"operationName":"Microsoft.Compute/virtualMachines/read","resourceId":"/subscriptions/{sub}/rg","time":"2026-11-06T0{hour}:10:00.5Z"}}"#
        ));
        text.push('\n');
        text.push_str(&format!(
            r#"{{ "time": "2026-11-06T0{hour}:20:00+00:00", "resourceId": "/SUBSCRIPTIONS/{sub}/RG", "operationName": "x"}}"#
        ));
        text.push('\n');
    }
    let hours = |filter: Option<&Prefilter>| {
        let mut batch = Batch::default();
        let mut report = FileReport::new("t.json".into(), String::new(), 0);
        detect::read_json_lines(text.as_bytes(), 1, &mut batch, &mut report, filter);
        (batch.finish().activity_hours, report.records_skipped)
    };
    let (all, none_skipped) = hours(None);
    let (filtered, skipped) = hours(Prefilter::for_need(&Need::Jit).as_ref());
    assert_eq!(none_skipped, 0);
    assert!(skipped > 40, "{skipped} lines skipped");
    assert!(all.height() > 10);
    assert!(all.equals_missing(&filtered), "{all}\n{filtered}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// The one-pass line end and escape agree with finding each on its own.
    #[test]
    fn line_ends_and_escapes_are_found_in_one_pass(
        data in proptest::collection::vec(proptest::sample::select(b"\n\\ua".to_vec()), 0..40),
        start in 0usize..40,
    ) {
        let start = start.min(data.len());
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let escaped = ESCAPE.find(&data[start..end]).is_some();
        proptest::prop_assert_eq!(line_end_and_escape(&data, start), (end, escaped));
    }
}

#[test]
fn runs_of_lines_count_as_each_line_would() {
    let line = |hour: u32, minute: u32, sub: &str| {
        format!(
            r#"{{ "time": "2026-11-05T{hour:02}:{minute:02}:00Z", "resourceId": "/SUBSCRIPTIONS/{sub}/RG"}}"#
        )
    };
    let mut lines = Vec::new();
    for i in 0..200u32 {
        let sub = [
            "22222222-AAAA-4BBB-8CCC-000000000002",
            "22222222-aaaa-4bbb-8ccc-000000000002",
            "33333333-AAAA-4BBB-8CCC-000000000003",
        ][(i / 13 % 3) as usize];
        lines.push(line(i / 40 % 3, (i * 7) % 60, sub));
    }
    lines.push("not json".to_string());
    let mut runs = Coverage::default();
    let mut counter = SkipCounter::default();
    let mut each = Coverage::default();
    for l in &lines {
        counter.count(&mut runs, l.as_bytes());
        if let Some((time, sub)) = sketch(l.as_bytes()) {
            let sub = sub.map(|s| {
                crate::sources::activity::canonical_subscription(std::str::from_utf8(s).unwrap())
            });
            each.add(time, sub, 1);
        }
    }
    counter.finish(&mut runs);
    let cells = |c: &Coverage| {
        c.cells
            .iter()
            .map(|(k, v)| (k.clone(), v.records, v.first, v.last))
            .collect::<Vec<_>>()
    };
    assert_eq!(cells(&runs), cells(&each));
    assert_eq!(runs.cells.values().map(|c| c.records).sum::<u64>(), 200);
    assert_eq!(runs.cells.len(), 6, "three hours, two subscriptions");
}
