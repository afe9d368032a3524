//! Who can open ports, as the inputs say: role assignments (Resource Manager's list, `az role
//! assignment list`), PIM eligibility instances, role definitions, and the members of groups
//! Microsoft Graph lists. Read element by element, as `arm` dispatches them.

use serde_json::{Map, Value};

use super::Batch;
use super::json::{get, path, text, text_at};
use crate::normalize::{self, id_key};
use crate::schema;

/// Why an element was not read, as `arm` says it.
type Outcome = Result<(), &'static str>;

/// A field of an ARM resource's `properties`, or of the object itself: `az role ... list`
/// flattens the properties into the object.
fn prop_or_flat(o: &Map<String, Value>, key: &str) -> Option<Value> {
    path(o, &["properties", key]).or_else(|| get(o, key).cloned())
}

/// The key of a role definition: the GUID its id ends with, lower case (a definition is named
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}` or under a subscription).
pub fn role_key(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A role assignment (Resource Manager `roleAssignments` 2022-04-01: `properties.principalId`,
/// `principalType`, `roleDefinitionId`, `scope`, `condition`; `az role assignment list`: the
/// same flat, with `principalName` and `roleDefinitionName`), or a PIM eligibility instance
/// (`roleEligibilityScheduleInstances` 2020-10-01, whose `expandedProperties` name the
/// principal and the role). Read against Microsoft's RoleAssignments_ListForScope and
/// GetRoleEligibilityScheduleInstancesByScope examples.
pub(super) fn role_assignment(
    o: &Map<String, Value>,
    batch: &mut Batch,
    file: &str,
    eligible: bool,
) -> Outcome {
    let id = text_at(o, "id").ok_or("role assignment has no id")?;
    let field = |k: &str| prop_or_flat(o, k).and_then(|v| text(&v));
    let principal = field("principalId").ok_or("role assignment names no principal")?;
    let role = field("roleDefinitionId").ok_or("role assignment names no role definition")?;
    let scope = field("scope").ok_or("role assignment has no scope")?;
    let expanded = |keys: &[&str]| {
        let mut full = vec!["properties", "expandedProperties"];
        full.extend_from_slice(keys);
        path(o, &full).and_then(|v| text(&v))
    };
    let name = field("principalName")
        .or_else(|| expanded(&["principal", "email"]))
        .or_else(|| expanded(&["principal", "displayName"]));
    let role_name =
        field("roleDefinitionName").or_else(|| expanded(&["roleDefinition", "displayName"]));
    // A PIM instance that is not provisioned (revoked, expired) grants nothing.
    if eligible && field("status").is_some_and(|s| !s.eq_ignore_ascii_case("Provisioned")) {
        return Err("PIM eligibility that is not provisioned");
    }
    batch
        .role_assignments
        .row()
        .str(schema::ASSIGNMENT_ID, Some(id_key(&id)))
        .str(schema::PRINCIPAL_ID, Some(principal.to_ascii_lowercase()))
        .str(schema::PRINCIPAL_TYPE, field("principalType"))
        .str(schema::PRINCIPAL_NAME, name)
        .str(schema::ROLE_DEFINITION_KEY, Some(role_key(&role)))
        .str(schema::ROLE_NAME, role_name)
        .str(schema::SCOPE, Some(scope))
        .str(schema::CONDITION, field("condition"))
        .bool(schema::ELIGIBLE, Some(eligible))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// The group a Graph member page belongs to: the GUID after `groups/` in its path, where
/// `collect --graph` writes it (the page itself does not name the group).
fn group_of_path(file: &str) -> Option<String> {
    folder_after(file, "groups", normalize::is_guid)
}

/// The last folder of `file`'s path that follows a folder named `parent` and passes `valid`,
/// lower case.
fn folder_after(file: &str, parent: &str, valid: impl Fn(&str) -> bool) -> Option<String> {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    parts
        .windows(2)
        .rev()
        .find(|w| w[0].eq_ignore_ascii_case(parent) && valid(w[1]))
        .map(|w| w[1].to_ascii_lowercase())
}

/// A member of a group, from Microsoft Graph's `GET /v1.0/groups/{id}/transitiveMembers`
/// (`@odata.type` `#microsoft.graph.user`, `.servicePrincipal`, `.group`; `id`,
/// `userPrincipalName`, `appId`, `displayName`).
pub(super) fn group_member(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let group = group_of_path(file).ok_or(
        "a Microsoft Graph member list whose group its path does not name (collect writes them under graph/groups/<group id>/)",
    )?;
    let id = text_at(o, "id").ok_or("group member has no id")?;
    let kind =
        text_at(o, "@odata.type").map(|t| t.trim_start_matches("#microsoft.graph.").to_string());
    let name = text_at(o, "userPrincipalName")
        .or_else(|| text_at(o, "appId"))
        .or_else(|| text_at(o, "displayName"));
    batch
        .group_members
        .row()
        .str(schema::GROUP_ID, Some(group))
        .str(schema::MEMBER_ID, Some(id.to_ascii_lowercase()))
        .str(schema::MEMBER_TYPE, kind)
        .str(schema::MEMBER_NAME, name)
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// The management group whose descendants `collect` wrote to `file`
/// (`management-groups/<group>/descendants-page-N.json`).
fn management_group_of_path(file: &str) -> Option<String> {
    folder_after(file, "management-groups", |_| true)
}

/// One descendant of a management group (the management groups API's `GetDescendants`,
/// 2023-04-01, read against its example: `id` (`/providers/Microsoft.Management/
/// managementGroups/{name}` or `/subscriptions/{id}`), `type` (`Microsoft.Management/
/// managementGroups` or `.../managementGroups/subscriptions`), `properties.displayName`,
/// `properties.parent.id`): a nested group or a subscription, with its parent.
pub(super) fn descendant(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("management group descendant has no id")?;
    let parent = path(o, &["properties", "parent", "id"])
        .and_then(|v| text(&v))
        .and_then(|p| normalize::management_group_name(&p))
        .ok_or("management group descendant names no parent group")?;
    let (child, kind) = match normalize::management_group_name(&id) {
        Some(name) => (name, "management_group"),
        None => {
            let sub = normalize::parse_resource_id(&id)
                .subscription
                .ok_or("management group descendant is neither a group nor a subscription")?;
            (sub.to_ascii_lowercase(), "subscription")
        }
    };
    let display = path(o, &["properties", "displayName"]).and_then(|v| text(&v));
    batch
        .management_groups
        .row()
        .str(
            schema::MANAGEMENT_GROUP,
            management_group_of_path(file).or_else(|| Some(parent.clone())),
        )
        .str(schema::CHILD_ID, Some(child))
        .str(schema::CHILD_TYPE, Some(kind))
        .str(schema::PARENT_GROUP, Some(parent))
        .str(schema::DISPLAY_NAME, display)
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// A role definition (Resource Manager `roleDefinitions` 2022-04-01: `properties.roleName`,
/// `type`, `permissions[]`; `az role definition list`: flat, with `roleType`). Read against
/// Microsoft's GetRoleDefinitionById example.
pub(super) fn role_definition(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("role definition has no id")?;
    let permissions = prop_or_flat(o, "permissions").ok_or("role definition has no permissions")?;
    if !permissions.is_array() {
        return Err("role definition permissions are not a list");
    }
    let role_type = path(o, &["properties", "type"])
        .and_then(|v| text(&v))
        .or_else(|| text_at(o, "roleType"));
    batch
        .role_definitions
        .row()
        .str(schema::ROLE_DEFINITION_KEY, Some(role_key(&id)))
        .str(
            schema::ROLE_NAME,
            prop_or_flat(o, "roleName").and_then(|v| text(&v)),
        )
        .str(schema::ROLE_TYPE, role_type)
        .str(schema::PERMISSIONS, Some(permissions.to_string()))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}
