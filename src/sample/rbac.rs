//! Who can open ports in the sample tenant: role definitions as `az role definition list`
//! prints them, production's role assignments as Resource Manager lists them (no names, as the
//! API gives none), development's as `az role assignment list --all` prints them (with names),
//! and a PIM eligibility on shared services as `roleEligibilityScheduleInstances` lists it.
//! Shapes read against Microsoft's Authorization REST examples (RoleAssignments_ListForScope,
//! GetRoleDefinitionById, GetRoleEligibilityScheduleInstancesByScope).
//!
//! Planted: carol holds only Contributor on production (JIT017); the deployment pipeline holds
//! the narrow JIT Requester role and never asks (JIT018); the break-glass account is Owner and
//! never asks (JIT017, JIT018); mallory is User Access Administrator on production (JIT020:
//! her own requests fail for want of the right). Traps: alice and bob hold the narrow role
//! (not JIT017) and use it (not JIT018); dave's Owner is only eligible through PIM (not JIT017);
//! the break-glass Owner can grant and initiate (not JIT020); the network team's role cannot
//! initiate at all. Groups: Graph lists the on-call group's members (their rights are theirs);
//! the ops-contractors group's members are unknown (reported as the group, JIT018).

use serde_json::{Value, json};

use super::events::{Event, role_write};
use super::story::{DAY, HOUR, MINUTE, Rng, START, Who};
use super::tenant::{AUTOMATION_OBJECT_ID, PEOPLE, SUBS, TENANT_ID};

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
/// The narrow custom role JIT017's recommendation names.
pub const JIT_REQUESTER: &str = "4a1e5c0d-7b2f-4c3e-9d8a-6f1b2c3d4e5f";
pub const NETWORK_OPERATOR: &str = "5b2f6d1e-8c3a-4d4f-8e9b-7a2c3d4e5f60";
/// Identities that appear only here.
pub const PIPELINE_OBJECT_ID: &str = "9a9a9a9a-0000-4000-8000-0000000000a9";
pub const BREAK_GLASS_OBJECT_ID: &str = "0b0b0b0b-0000-4000-8000-0000000000b0";
pub const ON_CALL_GROUP_ID: &str = "6c6c6c6c-0000-4000-8000-0000000000c6";
/// A group Graph was not asked about: its members are unknown.
pub const CONTRACTORS_GROUP_ID: &str = "7d7d7d7d-0000-4000-8000-0000000000d7";

const CONTRIBUTOR_NOT_ACTIONS: [&str; 4] = [
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
    "Microsoft.Blueprint/blueprintAssignments/write",
];

fn definition(guid: &str, name: &str, kind: &str, actions: &[&str], not_actions: &[&str]) -> Value {
    json!({
        "assignableScopes": ["/"],
        "description": format!("{name} (sample)"),
        "id": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{guid}", SUBS[0].id),
        "name": guid,
        "permissions": [{"actions": actions, "notActions": not_actions, "dataActions": [], "notDataActions": []}],
        "roleName": name,
        "roleType": kind,
        "type": "Microsoft.Authorization/roleDefinitions"
    })
}

/// `az role definition list` (flat, `roleName`, `roleType`).
pub fn definitions() -> Value {
    Value::Array(vec![
        definition(OWNER, "Owner", "BuiltInRole", &["*"], &[]),
        definition(
            CONTRIBUTOR,
            "Contributor",
            "BuiltInRole",
            &["*"],
            &CONTRIBUTOR_NOT_ACTIONS,
        ),
        definition(
            USER_ACCESS_ADMINISTRATOR,
            "User Access Administrator",
            "BuiltInRole",
            &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
            &[],
        ),
        definition(READER, "Reader", "BuiltInRole", &["*/read"], &[]),
        definition(
            JIT_REQUESTER,
            "JIT Requester",
            "CustomRole",
            &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
                "Microsoft.Security/locations/jitNetworkAccessPolicies/read",
                "Microsoft.Compute/virtualMachines/read",
                "Microsoft.Network/networkInterfaces/read",
            ],
            &[],
        ),
        definition(
            NETWORK_OPERATOR,
            "Network Operator",
            "CustomRole",
            &["Microsoft.Network/*"],
            &[],
        ),
    ])
}

fn role_id(sub: usize, guid: &str) -> String {
    format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        SUBS[sub].id
    )
}

/// mallory, User Access Administrator on production, grants dave JIT Requester on
/// rg-prod-sql at 06:40 on 10 November; he asks for sql-01 at 08:00 (JIT019). She grants alice
/// the role on rg-prod-web at 09:00 on 7 November; alice next asks in production 53 hours later
/// (not JIT019: past the 24 hours).
pub fn grants(rng: &mut Rng) -> Vec<Event> {
    let sub = format!("/subscriptions/{}", SUBS[0].id);
    let (mallory, alice, dave) = (&PEOPLE[4], &PEOPLE[0], &PEOPLE[3]);
    let mut out = role_write(
        rng,
        START + 8 * DAY + 6 * HOUR + 40 * MINUTE,
        &SUBS[0],
        &format!("{sub}/resourceGroups/rg-prod-sql"),
        dave.object_id,
        &role_id(0, JIT_REQUESTER),
        Who::Person(4),
        mallory.office_ip,
    );
    out.extend(role_write(
        rng,
        START + 5 * DAY + 9 * HOUR,
        &SUBS[0],
        &format!("{sub}/resourceGroups/rg-prod-web"),
        alice.object_id,
        &role_id(0, JIT_REQUESTER),
        Who::Person(4),
        mallory.office_ip,
    ));
    out
}

/// Production's assignments as Resource Manager lists them (`properties`, no names).
pub fn production() -> Value {
    let sub = format!("/subscriptions/{}", SUBS[0].id);
    let one = |n: u32, principal: &str, kind: &str, role: &str, scope: &str| {
        let name = format!("0a55e000-0000-4000-8000-{n:012}");
        json!({
            "properties": {"roleDefinitionId": role_id(0, role), "principalId": principal,
                           "principalType": kind, "scope": scope},
            "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{name}", scope.trim_end_matches('/')),
            "type": "Microsoft.Authorization/roleAssignments",
            "name": name
        })
    };
    let [alice, bob, carol, dave, mallory] = [0, 1, 2, 3, 4].map(|i| PEOPLE[i].object_id);
    let web = format!("{sub}/resourceGroups/rg-prod-web");
    json!({"value": [
        one(1, alice, "User", JIT_REQUESTER, &sub),
        one(2, bob, "User", JIT_REQUESTER, &web),
        one(3, carol, "User", CONTRIBUTOR, &sub),
        one(4, dave, "User", JIT_REQUESTER, &sub),
        one(5, mallory, "User", USER_ACCESS_ADMINISTRATOR, &sub),
        one(6, PIPELINE_OBJECT_ID, "ServicePrincipal", JIT_REQUESTER, &sub),
        one(7, BREAK_GLASS_OBJECT_ID, "User", OWNER, "/"),
        one(8, AUTOMATION_OBJECT_ID, "ServicePrincipal", READER, &sub),
        one(9, ON_CALL_GROUP_ID, "Group", JIT_REQUESTER, &sub),
        one(10, dave, "User", NETWORK_OPERATOR, &sub),
        // What mallory's grants (see `grants`) left behind.
        one(11, dave, "User", JIT_REQUESTER, &format!("{sub}/resourceGroups/rg-prod-sql")),
        one(12, alice, "User", JIT_REQUESTER, &web),
    ], "nextLink": null})
}

/// Development's assignments as `az role assignment list --all` prints them (flat, named).
pub fn development() -> Value {
    let sub = format!("/subscriptions/{}", SUBS[1].id);
    let one = |n: u32, person: usize, role: &str, role_name: &str| {
        let name = format!("0a55e000-0000-4000-8000-1000000000{n:02}");
        json!({
            "condition": null, "conditionVersion": null, "description": null,
            "id": format!("{sub}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            "name": name,
            "principalId": PEOPLE[person].object_id,
            "principalName": PEOPLE[person].upn,
            "principalType": "User",
            "roleDefinitionId": role_id(1, role),
            "roleDefinitionName": role_name,
            "scope": sub,
            "type": "Microsoft.Authorization/roleAssignments"
        })
    };
    let contractors = "0a55e000-0000-4000-8000-100000000004";
    json!([
        one(1, 1, JIT_REQUESTER, "JIT Requester"),
        one(2, 2, JIT_REQUESTER, "JIT Requester"),
        one(3, 4, JIT_REQUESTER, "JIT Requester"),
        {
            "condition": null, "conditionVersion": null, "description": null,
            "id": format!("{sub}/providers/Microsoft.Authorization/roleAssignments/{contractors}"),
            "name": contractors,
            "principalId": CONTRACTORS_GROUP_ID,
            "principalName": "ops-contractors",
            "principalType": "Group",
            "roleDefinitionId": role_id(1, JIT_REQUESTER),
            "roleDefinitionName": "JIT Requester",
            "scope": sub,
            "type": "Microsoft.Authorization/roleAssignments"
        },
    ])
}

/// The on-call group's members as Microsoft Graph lists them (`GET
/// /v1.0/groups/{id}/transitiveMembers`): alice, and the automation identity through a nested
/// group (listed too, and holding nothing of its own).
pub fn on_call_members() -> Value {
    let alice = &PEOPLE[0];
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
        "value": [
            {"@odata.type": "#microsoft.graph.user", "id": alice.object_id, "displayName": alice.name,
             "userPrincipalName": alice.upn, "mail": alice.upn},
            {"@odata.type": "#microsoft.graph.group", "id": "8e8e8e8e-0000-4000-8000-0000000000e8",
             "displayName": "on-call automation", "securityEnabled": true},
            {"@odata.type": "#microsoft.graph.servicePrincipal", "id": AUTOMATION_OBJECT_ID,
             "displayName": "jit-automation", "appId": super::tenant::AUTOMATION_APP_ID,
             "servicePrincipalType": "Application"}
        ]
    })
}

/// Shared services: dave may activate Owner, or the narrow role, through PIM.
pub fn shared_eligibility() -> Value {
    let sub = format!("/subscriptions/{}", SUBS[2].id);
    let dave = &PEOPLE[3];
    json!({"value": [{
        "properties": {
            "scope": sub,
            "roleDefinitionId": role_id(2, OWNER),
            "principalId": dave.object_id,
            "principalType": "User",
            "status": "Provisioned",
            "roleEligibilityScheduleId": format!("{sub}/providers/Microsoft.Authorization/RoleEligibilitySchedules/e1e1e1e1-0000-4000-8000-000000000001"),
            "memberType": "Direct",
            "expandedProperties": {
                "scope": {"id": sub, "displayName": SUBS[2].name, "type": "subscription"},
                "roleDefinition": {"id": role_id(2, OWNER), "displayName": "Owner", "type": "BuiltInRole"},
                "principal": {"id": dave.object_id, "displayName": dave.name, "email": dave.upn, "type": "User"}
            }
        },
        "name": "e1e1e1e1-0000-4000-8000-0000000000e1",
        "id": format!("{sub}/providers/Microsoft.Authorization/RoleEligibilityScheduleInstances/e1e1e1e1-0000-4000-8000-0000000000e1"),
        "type": "Microsoft.Authorization/RoleEligibilityScheduleInstances",
        "tenantId": TENANT_ID
    }, {
        "properties": {
            "scope": sub,
            "roleDefinitionId": role_id(2, JIT_REQUESTER),
            "principalId": dave.object_id,
            "principalType": "User",
            "status": "Provisioned",
            "memberType": "Direct",
            "expandedProperties": {
                "roleDefinition": {"id": role_id(2, JIT_REQUESTER), "displayName": "JIT Requester", "type": "CustomRole"},
                "principal": {"id": dave.object_id, "displayName": dave.name, "email": dave.upn, "type": "User"}
            }
        },
        "name": "e1e1e1e1-0000-4000-8000-0000000000e2",
        "id": format!("{sub}/providers/Microsoft.Authorization/RoleEligibilityScheduleInstances/e1e1e1e1-0000-4000-8000-0000000000e2"),
        "type": "Microsoft.Authorization/RoleEligibilityScheduleInstances"
    }], "nextLink": null})
}
