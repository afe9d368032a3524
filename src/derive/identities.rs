//! One identity's names, read from the tables: every caller, object id and app id the
//! Activity Log pairs with a name, for `caller` and for the loading that looks for them.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::schema;
use crate::tables::{Tables, strs};

/// Every identity the tables know, lower case, for matching and suggestions.
pub fn known_identities(t: &Tables) -> Result<BTreeSet<String>> {
    let mut all = BTreeSet::new();
    // Each value lower-cased into one buffer: a new string only for a new name.
    let mut lower = String::new();
    let columns = [
        (&t.events, schema::CALLER),
        (&t.events, schema::OBJECT_ID),
        (&t.events, schema::APP_ID),
        (&t.requests, schema::REQUESTOR),
        // The ledger's requestors come from these too; a load of a few event columns makes
        // no ledger, and still knows them.
        (&t.policy_requests, schema::REQUESTOR),
    ];
    for (df, col) in columns {
        for name in strs(df, col)?.iter().flatten() {
            lower.clear();
            lower.push_str(name);
            lower.make_ascii_lowercase();
            if !all.contains(lower.as_str()) {
                all.insert(lower.clone());
            }
        }
    }
    Ok(all)
}

/// The names of one identity: the id given plus every caller, object id and app id an
/// Activity Log record pairs with it. App ids are shared by every user of an app (the portal),
/// so only a service principal's app id joins the set.
pub fn aliases(t: &Tables, id: &str) -> Result<BTreeSet<String>> {
    Ok(aliases_seen(t, id)?.0)
}

/// [`aliases`], and whether any event names the identity.
pub fn aliases_seen(t: &Tables, id: &str) -> Result<(BTreeSet<String>, bool)> {
    let id = id.to_ascii_lowercase();
    let caller = strs(&t.events, schema::CALLER)?;
    let object = strs(&t.events, schema::OBJECT_ID)?;
    let app = strs(&t.events, schema::APP_ID)?;
    let kind = strs(&t.events, schema::CALLER_KIND)?;
    let mut set = BTreeSet::from([id.clone()]);
    let mut seen = false;
    let rows = caller
        .iter()
        .zip(object.iter())
        .zip(app.iter())
        .zip(kind.iter());
    for (((caller, object), app), kind) in rows {
        let names = [caller, object];
        let sp = kind == Some(schema::caller_kind::SERVICE_PRINCIPAL);
        let hit = names.iter().flatten().any(|n| n.eq_ignore_ascii_case(&id))
            || (sp && app.is_some_and(|a| a.eq_ignore_ascii_case(&id)));
        if hit {
            seen = true;
            let app = if sp { app } else { None };
            for name in names.into_iter().chain([app]).flatten() {
                // The set holds a handful of names: a new string only for a new one.
                if !matches(&set, Some(name)) {
                    set.insert(name.to_ascii_lowercase());
                }
            }
        }
    }
    Ok((set, seen))
}

/// Whether `value` is one of `names` (which are in lower case), in any case.
pub fn matches(names: &BTreeSet<String>, value: Option<&str>) -> bool {
    value.is_some_and(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)))
}
