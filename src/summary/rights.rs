//! The report's "Who can open ports": per subscription, every principal that can initiate JIT
//! or grant itself the right, how (roles, scopes, held directly, through a group, or eligible
//! through PIM), and how many requests it made in the window; and who made requests there
//! without a right the inputs show.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::tables::{Tables, bools, ints, strs};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RightRow {
    /// The UPN of a person where the inputs pair it with the object id, else the object id.
    pub principal: String,
    pub principal_type: String,
    /// Each role with where it is held: "Contributor at subscription", "JIT Requester at
    /// rg-prod-web (eligible)".
    pub how: Vec<String>,
    pub can_initiate: bool,
    pub can_grant: bool,
    /// Every right to initiate comes through a broad role.
    pub only_broad: bool,
    /// Only through PIM eligibility.
    pub only_eligible: bool,
    /// A group whose members the inputs do not list.
    pub through_group: bool,
    /// The groups a member holds its right through (Graph listed the members).
    pub groups: Vec<String>,
    /// A condition is attached (recorded, not evaluated).
    pub conditional: bool,
    pub requests: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriptionRights {
    pub subscription_id: String,
    pub name: Option<String>,
    pub principals: Vec<RightRow>,
    /// Requestors of the window with no right here in the inputs.
    pub requested_without_listed_right: Vec<String>,
}

/// `access` (as the rules read it, with `caller` and `requests_made`) per subscription.
pub fn rights(
    t: &Tables,
    access: &DataFrame,
    requests: &DataFrame,
) -> Result<Vec<SubscriptionRights>> {
    let col = |c: &str| strs(access, c);
    let (caller, kind, sub, scope, level, role, held, condition) = (
        col("caller")?,
        col(schema::PRINCIPAL_TYPE)?,
        col(schema::SUBSCRIPTION_ID)?,
        col(schema::SCOPE)?,
        col(schema::SCOPE_LEVEL)?,
        col(schema::ROLE_NAME)?,
        col(schema::HELD)?,
        col(schema::CONDITION)?,
    );
    let (initiate, grant, broad) = (
        bools(access, schema::CAN_INITIATE)?,
        bools(access, schema::CAN_GRANT)?,
        bools(access, schema::BROAD)?,
    );
    let made = ints(access, "requests_made")?;
    let group = strs(access, schema::GROUP_ID)?;
    let mut by_sub: BTreeMap<String, BTreeMap<String, RightRow>> = BTreeMap::new();
    for i in 0..access.height() {
        let (Some(s), Some(p)) = (sub.get(i), caller.get(i)) else {
            continue;
        };
        let row = by_sub
            .entry(s.to_string())
            .or_default()
            .entry(p.to_string())
            .or_insert_with(|| RightRow {
                principal: p.to_string(),
                principal_type: kind.get(i).unwrap_or("principal").to_string(),
                how: Vec::new(),
                can_initiate: false,
                can_grant: false,
                only_broad: true,
                only_eligible: true,
                through_group: false,
                groups: Vec::new(),
                conditional: false,
                requests: made.get(i).unwrap_or(0),
            });
        let h = held.get(i).unwrap_or("direct");
        let where_ = match level.get(i) {
            Some("subscription") => "subscription".to_string(),
            Some("root") => "the root".to_string(),
            _ => scope
                .get(i)
                .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
                .unwrap_or_default(),
        };
        let mut how = format!("{} at {where_}", role.get(i).unwrap_or("a role"));
        if h == "eligible" {
            how.push_str(" (eligible)");
        }
        if !row.how.contains(&how) {
            row.how.push(how);
        }
        let can = initiate.get(i) == Some(true);
        row.can_initiate |= can;
        row.can_grant |= grant.get(i) == Some(true);
        if can && h != "eligible" {
            row.only_broad &= broad.get(i) == Some(true);
        }
        row.only_eligible &= h == "eligible";
        row.through_group |= h == "group" && row.principal_type.eq_ignore_ascii_case("Group");
        if let Some(g) = group.get(i)
            && !row.principal_type.eq_ignore_ascii_case("Group")
            && !row.groups.iter().any(|x| x == g)
        {
            row.groups.push(g.to_string());
        }
        row.conditional |= condition.get(i).is_some_and(|c| !c.trim().is_empty());
    }
    // Who asked where, for those the rights above do not name.
    let named: BTreeSet<(String, String)> = by_sub
        .iter()
        .flat_map(|(s, rows)| {
            rows.keys()
                .map(move |p| (s.clone(), p.to_ascii_lowercase()))
        })
        .collect();
    let mut unlisted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let (who, rsub) = (
        strs(requests, schema::REQUESTOR)?,
        strs(requests, schema::SUBSCRIPTION_ID)?,
    );
    let listed_any = access.height() > 0;
    for (w, s) in who.iter().zip(rsub.iter()) {
        if let (Some(w), Some(s), true) = (w, s, listed_any) {
            let s = s.to_ascii_lowercase();
            let asked_here = made_here(&by_sub, &s, w);
            if !asked_here && !named.contains(&(s.clone(), w.to_ascii_lowercase())) {
                unlisted.entry(s).or_default().insert(w.to_string());
            }
        }
    }
    let names: BTreeMap<String, String> = strs(&t.subscriptions, schema::SUBSCRIPTION_ID)?
        .iter()
        .zip(strs(&t.subscriptions, schema::DISPLAY_NAME)?.iter())
        .filter_map(|(id, n)| Some((id?.to_ascii_lowercase(), n?.to_string())))
        .collect();
    let subs: BTreeSet<String> = by_sub.keys().chain(unlisted.keys()).cloned().collect();
    Ok(subs
        .into_iter()
        .map(|s| {
            let mut principals: Vec<RightRow> = by_sub
                .remove(&s)
                .unwrap_or_default()
                .into_values()
                .collect();
            principals.sort_by(|a, b| {
                (b.can_initiate, b.requests, &a.principal).cmp(&(
                    a.can_initiate,
                    a.requests,
                    &b.principal,
                ))
            });
            SubscriptionRights {
                name: names.get(&s).cloned(),
                requested_without_listed_right: unlisted
                    .remove(&s)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                subscription_id: s,
                principals,
            }
        })
        .collect())
}

/// Whether a principal listed on `sub` is the requestor (its requests were counted to it).
fn made_here(by_sub: &BTreeMap<String, BTreeMap<String, RightRow>>, sub: &str, who: &str) -> bool {
    by_sub.get(sub).is_some_and(|rows| {
        rows.values()
            .any(|r| r.principal.eq_ignore_ascii_case(who) && r.requests > 0)
    })
}
