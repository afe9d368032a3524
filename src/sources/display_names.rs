//! Localized operation names (the portal's CSV, old `AzureActivity.OperationName` rows) of the
//! operations jitaudit reasons about, mapped to their operation ids.

use crate::schema;

/// Localized operation names (portal CSV, old `AzureActivity.OperationName`) of the
/// operations jitaudit reasons about, mapped to their ids. "Initiate JIT Network Access
/// Policy" is Microsoft's own string; the others follow the portal's naming of the same
/// resource types.
pub const DISPLAY_NAMES: &[(&str, &str)] = &[
    (
        "Initiate JIT Network Access Policy",
        schema::ops::JIT_INITIATE,
    ),
    (
        "Create or Update JIT Network Access Policy",
        schema::ops::JIT_WRITE,
    ),
    (
        "Create or update JIT Network Access Policy",
        schema::ops::JIT_WRITE,
    ),
    ("Delete JIT Network Access Policy", schema::ops::JIT_DELETE),
    (
        "Create or Update Network Security Group",
        schema::ops::NSG_WRITE,
    ),
    ("Delete Network Security Group", schema::ops::NSG_DELETE),
    (
        "Create or Update Security Rule",
        schema::ops::NSG_RULE_WRITE,
    ),
    ("Delete Security Rule", schema::ops::NSG_RULE_DELETE),
    (
        "Create or Update Virtual Machine",
        "microsoft.compute/virtualmachines/write",
    ),
    (
        "Delete Virtual Machine",
        "microsoft.compute/virtualmachines/delete",
    ),
    (
        "Start Virtual Machine",
        "microsoft.compute/virtualmachines/start/action",
    ),
    (
        "Deallocate Virtual Machine",
        "microsoft.compute/virtualmachines/deallocate/action",
    ),
    (
        "Restart Virtual Machine",
        "microsoft.compute/virtualmachines/restart/action",
    ),
    (
        "Power Off Virtual Machine",
        "microsoft.compute/virtualmachines/poweroff/action",
    ),
    (
        "Create or Update Network Interface",
        "microsoft.network/networkinterfaces/write",
    ),
    (
        "Create or Update Public Ip Address",
        "microsoft.network/publicipaddresses/write",
    ),
    (
        "Create role assignment",
        "microsoft.authorization/roleassignments/write",
    ),
    (
        "Delete role assignment",
        "microsoft.authorization/roleassignments/delete",
    ),
];

/// The operation id of a localized operation name, matched ignoring case and spacing.
pub fn operation_for_display_name(name: &str) -> Option<&'static str> {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    };
    let wanted = norm(name);
    DISPLAY_NAMES
        .iter()
        .find(|(display, _)| norm(display) == wanted)
        .map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_map_to_ids() {
        assert_eq!(
            operation_for_display_name("initiate  JIT network access policy"),
            Some(schema::ops::JIT_INITIATE)
        );
        assert_eq!(operation_for_display_name("Something else"), None);
    }
}
