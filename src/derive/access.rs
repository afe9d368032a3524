//! Who can open ports: the `access` table, one row per role assignment that lets a principal
//! initiate JIT on a subscription's VMs, or grant itself that right, made from
//! `role_assignments` and `role_definitions` as Azure evaluates them:
//! - an action matches a permission's action pattern case-insensitively, `*` standing for any
//!   run of characters in any segment (`*`, `*/action`, `Microsoft.Security/*`);
//! - within one `permissions` block, `notActions` take away from that block's `actions`; a role
//!   allows what any of its blocks allows (a notAction is not a deny across roles or blocks);
//! - an assignment reaches the subscription its scope lies in, or, at a management group or the
//!   root, every subscription of the inventory (a subscription's listing returns the
//!   assignments it inherits, and the hierarchy itself is not read);
//! - a condition (ABAC) is recorded and not evaluated.
//!
//! Read against Microsoft's "Understand Azure role definitions" (Actions, NotActions,
//! wildcards) and the Authorization REST examples in tests/fixtures/microsoft.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use polars::prelude::DataFrame;
use serde_json::Value;

use crate::schema;
use crate::tables::{TableBuilder, bools, strs};

/// What initiating JIT access takes.
pub const INITIATE: &str = "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";
/// What granting a role takes.
pub const GRANT: &str = "Microsoft.Authorization/roleAssignments/write";

/// Owner and Contributor, by their built-in role ids (the same in every tenant).
const BROAD_ROLES: [&str; 2] = [
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
];
/// Action patterns that make a role broad for JIT: everything, every action, all of Defender
/// for Cloud, or every JIT policy operation.
const BROAD_ACTIONS: [&str; 4] = [
    "*",
    "*/action",
    "microsoft.security/*",
    "microsoft.security/locations/jitnetworkaccesspolicies/*",
];

/// Whether `pattern` (with `*` wildcards) matches `action`, ignoring case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !a.starts_with(first) || a.len() < first.len() + last.len() || !a.ends_with(last) {
        return false;
    }
    let mut rest = &a[first.len()..a.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// One `permissions` block: its actions and not-actions.
#[derive(Debug, Default, Clone)]
pub struct Block {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
}

/// The blocks of a role definition's `permissions` JSON.
pub fn blocks(permissions: &str) -> Vec<Block> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(permissions) else {
        return Vec::new();
    };
    let list = |v: &Value, key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    items
        .iter()
        .map(|b| Block {
            actions: list(b, "actions"),
            not_actions: list(b, "notActions"),
        })
        .collect()
}

/// Whether a role with these blocks allows `action`.
pub fn allows(blocks: &[Block], action: &str) -> bool {
    blocks.iter().any(|b| {
        b.actions.iter().any(|p| action_matches(p, action))
            && !b.not_actions.iter().any(|p| action_matches(p, action))
    })
}

/// Whether the role is broad for JIT (Owner, Contributor, or an action pattern of
/// [`BROAD_ACTIONS`] that allows initiating).
pub fn is_broad(key: &str, blocks: &[Block]) -> bool {
    BROAD_ROLES.contains(&key)
        || blocks.iter().any(|b| {
            b.actions
                .iter()
                .any(|a| BROAD_ACTIONS.contains(&a.to_ascii_lowercase().as_str()))
        }) && allows(blocks, INITIATE)
}

/// `root`, `management_group`, `subscription`, `resource_group` or `resource`, and the
/// subscription of the last three.
pub fn scope_level(scope: &str) -> (&'static str, Option<String>) {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] => ("root", None),
        [p, m, ..]
            if p.eq_ignore_ascii_case("providers")
                && m.eq_ignore_ascii_case("Microsoft.Management") =>
        {
            ("management_group", None)
        }
        [s, id] if s.eq_ignore_ascii_case("subscriptions") => {
            ("subscription", Some(id.to_ascii_lowercase()))
        }
        [s, id, r, _]
            if s.eq_ignore_ascii_case("subscriptions")
                && r.eq_ignore_ascii_case("resourceGroups") =>
        {
            ("resource_group", Some(id.to_ascii_lowercase()))
        }
        [s, id, ..] if s.eq_ignore_ascii_case("subscriptions") => {
            ("resource", Some(id.to_ascii_lowercase()))
        }
        _ => ("resource", None),
    }
}

/// The `access` table: for each assignment whose role can initiate or grant, a row per
/// subscription it reaches. `inventory` is every subscription the inputs know.
/// A group's members as Graph listed them: (object id, type, name).
type Members = HashMap<String, Vec<(String, String, Option<String>)>>;

fn members_of(group_members: &DataFrame) -> Result<Members> {
    let (group, member, kind, name) = (
        strs(group_members, schema::GROUP_ID)?,
        strs(group_members, schema::MEMBER_ID)?,
        strs(group_members, schema::MEMBER_TYPE)?,
        strs(group_members, schema::MEMBER_NAME)?,
    );
    let mut out: Members = HashMap::new();
    for i in 0..group_members.height() {
        let (Some(g), Some(m)) = (group.get(i), member.get(i)) else {
            continue;
        };
        // transitiveMembers lists nested groups' members too: the groups themselves hold no
        // right of their own here.
        let kind = match kind.get(i).unwrap_or("") {
            k if k.eq_ignore_ascii_case("user") => "User",
            k if k.eq_ignore_ascii_case("servicePrincipal") => "ServicePrincipal",
            _ => continue,
        };
        out.entry(g.to_string()).or_default().push((
            m.to_string(),
            kind.to_string(),
            name.get(i).map(str::to_string),
        ));
    }
    Ok(out)
}

pub fn build(
    assignments: &DataFrame,
    definitions: &DataFrame,
    group_members: &DataFrame,
    inventory: &BTreeSet<String>,
) -> Result<DataFrame> {
    let members = members_of(group_members)?;
    let mut roles: HashMap<String, (Option<String>, Vec<Block>)> = HashMap::new();
    let (key, name, perms) = (
        strs(definitions, schema::ROLE_DEFINITION_KEY)?,
        strs(definitions, schema::ROLE_NAME)?,
        strs(definitions, schema::PERMISSIONS)?,
    );
    for i in 0..definitions.height() {
        if let Some(k) = key.get(i) {
            roles.insert(
                k.to_string(),
                (
                    name.get(i).map(str::to_string),
                    blocks(perms.get(i).unwrap_or("[]")),
                ),
            );
        }
    }
    let col = |c: &str| strs(assignments, c);
    let (id, principal, ptype, pname, role, rname, scope, condition) = (
        col(schema::ASSIGNMENT_ID)?,
        col(schema::PRINCIPAL_ID)?,
        col(schema::PRINCIPAL_TYPE)?,
        col(schema::PRINCIPAL_NAME)?,
        col(schema::ROLE_DEFINITION_KEY)?,
        col(schema::ROLE_NAME)?,
        col(schema::SCOPE)?,
        col(schema::CONDITION)?,
    );
    let eligible = bools(assignments, schema::ELIGIBLE)?;
    let mut out = TableBuilder::new(&schema::ACCESS_TABLE);
    for i in 0..assignments.height() {
        let (Some(role_key), Some(scope_text)) = (role.get(i), scope.get(i)) else {
            continue;
        };
        // An assignment whose role the inputs do not define cannot be judged.
        let Some((defined_name, blocks)) = roles.get(role_key) else {
            continue;
        };
        let (can_initiate, can_grant) = (allows(blocks, INITIATE), allows(blocks, GRANT));
        if !can_initiate && !can_grant {
            continue;
        }
        let (level, sub) = scope_level(scope_text);
        let subs: Vec<String> = match sub {
            Some(s) => vec![s],
            None => inventory.iter().cloned().collect(),
        };
        let kind = ptype.get(i);
        let group = kind.is_some_and(|k| k.eq_ignore_ascii_case("Group"));
        let held = if eligible.get(i) == Some(true) {
            "eligible"
        } else if group {
            "group"
        } else {
            "direct"
        };
        // A group's right is each member's when Graph listed them, the group's when not.
        let who: Vec<(Option<&str>, Option<&str>, Option<&str>)> = match principal
            .get(i)
            .filter(|_| group)
            .and_then(|g| members.get(g))
        {
            Some(list) => list
                .iter()
                .map(|(id, k, n)| (Some(id.as_str()), Some(k.as_str()), n.as_deref()))
                .collect(),
            None => vec![(principal.get(i), kind, pname.get(i))],
        };
        let group_id = principal.get(i).filter(|_| group);
        for (s, (who_id, who_kind, who_name)) in
            subs.iter().flat_map(|s| who.iter().map(move |w| (s, *w)))
        {
            out.row()
                .str(schema::PRINCIPAL_ID, who_id)
                .str(schema::PRINCIPAL_TYPE, who_kind)
                .str(schema::PRINCIPAL_NAME, who_name)
                .str(schema::SUBSCRIPTION_ID, Some(s.as_str()))
                .str(schema::SCOPE, Some(scope_text))
                .str(schema::SCOPE_LEVEL, Some(level))
                .str(schema::ROLE_NAME, defined_name.as_deref().or(rname.get(i)))
                .str(schema::ROLE_DEFINITION_KEY, Some(role_key))
                .str(schema::HELD, Some(held))
                .bool(schema::CAN_INITIATE, Some(can_initiate))
                .bool(schema::CAN_GRANT, Some(can_grant))
                .bool(
                    schema::BROAD,
                    Some(can_initiate && is_broad(role_key, blocks)),
                )
                .str(schema::CONDITION, condition.get(i))
                .str(schema::ASSIGNMENT_ID, id.get(i))
                .str(schema::GROUP_ID, group_id);
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_in_any_segment_and_case_is_ignored() {
        assert!(action_matches("*", INITIATE));
        assert!(action_matches("*/action", INITIATE));
        assert!(action_matches("Microsoft.Security/*", INITIATE));
        assert!(action_matches(
            "microsoft.security/locations/*/initiate/action",
            INITIATE
        ));
        assert!(action_matches(INITIATE.to_uppercase().as_str(), INITIATE));
        assert!(!action_matches("*/read", INITIATE));
        assert!(!action_matches("Microsoft.Compute/*", INITIATE));
        assert!(!action_matches(
            "Microsoft.Security/locations/jitNetworkAccessPolicies/read",
            INITIATE
        ));
    }

    #[test]
    fn not_actions_subtract_within_a_block_only() {
        let contributor = blocks(
            r#"[{"actions":["*"],"notActions":["Microsoft.Authorization/*/Delete","Microsoft.Authorization/*/Write","Microsoft.Authorization/elevateAccess/Action"]}]"#,
        );
        assert!(allows(&contributor, INITIATE));
        assert!(!allows(&contributor, GRANT));
        let two = blocks(
            r#"[{"actions":["*"],"notActions":["Microsoft.Security/*"]},{"actions":["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"]}]"#,
        );
        assert!(
            allows(&two, INITIATE),
            "another block allows what the first takes away"
        );
        let uaa = blocks(
            r#"[{"actions":["*/read","Microsoft.Authorization/*","Microsoft.Support/*"],"notActions":[]}]"#,
        );
        assert!(allows(&uaa, GRANT) && !allows(&uaa, INITIATE));
    }

    #[test]
    fn broad_roles_and_the_narrow_custom_one() {
        let narrow = blocks(
            r#"[{"actions":["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action","Microsoft.Security/locations/jitNetworkAccessPolicies/read","Microsoft.Compute/virtualMachines/read"],"notActions":[]}]"#,
        );
        assert!(
            allows(&narrow, INITIATE) && !is_broad("c0ffee00-0000-4000-8000-000000000001", &narrow)
        );
        let security = blocks(r#"[{"actions":["Microsoft.Security/*"],"notActions":[]}]"#);
        assert!(is_broad("anything", &security));
        assert!(is_broad(BROAD_ROLES[0], &[]));
    }

    #[test]
    fn scopes_name_their_level_and_subscription() {
        assert_eq!(scope_level("/"), ("root", None));
        assert_eq!(
            scope_level("/providers/Microsoft.Management/managementGroups/root").0,
            "management_group"
        );
        assert_eq!(scope_level("/subscriptions/ABC").1.as_deref(), Some("abc"));
        assert_eq!(
            scope_level("/subscriptions/a/resourceGroups/rg").0,
            "resource_group"
        );
        assert_eq!(
            scope_level(
                "/subscriptions/a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v"
            )
            .0,
            "resource"
        );
    }
}
