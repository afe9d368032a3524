//! Role assignments written in the window (`Microsoft.Authorization/roleAssignments/write`),
//! for JIT019 (a right granted, then used): who was given which role where, by whom, when,
//! and whether the role lets them initiate JIT. One row per name the principal goes by (its
//! object id, and the UPNs the Activity Log's JIT records pair with it), so the SQL joins a
//! request by any of them.
//!
//! The request body is read as Resource Manager logs `PUT .../roleAssignments/{id}` on the
//! call's first event: `{"Id", "Properties": {"PrincipalId", "PrincipalType",
//! "RoleDefinitionId", "Scope", "Condition"}}` (keys in any case); the call counts when one of
//! its events succeeded.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use polars::prelude::*;

use crate::derive::access::{INITIATE, allows, blocks, is_broad};
use crate::normalize::format_time;
use crate::schema;
use crate::sources::json::{as_object, get, text_at};
use crate::tables::{TableBuilder, Tables, strs, times};

const DAY_NS: i64 = 86_400_000_000_000;
const ROLE_WRITE: &str = "microsoft.authorization/roleassignments/write";

/// The window's successful role assignment writes (`events` already cut to the window).
pub fn role_grants(t: &Tables, events: &DataFrame) -> Result<DataFrame> {
    let op = strs(events, schema::OPERATION_ID)?;
    let (time, caller, props, status, correlation, resource, sub) = (
        times(events, schema::TIME)?,
        strs(events, schema::CALLER)?,
        strs(events, schema::PROPERTIES)?,
        strs(events, schema::STATUS)?,
        strs(events, schema::CORRELATION_ID)?,
        strs(events, schema::RESOURCE_ID)?,
        strs(events, schema::SUBSCRIPTION_ID)?,
    );
    // Per call: its first event's time, body, caller and resource; whether it succeeded.
    struct Call {
        at: i64,
        by: Option<String>,
        body: Option<serde_json::Map<String, serde_json::Value>>,
        resource: Option<String>,
        sub: Option<String>,
        ok: bool,
    }
    let mut calls: HashMap<String, Call> = HashMap::new();
    for i in 0..events.height() {
        if op.get(i) != Some(ROLE_WRITE) {
            continue;
        }
        let (Some(at), Some(id)) = (time.get(i), correlation.get(i)) else {
            continue;
        };
        let body = props
            .get(i)
            .and_then(|p| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p).ok()
            })
            .and_then(|p| get(&p, "requestbody").and_then(as_object));
        let ok = status.get(i).is_some_and(|s| {
            s.eq_ignore_ascii_case("Succeeded") || s.eq_ignore_ascii_case("Success")
        });
        let call = calls.entry(id.to_string()).or_insert(Call {
            at,
            by: None,
            body: None,
            resource: None,
            sub: None,
            ok: false,
        });
        call.at = call.at.min(at);
        call.ok |= ok;
        call.by = call.by.take().or(caller.get(i).map(str::to_string));
        call.body = call.body.take().or(body);
        call.resource = call.resource.take().or(resource.get(i).map(str::to_string));
        call.sub = call.sub.take().or(sub.get(i).map(str::to_ascii_lowercase));
    }
    // Roles as the inputs define them.
    let (key, rname, perms) = (
        strs(&t.role_definitions, schema::ROLE_DEFINITION_KEY)?,
        strs(&t.role_definitions, schema::ROLE_NAME)?,
        strs(&t.role_definitions, schema::PERMISSIONS)?,
    );
    let mut roles = HashMap::new();
    for i in 0..t.role_definitions.height() {
        if let Some(k) = key.get(i) {
            let b = blocks(perms.get(i).unwrap_or("[]"));
            roles.insert(k.to_string(), (rname.get(i).map(str::to_string), b));
        }
    }
    let upns = super::rights::upns_by_object_id(t)?;
    let mut out = TableBuilder::new(&schema::ROLE_GRANTS);
    let mut ordered: Vec<&Call> = calls.values().filter(|c| c.ok).collect();
    ordered.sort_by_key(|c| (c.at, c.resource.clone()));
    for c in ordered {
        let Some(body) = &c.body else { continue };
        let p = get(body, "properties")
            .and_then(as_object)
            .unwrap_or_default();
        let (Some(principal), Some(role)) =
            (text_at(&p, "principalId"), text_at(&p, "roleDefinitionId"))
        else {
            continue;
        };
        let role_key = crate::sources::rbac::role_key(&role);
        let (role_name, can) = match roles.get(&role_key) {
            Some((name, b)) => (name.clone(), allows(b, INITIATE)),
            // Owner and Contributor can, wherever they are defined.
            None => (None, is_broad(&role_key, &[])),
        };
        let oid = principal.to_ascii_lowercase();
        let mut names: BTreeSet<String> = BTreeSet::from([oid.clone()]);
        names.extend(upns.get(&oid).into_iter().flatten().cloned());
        for name in names {
            out.row()
                .time("granted_at", Some(c.at))
                .time("granted_until", Some(c.at + DAY_NS))
                .str("granted_time_utc", Some(format_time(c.at)))
                .str("subscription_id", c.sub.as_deref())
                .str("principal_id", Some(oid.as_str()))
                .str("name", Some(name))
                .str(
                    "role_name",
                    Some(
                        role_name
                            .clone()
                            .unwrap_or_else(|| format!("role {role_key}")),
                    ),
                )
                .bool("can_initiate", Some(can))
                .str("granted_by", c.by.as_deref())
                .str("scope", text_at(&p, "scope"))
                .str("assignment", c.resource.as_deref());
        }
    }
    Ok(out.finish())
}
