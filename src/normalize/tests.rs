//! Resource ids taken apart, remembered and made keys; statuses, levels, durations and GUIDs.

use proptest::strategy::Strategy;

use super::*;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// An id is taken apart at its slashes, however many (empty segments are none), and
    /// however long it is; its subscription alone is the one it is taken apart for.
    #[test]
    fn resource_ids_split_at_every_slash(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "", "subscriptions", "SUBSCRIPTIONS", "s1", "resourceGroups", "rg",
                "providers", "Microsoft.Compute", "virtualMachines", "vm-é", "PROVIDERS",
                "resourcegroupz", "subscription", "providerss",
            ]),
            0..48,
        ),
        lead in proptest::bool::ANY,
    ) {
        let id = format!("{}{}", if lead { "/" } else { "" }, parts.join("/"));
        let segments: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        let after = |key: &str| {
            let i = segments.iter().position(|p| p.eq_ignore_ascii_case(key))?;
            segments.get(i + 1).copied()
        };
        let r = parse_resource_id(&id);
        proptest::prop_assert_eq!(r.subscription, after("subscriptions"));
        proptest::prop_assert_eq!(subscription_of(&id), r.subscription);
        proptest::prop_assert_eq!(r.resource_group, after("resourcegroups"));
        let last_provider = segments.iter().rposition(|p| p.eq_ignore_ascii_case("providers"));
        // The namespace and every other segment after it: `ns/type[/subtype...]`.
        let resource_type = last_provider
            .map(|i| &segments[i + 1..])
            .filter(|rest| !rest.is_empty())
            .map(|rest| {
                let types = rest.iter().skip(1).step_by(2).copied();
                std::iter::once(rest[0]).chain(types).collect::<Vec<_>>().join("/")
            });
        proptest::prop_assert_eq!(r.resource_type.as_deref(), resource_type.as_deref());
        // The name: the last segment after `providers` when it ends a `type/name` pair;
        // without `providers`, a subscription's own id names the subscription.
        let name = match last_provider {
            Some(i) => {
                let rest = &segments[i + 1..];
                (rest.len() >= 3 && rest.len() % 2 == 1).then(|| rest[rest.len() - 1])
            }
            None if after("resourcegroups").is_none() => after("subscriptions"),
            None => None,
        };
        proptest::prop_assert_eq!(r.name, name);
        // Found again in a memory of ids taken apart, from another copy of the id (as the
        // next line's is), the parts are the same, and borrowed from that copy where they
        // were from the first.
        let mut ids = IdParts::default();
        let first = ids.of(&id);
        let again = id.clone();
        let found = ids.of(&again);
        let parts = (r.subscription, r.resource_group, r.resource_type.clone());
        proptest::prop_assert_eq!(&first, &parts);
        proptest::prop_assert_eq!(&found, &parts);
        let within = |part: Option<&str>| {
            part.is_none_or(|p| again.as_bytes().as_ptr_range().contains(&p.as_ptr()))
        };
        proptest::prop_assert!(within(found.0) && within(found.1));
        proptest::prop_assert_eq!(
            matches!(found.2, Some(Cow::Borrowed(_))),
            matches!(r.resource_type, Some(Cow::Borrowed(_)))
        );
    }

    /// `trim` answers what `str::trim` does, with white space of every kind at either end.
    #[test]
    fn trim_is_str_trim(s in "[ \t\r\n\u{a0}\u{3000}a-z\u{e9}!~]{0,12}") {
        proptest::prop_assert_eq!(trim(&s), s.trim());
    }
}

/// The memory of ids holds at most its limit, and an id forgotten is taken apart again.
#[test]
fn the_memory_of_ids_is_bounded() {
    let mut ids = IdParts::default();
    for n in 0..IdParts::LIMIT + 10 {
        let id = format!("/subscriptions/s{n}/resourceGroups/rg/providers/a.b/c/d");
        assert_eq!(ids.of(&id).0, Some(format!("s{n}").as_str()));
        assert!(ids.known.len() <= IdParts::LIMIT);
    }
    assert_eq!(ids.of("/subscriptions/s0/resourceGroups/x").1, Some("x"));
}

/// Ids that differ only where their hash does not look (here the resource group) take
/// each other's place in the memory, and each is taken apart as itself.
#[test]
fn ids_alike_where_hashed_are_told_apart() {
    let id = |group: &str| {
        format!(
            "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000001/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/web-01"
        )
    };
    let (a, b) = (id("rg-aaaa"), id("rg-bbbb"));
    assert_eq!(
        crate::bytes::sampled_hash(a.as_bytes()),
        crate::bytes::sampled_hash(b.as_bytes())
    );
    let mut ids = IdParts::default();
    for _ in 0..3 {
        assert_eq!(ids.of(&a).1, Some("rg-aaaa"));
        assert_eq!(ids.of(&b).1, Some("rg-bbbb"));
    }
}

#[test]
fn statuses_and_levels_have_one_spelling() {
    for (raw, want) in [
        ("Success", "Succeeded"),
        ("Succeeded", "Succeeded"),
        ("Start", "Started"),
        ("In Progress", "InProgress"),
        ("failed", "Failed"),
        ("Weird", "Weird"),
    ] {
        assert_eq!(normalize_status(raw).as_deref(), Some(want), "{raw}");
    }
    assert_eq!(
        normalize_level("Information").as_deref(),
        Some("Informational")
    );
    assert_eq!(
        normalize_level("Informational").as_deref(),
        Some("Informational")
    );
    // Every level in any case, as the search in any case has it.
    for spelling in [
        "Information",
        "INFORMATIONAL",
        "info",
        "Warning",
        "warning",
        "Error",
        "Critical",
        "Verbose",
        "VERBOSE",
        " Error ",
        "Debug",
    ] {
        let want = match spelling.trim().to_ascii_lowercase().as_str() {
            "information" | "informational" | "info" => "Informational",
            "warning" => "Warning",
            "error" => "Error",
            "critical" => "Critical",
            "verbose" => "Verbose",
            _ => spelling.trim(),
        };
        assert_eq!(
            normalize_level(spelling).as_deref(),
            Some(want),
            "{spelling}"
        );
    }
    assert_eq!(normalize_status(""), None);
    assert_eq!(
        normalize_status("Suc\u{b}ceeded_ ").as_deref(),
        Some("Succeeded")
    );
    assert_eq!(
        normalize_status("Succeeded\u{a0}x").as_deref(),
        Some("Succeeded\u{a0}x")
    );
    assert_eq!(
        normalize_status("In\u{2003}Progress").as_deref(),
        Some("InProgress")
    );
}

proptest::proptest! {
    /// The status folded on the stack is the status folded through strings, as before.
    #[test]
    fn statuses_fold_as_through_strings(
        raw in proptest::prop_oneof![
            "[ _\t\u{b}\u{a0}\u{2003}sSuUcCeEdDfFaAiIlLnNpPrRoOgGx]{0,30}",
            // The spellings taken as they are, and others near them.
            proptest::sample::select(vec![
                "Succeeded", "Started", "Failed", "Accepted", "InProgress", "Active",
                "Resolved", "Updated", "Canceled", "Cancelled", "succeeded", " Failed ",
                "In Progress", "ACTIVE", "Success", "Start", "Failure", "Fail", "Canceled\u{a0}",
            ])
            .prop_map(String::from),
        ],
    ) {
        let t = raw.trim();
        let reference = (!t.is_empty()).then(|| {
            let folded: String = t
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '_')
                .collect();
            match folded.to_ascii_lowercase().as_str() {
                "started" | "start" => "Started",
                "succeeded" | "success" | "succeed" => "Succeeded",
                "failed" | "failure" | "fail" => "Failed",
                "accepted" => "Accepted",
                "inprogress" => "InProgress",
                "active" => "Active",
                "resolved" => "Resolved",
                "updated" => "Updated",
                "canceled" | "cancelled" => "Canceled",
                _ => t,
            }
            .to_string()
        });
        proptest::prop_assert_eq!(normalize_status(&raw).map(Cow::into_owned), reference);
    }
}

proptest::proptest! {
    /// The key made on the stack is the key made as a string, whatever the id's length
    /// (past the buffer's too), case, spaces, slashes and characters.
    #[test]
    fn a_key_made_in_place_is_the_key(
        id in "[ /aAzZ\u{e9}\u{c9}\u{130}0-9-]{0,40}",
        repeat in 1..12usize,
    ) {
        let id = id.repeat(repeat);
        let mut buf = [0; 256];
        let (made, key) = (id_key_in(&id, &mut buf), id_key(&id));
        proptest::prop_assert_eq!(made.as_ref(), key.as_str());
    }
}

#[test]
fn resource_ids_parse_in_any_case() {
    let id =
        "/SUBSCRIPTIONS/AAAA/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-01";
    let r = parse_resource_id(id);
    assert_eq!(r.subscription, Some("AAAA"));
    assert_eq!(r.resource_group, Some("RG1"));
    assert_eq!(
        r.resource_type.as_deref(),
        Some("MICROSOFT.COMPUTE/VIRTUALMACHINES")
    );
    assert_eq!(r.name, Some("VM-01"));
    let policy = "/subscriptions/s/resourceGroups/myRg1/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default";
    let r = parse_resource_id(policy);
    assert_eq!(
        r.resource_type.as_deref(),
        Some("Microsoft.Security/locations/jitNetworkAccessPolicies")
    );
    assert_eq!(r.name, Some("default"));
    assert_eq!(id_key(id), id.to_ascii_lowercase());
    // Longer than the segments kept on the stack: nested providers, the last one counts.
    let nested = format!(
        "{}{}/providers/Microsoft.Security/locations/weu/jitNetworkAccessPolicies/deep",
        "/subscriptions/s/resourceGroups/rg",
        "/providers/Microsoft.Compute/virtualMachines/vm".repeat(8)
    );
    let r = parse_resource_id(&nested);
    assert_eq!((r.subscription, r.resource_group), (Some("s"), Some("rg")));
    assert_eq!(
        r.resource_type.as_deref(),
        Some("Microsoft.Security/locations/jitNetworkAccessPolicies")
    );
    assert_eq!(r.name, Some("deep"));
    let exactly: String = (0..32).map(|i| format!("/p{i}")).collect();
    assert_eq!(parse_resource_id(&exactly), ResourceId::default());
    let many = format!("/x{exactly}/subscriptions/late");
    assert_eq!(parse_resource_id(&many).subscription, Some("late"));
}

#[test]
fn iso_durations() {
    assert_eq!(parse_iso_duration("PT3H"), Ok(10_800));
    assert_eq!(parse_iso_duration("PT1H30M"), Ok(5_400));
    assert_eq!(parse_iso_duration("P1D"), Ok(86_400));
    assert_eq!(parse_iso_duration("P1DT1S"), Ok(86_401));
    assert_eq!(parse_iso_duration("PT0.5H"), Ok(1_800));
    for bad in ["", "P", "PT", "3H", "PT3Hxyz", "PT30M1H", "P1M", "PTH"] {
        assert!(parse_iso_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn guids() {
    assert!(is_guid("f409edeb-4d29-44b5-9763-ee9348ad91bb"));
    assert!(!is_guid("rob@contoso.com"));
}
