//! The KQL `collect` and live `caller` send to Log Analytics or Data Explorer: the Activity
//! Log of one half-open time chunk, filtered on the engine to what jitaudit reads, and the
//! count per hour and subscription of what the filter left behind (so the report's coverage
//! checks still see every record). No I/O here.
//!
//! Read against: the `AzureActivity` columns in shared/reference/azure-formats.md 2c
//! (`TimeGenerated`, `OperationNameValue`, `ResourceId`, `Properties`, `Caller`, `Claims`,
//! `CorrelationId`, `SubscriptionId`); string literals as Microsoft's "The string data type"
//! page gives them (double quotes, backslash escapes); `datetime()` literals in ISO 8601.
//! Data Explorer tables exported from a workspace keep those columns; `--adx-table` may also
//! name a stored function that projects another schema onto them.

use chrono::{DateTime, SecondsFormat, Utc};

/// What rows a query selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every row of the chunk (`--activity all`).
    All,
    /// What jitaudit's rules, ledger and report read (`--activity jit`): see [`jit_filter`].
    Jit,
    /// One identity's records, by any of its names, the records that share a correlation id
    /// with them anywhere in `[from, to)`, and the JIT records (the caller view's ledger).
    Caller {
        names: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// A KQL string literal: double quotes, with the backslash and the quote escaped. Control
/// characters cannot be written in one and are refused by the caller of this (names only).
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `datetime()` literal, to the 100-nanosecond tick Kusto keeps.
pub fn datetime(t: DateTime<Utc>) -> String {
    format!(
        "datetime({})",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// `[start, end)`: the bounds are half-open, so a row exactly on a chunk's end belongs to the
/// next chunk only and no row is counted twice.
fn window(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "TimeGenerated >= {} and TimeGenerated < {}",
        datetime(start),
        datetime(end)
    )
}

/// The rows jitaudit reads, the same cut its byte prefilter makes on files
/// (`sources::fast::prefilter`): every JIT policy operation (write, delete, initiate, failures
/// included); NSG operations except changes to one security rule that JIT did not make (its
/// rules are named `...JITRule...` and described "... JIT Network Access rule ..."), since
/// only JIT's rule changes are shown by `caller` and whole-NSG writes feed the ledger; and
/// Azure Firewall writes, where JIT opens access on firewall-fronted VMs with a DNAT rule; and
/// role assignment writes and deletes (JIT019: a right granted, then used).
pub fn jit_filter() -> &'static str {
    "OperationNameValue has \"jitNetworkAccessPolicies\"\n    \
     or (OperationNameValue has \"networkSecurityGroups\"\n        \
     and (OperationNameValue !has \"securityRules\" or ResourceId contains \"jitrule\"\n            \
     or Properties contains \"jitrule\" or Properties contains \"jit network access\"))\n    \
     or OperationNameValue has \"azureFirewalls\"\n    \
     or OperationNameValue has \"roleAssignments\""
}

/// The names of one identity, matched in the columns where Azure writes them: `Caller` (a UPN
/// or an object id), the token's claims (object id, app id, UPN), the authorization evidence
/// and the request's properties.
fn names_filter(names: &[String]) -> String {
    let list = names
        .iter()
        .map(|n| literal(n))
        .collect::<Vec<_>>()
        .join(", ");
    let mut parts = vec![format!("Caller in~ ({list})")];
    for column in ["Claims", "Authorization", "Properties"] {
        for n in names {
            parts.push(format!("{column} contains {}", literal(n)));
        }
    }
    parts.join("\n    or ")
}

/// The Activity Log rows of `table` in `[start, end)` that `selection` asks for.
pub fn activity(
    table: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    selection: &Selection,
) -> String {
    let head = format!("{table}\n| where {}", window(start, end));
    match selection {
        Selection::All => head,
        Selection::Jit => format!("{head}\n| where {}", jit_filter()),
        Selection::Caller { names, from, to } => format!(
            "let mine = materialize({table}\n    | where {}\n    | where {}\n    | distinct CorrelationId);\n{head}\n| where {}\n    or CorrelationId in (mine)\n    or {}",
            window(*from, *to),
            names_filter(names),
            names_filter(names),
            jit_filter()
        ),
    }
}

/// Per UTC hour and subscription, the rows of `[start, end)` that `selection` leaves on the
/// engine: with the rows it sends, every record of the window is accounted for.
pub fn coverage(
    table: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    selection: &Selection,
) -> Option<String> {
    let left = match selection {
        Selection::All => return None,
        Selection::Jit => format!("not({})", jit_filter()),
        Selection::Caller { .. } => return None,
    };
    let [sub, hour, records, first, last] = crate::schema::COVERAGE_QUERY_COLUMNS;
    Some(format!(
        "{table}\n| where {}\n| where {left}\n| summarize {records} = count(), {first} = min(TimeGenerated), {last} = max(TimeGenerated) by {sub} = tolower(SubscriptionId), {hour} = bin(TimeGenerated, 1h)",
        window(start, end)
    ))
}

/// The query that finds an identity's other names (UPN, object id, app id) in `[from, to)`.
pub fn caller_names(table: &str, from: DateTime<Utc>, to: DateTime<Utc>, id: &str) -> String {
    let names = [id.to_string()];
    format!(
        "{table}\n| where {}\n| where {}\n| extend claims = parse_json(Claims)\n| summarize Records = count() by Caller, ObjectId = tostring(claims[\"http://schemas.microsoft.com/identity/claims/objectidentifier\"]), AppId = tostring(claims[\"appid\"]), Upn = tostring(claims[\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn\"])\n| take 100",
        window(from, to),
        names_filter(&names)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn literals_escape_the_quote_and_the_backslash() {
        assert_eq!(literal(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(literal("o'brien@contoso.com"), r#""o'brien@contoso.com""#);
        assert_eq!(literal("x\ny"), r#""x\ny""#);
    }

    #[test]
    fn chunks_are_half_open() {
        let q = activity("AzureActivity", t(0), t(6), &Selection::All);
        assert_eq!(
            q,
            "AzureActivity\n| where TimeGenerated >= datetime(2026-11-01T00:00:00Z) and TimeGenerated < datetime(2026-11-01T06:00:00Z)"
        );
    }

    #[test]
    fn the_jit_selection_and_its_coverage_are_complements() {
        let q = activity("AzureActivity", t(0), t(6), &Selection::Jit);
        assert!(q.ends_with(&format!("| where {}", jit_filter())));
        let c = coverage("AzureActivity", t(0), t(6), &Selection::Jit).unwrap();
        assert!(c.contains(&format!("| where not({})", jit_filter())));
        assert!(c.contains(
            "by SubscriptionId = tolower(SubscriptionId), HourStart = bin(TimeGenerated, 1h)"
        ));
        assert!(coverage("AzureActivity", t(0), t(6), &Selection::All).is_none());
    }

    #[test]
    fn a_caller_query_names_every_name_and_their_correlation_ids() {
        let s = Selection::Caller {
            names: vec!["bob@contoso.com".into(), "0a1b".into()],
            from: t(0),
            to: t(12),
        };
        let q = activity("AzureActivity", t(6), t(12), &s);
        assert!(q.starts_with("let mine = materialize(AzureActivity"));
        assert!(q.contains("Caller in~ (\"bob@contoso.com\", \"0a1b\")"));
        assert!(q.contains("Claims contains \"0a1b\""));
        assert!(q.contains("or CorrelationId in (mine)"));
        assert!(q.contains("TimeGenerated >= datetime(2026-11-01T00:00:00Z) and TimeGenerated < datetime(2026-11-01T12:00:00Z)"));
        assert!(q.contains("TimeGenerated >= datetime(2026-11-01T06:00:00Z)"));
    }
}
