//! What the rules on rights (JIT017-JIT020) need of `access` beyond the table: the name a
//! finding gives the principal (`caller`: the UPN for a person when any input pairs it with the
//! object id, the object id otherwise) and whether the principal made a JIT request on the
//! subscription in the window (`requested`, and how many: `requests_made`). One person, one identity: a principal's object id,
//! its UPN, and every caller the Activity Log's JIT records pair with that object id are the
//! same requestor.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use polars::prelude::*;

use super::columns::{col_bool, col_int, col_str};
use crate::schema;
use crate::tables::{Tables, strs};

/// `access` with `caller` and `requested`, against the window's `requests`.
pub fn access_for_rules(t: &Tables, requests: &DataFrame) -> Result<DataFrame> {
    let access = &t.access;
    let upns = upns_by_object_id(t)?;
    let mut asked: HashMap<(String, String), i64> = HashMap::new();
    let (who, sub) = (
        strs(requests, schema::REQUESTOR)?,
        strs(requests, schema::SUBSCRIPTION_ID)?,
    );
    for (w, s) in who.iter().zip(sub.iter()) {
        if let (Some(w), Some(s)) = (w, s) {
            *asked
                .entry((w.to_ascii_lowercase(), s.to_ascii_lowercase()))
                .or_default() += 1;
        }
    }
    let (id, kind, name, subs) = (
        strs(access, schema::PRINCIPAL_ID)?,
        strs(access, schema::PRINCIPAL_TYPE)?,
        strs(access, schema::PRINCIPAL_NAME)?,
        strs(access, schema::SUBSCRIPTION_ID)?,
    );
    let mut callers = Vec::with_capacity(access.height());
    let mut requested = Vec::with_capacity(access.height());
    let mut made = Vec::with_capacity(access.height());
    for i in 0..access.height() {
        let oid = id.get(i).unwrap_or("").to_ascii_lowercase();
        let mut names: BTreeSet<String> = BTreeSet::from([oid.clone()]);
        let named = name
            .get(i)
            .filter(|n| n.contains('@'))
            .map(str::to_ascii_lowercase);
        names.extend(named.clone());
        names.extend(upns.get(&oid).into_iter().flatten().cloned());
        let person = kind.get(i).is_some_and(|k| k.eq_ignore_ascii_case("User"));
        let upn = named.or_else(|| upns.get(&oid).and_then(|u| u.iter().next().cloned()));
        callers.push(Some(match (person, upn) {
            (true, Some(u)) => u,
            _ => oid.clone(),
        }));
        let s = subs.get(i).unwrap_or("").to_ascii_lowercase();
        let count: i64 = names
            .iter()
            .filter_map(|n| asked.get(&(n.clone(), s.clone())))
            .sum();
        requested.push(Some(count > 0));
        made.push(Some(count));
    }
    let mut out = access.clone();
    out.with_column(col_str("caller", callers))?;
    out.with_column(col_bool("requested", requested))?;
    out.with_column(col_int("requests_made", made))?;
    Ok(out)
}

/// Object id to the UPNs the Activity Log pairs with it, from the JIT records only: every
/// command reads those (a prefilter passes the others over), so the names do not depend on it.
pub fn upns_by_object_id(t: &Tables) -> Result<HashMap<String, BTreeSet<String>>> {
    let mut upns: HashMap<String, BTreeSet<String>> = HashMap::new();
    let (caller, object, operation) = (
        strs(&t.events, schema::CALLER)?,
        strs(&t.events, schema::OBJECT_ID)?,
        strs(&t.events, schema::OPERATION_ID)?,
    );
    for ((c, o), op) in caller.iter().zip(object.iter()).zip(operation.iter()) {
        let jit = op.is_some_and(|op| {
            op.as_bytes()
                .windows(24)
                .any(|w| w.eq_ignore_ascii_case(b"jitnetworkaccesspolicies"))
        });
        if let (Some(c), Some(o), true) = (c, o, jit)
            && c.contains('@')
        {
            upns.entry(o.to_ascii_lowercase())
                .or_default()
                .insert(c.to_ascii_lowercase());
        }
    }
    Ok(upns)
}
