//! Who can open ports: the `access` table, one row per role assignment that lets a principal
//! initiate JIT on a subscription's VMs, or grant itself that right, made from
//! `role_assignments` and `role_definitions` as Azure evaluates them:
//! - an action matches a permission's action pattern case-insensitively, `*` standing for any
//!   run of characters in any segment (`*`, `*/action`, `Microsoft.Security/*`);
//! - within one `permissions` block, `notActions` take away from that block's `actions`; a role
//!   allows what any of its blocks allows (a notAction is not a deny across roles or blocks);
//! - an assignment reaches the subscription its scope lies in; at a management group, the
//!   subscriptions of the inventory under it in the hierarchy (`management_groups`, nested
//!   groups followed), or, for a group the hierarchy does not hold, every subscription of the
//!   inventory (a subscription's listing returns the assignments it inherits), which the
//!   run notes; at the root, every subscription of the inventory;
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

/// Each management group (name, lower case) to the subscriptions under it, nested groups
/// followed, as the hierarchy lists them.
fn subscriptions_under(hierarchy: &DataFrame) -> Result<HashMap<String, BTreeSet<String>>> {
    let (child, kind, parent) = (
        strs(hierarchy, schema::CHILD_ID)?,
        strs(hierarchy, schema::CHILD_TYPE)?,
        strs(hierarchy, schema::PARENT_GROUP)?,
    );
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    let mut subs = Vec::new();
    for i in 0..hierarchy.height() {
        let (Some(c), Some(p)) = (child.get(i), parent.get(i)) else {
            continue;
        };
        parent_of.insert(c, p);
        if kind.get(i) == Some("subscription") {
            subs.push(c);
        }
    }
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for sub in subs {
        let mut at = sub;
        // Up to the top; a loop in a damaged listing ends when a group comes round again.
        let mut seen = BTreeSet::new();
        while let Some(&group) = parent_of.get(at) {
            if !seen.insert(group) {
                break;
            }
            out.entry(group.to_string())
                .or_default()
                .insert(sub.to_string());
            at = group;
        }
    }
    Ok(out)
}

/// The `access` table, and what the run should say about what it could not judge.
pub fn build(
    assignments: &DataFrame,
    definitions: &DataFrame,
    group_members: &DataFrame,
    hierarchy: &DataFrame,
    inventory: &BTreeSet<String>,
) -> Result<(DataFrame, Vec<String>)> {
    let members = members_of(group_members)?;
    let under = subscriptions_under(hierarchy)?;
    let mut undefined: BTreeSet<String> = BTreeSet::new();
    let mut assumed: BTreeSet<String> = BTreeSet::new();
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
            undefined.insert(id.get(i).unwrap_or(role_key).to_string());
            continue;
        };
        let (can_initiate, can_grant) = (allows(blocks, INITIATE), allows(blocks, GRANT));
        if !can_initiate && !can_grant {
            continue;
        }
        let (level, sub) = scope_level(scope_text);
        let subs: Vec<String> = match (sub, crate::normalize::management_group_name(scope_text)) {
            (Some(s), _) => vec![s],
            (None, Some(group)) if under.contains_key(&group) => {
                under[&group].intersection(inventory).cloned().collect()
            }
            (None, group) => {
                if let Some(group) = group {
                    assumed.insert(group);
                }
                inventory.iter().cloned().collect()
            }
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
    let mut notes = Vec::new();
    if !undefined.is_empty() {
        notes.push(format!(
            "{} role assignment(s) name a role the inputs do not define, so what they allow is not judged (e.g. {}): list the role definitions too (collect does; az role definition list)",
            undefined.len(),
            undefined.iter().next().map(String::as_str).unwrap_or("")
        ));
    }
    if !assumed.is_empty() {
        notes.push(format!(
            "role assignments at management group(s) {} are taken to reach every subscription of the inputs: the hierarchy was not read (collect --management-group lists it)",
            assumed.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok((out.finish(), notes))
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

    /// A management group's assignment reaches the subscriptions under it (nested groups
    /// followed) that the inputs know; a group the hierarchy does not hold reaches them all,
    /// and the run says so; a role the inputs do not define is said, not judged.
    #[test]
    fn management_groups_reach_what_the_hierarchy_puts_under_them() {
        let mut h = TableBuilder::new(&schema::MANAGEMENT_GROUPS);
        for (child, kind, parent) in [
            ("platform", "management_group", "root"),
            ("s1", "subscription", "root"),
            ("s2", "subscription", "platform"),
            ("s9", "subscription", "platform"),
        ] {
            h.row()
                .str(schema::CHILD_ID, Some(child))
                .str(schema::CHILD_TYPE, Some(kind))
                .str(schema::PARENT_GROUP, Some(parent));
        }
        let mut d = TableBuilder::new(&schema::ROLE_DEFINITIONS);
        d.row()
            .str(schema::ROLE_DEFINITION_KEY, Some("requester"))
            .str(schema::ROLE_NAME, Some("JIT Requester"))
            .str(
                schema::PERMISSIONS,
                Some(format!(r#"[{{"actions":["{INITIATE}"],"notActions":[]}}]"#)),
            );
        let mut a = TableBuilder::new(&schema::ROLE_ASSIGNMENTS);
        for (id, role, scope) in [
            (
                "a-root",
                "requester",
                "/providers/Microsoft.Management/managementGroups/Root",
            ),
            (
                "a-platform",
                "requester",
                "/providers/Microsoft.Management/managementGroups/platform",
            ),
            (
                "a-unknown",
                "requester",
                "/providers/Microsoft.Management/managementGroups/sandbox",
            ),
            ("a-undefined", "gone", "/subscriptions/s1"),
        ] {
            a.row()
                .str(schema::ASSIGNMENT_ID, Some(id))
                .str(schema::PRINCIPAL_ID, Some("p"))
                .str(schema::PRINCIPAL_TYPE, Some("User"))
                .str(schema::ROLE_DEFINITION_KEY, Some(role))
                .str(schema::SCOPE, Some(scope))
                .bool(schema::ELIGIBLE, Some(false));
        }
        let inventory: BTreeSet<String> = ["s1", "s2", "s3"].map(String::from).into();
        let (access, notes) = build(
            &a.finish(),
            &d.finish(),
            &TableBuilder::new(&schema::GROUP_MEMBERS).finish(),
            &h.finish(),
            &inventory,
        )
        .unwrap();
        let (id, sub) = (
            strs(&access, schema::ASSIGNMENT_ID).unwrap(),
            strs(&access, schema::SUBSCRIPTION_ID).unwrap(),
        );
        let reach = |assignment: &str| -> Vec<&str> {
            (0..access.height())
                .filter(|i| id.get(*i) == Some(assignment))
                .filter_map(|i| sub.get(i))
                .collect()
        };
        // s9 is under platform but not in the inputs; s3 is in the inputs but not under root.
        assert_eq!(reach("a-root"), ["s1", "s2"]);
        assert_eq!(reach("a-platform"), ["s2"]);
        assert_eq!(reach("a-unknown"), ["s1", "s2", "s3"]);
        assert!(reach("a-undefined").is_empty());
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("1 role assignment(s) name a role")
                && notes[0].contains("a-undefined")
        );
        assert!(notes[1].contains("sandbox") && !notes[1].contains("platform"));
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
