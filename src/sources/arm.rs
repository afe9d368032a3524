//! Azure Resource Manager resources: JIT policies (with their request history),
//! subscriptions, virtual machines, network interfaces and network security groups, each one
//! object of a list, read into their tables.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::json::{get, objects, path, singular_and_plural, text, text_at};
use super::{FileReport, Location, SourceFormat, rbac};
use crate::normalize::{self, id_key, name_of, parse_resource_id};
use crate::schema::{self, jit_rule};
use crate::sources::Batch;
use crate::sources::activity::canonical_subscription;

/// Which kind of ARM resource an object is, from its `type` or, when the list omits it (the
/// minimal VM list example has only `id` and `location`), its id.
pub fn kind_of(obj: &Map<String, Value>) -> Option<SourceFormat> {
    let ty = text_at(obj, "type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let id = text_at(obj, "id").unwrap_or_default().to_ascii_lowercase();
    let is = |t: &str, segment: &str| ty == t || id.contains(segment);
    if is(
        "microsoft.security/locations/jitnetworkaccesspolicies",
        "/jitnetworkaccesspolicies/",
    ) || path(obj, &["properties", "virtualMachines"]).is_some_and(|v| v.is_array())
    {
        return Some(SourceFormat::JitPolicies);
    }
    if ty == "microsoft.network/networksecuritygroups/securityrules"
        || id.contains("/securityrules/")
    {
        return Some(SourceFormat::SecurityRules);
    }
    if is(
        "microsoft.compute/virtualmachines",
        "/providers/microsoft.compute/virtualmachines/",
    ) {
        return Some(SourceFormat::VirtualMachines);
    }
    if is(
        "microsoft.network/networkinterfaces",
        "/providers/microsoft.network/networkinterfaces/",
    ) {
        return Some(SourceFormat::NetworkInterfaces);
    }
    // Microsoft Graph directory objects name their type this way.
    if text_at(obj, "@odata.type").is_some_and(|t| t.starts_with("#microsoft.graph.")) {
        return Some(SourceFormat::GroupMembers);
    }
    // A management group's descendants: nested groups and subscriptions by their type.
    if ty.starts_with("microsoft.management/managementgroups") {
        return Some(SourceFormat::ManagementGroupDescendants);
    }
    // Authorization: by type, or by the id's provider segment (`az role ... list` keeps both).
    if is(
        "microsoft.authorization/roleassignments",
        "/providers/microsoft.authorization/roleassignments/",
    ) {
        return Some(SourceFormat::RoleAssignments);
    }
    if is(
        "microsoft.authorization/roledefinitions",
        "/providers/microsoft.authorization/roledefinitions/",
    ) {
        return Some(SourceFormat::RoleDefinitions);
    }
    if is(
        "microsoft.authorization/roleeligibilityscheduleinstances",
        "/providers/microsoft.authorization/roleeligibilityscheduleinstances/",
    ) {
        return Some(SourceFormat::RoleEligibility);
    }
    if is(
        "microsoft.network/azurefirewalls",
        "/providers/microsoft.network/azurefirewalls/",
    ) {
        return Some(SourceFormat::AzureFirewalls);
    }
    if is(
        "microsoft.network/publicipaddresses",
        "/providers/microsoft.network/publicipaddresses/",
    ) {
        return Some(SourceFormat::PublicIpAddresses);
    }
    if is(
        "microsoft.network/networksecuritygroups",
        "/providers/microsoft.network/networksecuritygroups/",
    ) {
        return Some(SourceFormat::NetworkSecurityGroups);
    }
    let is_subscription_id =
        id.starts_with("/subscriptions/") && id.trim_end_matches('/').matches('/').count() == 2;
    if get(obj, "subscriptionId").is_some()
        && (is_subscription_id || get(obj, "displayName").is_some())
    {
        return Some(SourceFormat::Subscriptions);
    }
    None
}

/// Reads one resource of `format` into the batch, counting it in `report`.
pub fn read(
    format: SourceFormat,
    obj: &Map<String, Value>,
    batch: &mut Batch,
    report: &mut FileReport,
    at: Location,
) {
    let file = report.path.clone();
    let result = match format {
        SourceFormat::JitPolicies => policy(obj, batch, report, &file, at),
        SourceFormat::Subscriptions => subscription(obj, batch, &file),
        SourceFormat::VirtualMachines => vm(obj, batch, &file),
        SourceFormat::NetworkInterfaces => nic(obj, batch, &file),
        SourceFormat::NetworkSecurityGroups => nsg(obj, batch, &file),
        SourceFormat::PublicIpAddresses => public_ip(obj, batch, &file),
        SourceFormat::AzureFirewalls => firewall(obj, batch, &file),
        SourceFormat::RoleAssignments => rbac::role_assignment(obj, batch, &file, false),
        SourceFormat::RoleEligibility => rbac::role_assignment(obj, batch, &file, true),
        SourceFormat::RoleDefinitions => rbac::role_definition(obj, batch, &file),
        SourceFormat::GroupMembers => rbac::group_member(obj, batch, &file),
        SourceFormat::ManagementGroupDescendants => rbac::descendant(obj, batch, &file),
        SourceFormat::SecurityRules => lone_rule(obj, batch, &file),
        _ => Err("not an Azure resource jitaudit reads"),
    };
    match result {
        Ok(()) => report.used(),
        Err(reason) => report.reject(reason, at, None),
    }
}

type Outcome = Result<(), &'static str>;

fn policy(
    o: &Map<String, Value>,
    batch: &mut Batch,
    report: &mut FileReport,
    file: &str,
    at: Location,
) -> Outcome {
    let props = get(o, "properties")
        .and_then(Value::as_object)
        .ok_or("JIT policy has no properties")?;
    let vms = match get(props, "virtualMachines") {
        Some(Value::Array(vms)) => vms,
        _ => return Err("JIT policy has no virtualMachines"),
    };
    check_ports(vms)?;
    for request in objects(props, "requests") {
        if let Some(Value::Array(vms)) = get(request, "virtualMachines") {
            check_ports(vms)?;
        }
    }
    let id = text_at(o, "id");
    let parsed = id.as_deref().map(parse_resource_id).unwrap_or_default();
    let policy_key = id.as_deref().map(id_key);
    let name = text_at(o, "name").or_else(|| parsed.name.map(str::to_string));
    let location = text_at(o, "location").or_else(|| {
        let lower = id.as_deref()?.to_ascii_lowercase();
        let rest = &id.as_deref()?[lower.find("/locations/")? + "/locations/".len()..];
        rest.split('/').next().map(str::to_string)
    });
    let subscription = parsed.subscription.map(canonical_subscription);
    let state = text_at(props, "provisioningState");
    for vm in vms.iter().filter_map(Value::as_object) {
        let vm_id = text_at(vm, "id");
        for port in objects(vm, "ports") {
            let duration = text_at(port, "maxRequestAccessDuration");
            let seconds =
                duration
                    .as_deref()
                    .and_then(|d| match normalize::parse_iso_duration(d) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            report.note(format!("{at}: {e}"));
                            None
                        }
                    });
            let mut sources = singular_and_plural(
                port,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
            );
            if sources.is_empty() {
                // No source field: one row with a null source, so the port is still listed.
                sources.push(String::new());
            }
            for source in sources {
                batch
                    .policies
                    .row()
                    .str(schema::POLICY_ID, id.clone())
                    .str(schema::POLICY_KEY, policy_key.clone())
                    .str(schema::POLICY_NAME, name.clone())
                    .str(schema::SUBSCRIPTION_ID, subscription.clone())
                    .str(schema::RESOURCE_GROUP, parsed.resource_group)
                    .str(schema::LOCATION, location.clone())
                    .str(schema::VM_KEY, vm_id.as_deref().map(id_key))
                    .str(schema::VM_NAME, vm_id.as_deref().and_then(name_of))
                    .str(schema::VM_ID, vm_id.clone())
                    .int(schema::PORT, get(port, "number").and_then(Value::as_i64))
                    .str(schema::PROTOCOL, text_at(port, "protocol"))
                    .str(schema::ALLOWED_SOURCE, Some(source))
                    .str(schema::MAX_DURATION, duration.clone())
                    .int(schema::MAX_DURATION_SECONDS, seconds)
                    .str(schema::PROVISIONING_STATE, state.clone())
                    .str(schema::FIREWALL_IP, text_at(vm, "publicIpAddress"))
                    .str(schema::SOURCE_FILE, Some(file));
            }
        }
    }
    for request in objects(props, "requests") {
        policy_request(request, id.as_deref(), batch, report, file, at);
    }
    Ok(())
}

/// Every port of `vms` (`virtualMachines[].ports[]`) has a `number` that is a port: a whole
/// number from 0 to 65535. Anything else makes the policy a rejected record, with the reason,
/// rather than a row with a port that cannot be (or none).
fn check_ports(vms: &[Value]) -> Outcome {
    for vm in vms.iter().filter_map(Value::as_object) {
        for port in objects(vm, "ports") {
            match get(port, "number") {
                Some(n) if n.as_u64().is_some_and(|n| n <= 65535) => {}
                Some(n) if n.is_number() => {
                    return Err(
                        "JIT policy port number is not a port (a whole number from 0 to 65535)",
                    );
                }
                _ => return Err("JIT policy port has no number, or one that is not a number"),
            }
        }
    }
    Ok(())
}

/// One entry of `properties.requests[]`: a row per (VM, port). Entries are part of the policy
/// record; one without a start time is noted, not silently dropped.
fn policy_request(
    r: &Map<String, Value>,
    policy_id: Option<&str>,
    batch: &mut Batch,
    report: &mut FileReport,
    file: &str,
    at: Location,
) {
    let start = text_at(r, "startTimeUtc").and_then(|t| normalize::parse_time(&t));
    if start.is_none() {
        report.note(format!("{at}: a request in the policy's history has no valid startTimeUtc; it is listed with no time"));
    }
    for vm in objects(r, "virtualMachines") {
        let vm_id = text_at(vm, "id");
        for port in objects(vm, "ports") {
            let sources = singular_and_plural(
                port,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
            );
            batch
                .policy_requests
                .row()
                .str(schema::POLICY_ID, policy_id)
                .str(schema::POLICY_KEY, policy_id.map(id_key))
                .time(schema::REQUESTED_AT, start)
                .str(schema::REQUESTOR, text_at(r, "requestor"))
                .str(schema::JUSTIFICATION, text_at(r, "justification"))
                .str(schema::VM_KEY, vm_id.as_deref().map(id_key))
                .str(schema::VM_ID, vm_id.clone())
                .int(schema::PORT, get(port, "number").and_then(Value::as_i64))
                .str(schema::SOURCE_PREFIX, Some(sources.join(",")))
                .time(
                    schema::END_TIME,
                    text_at(port, "endTimeUtc").and_then(|t| normalize::parse_time(&t)),
                )
                .str(schema::STATUS, text_at(port, "status"))
                .str(schema::STATUS_REASON, text_at(port, "statusReason"))
                .int(
                    schema::MAPPED_PORT,
                    get(port, "mappedPort").and_then(Value::as_i64),
                )
                .str(schema::SOURCE_FILE, Some(file));
        }
    }
}

fn subscription(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "subscriptionId")
        .or_else(|| {
            text_at(o, "id").and_then(|i| parse_resource_id(&i).subscription.map(str::to_string))
        })
        .ok_or("subscription has no subscriptionId")?;
    batch
        .subscriptions
        .row()
        .str(schema::SUBSCRIPTION_ID, Some(canonical_subscription(&id)))
        .str(schema::DISPLAY_NAME, text_at(o, "displayName"))
        .str(schema::STATE, text_at(o, "state"))
        .str(schema::TENANT_ID, text_at(o, "tenantId"))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

fn ids_at(o: &Map<String, Value>, keys: &[&str]) -> Vec<String> {
    match path(o, keys) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_object().and_then(|i| text_at(i, "id")))
            .collect(),
        Some(Value::Object(one)) => text_at(&one, "id").into_iter().collect(),
        _ => Vec::new(),
    }
}

fn vm(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("virtual machine has no id")?;
    let parsed = parse_resource_id(&id);
    let nics: Vec<String> = ids_at(o, &["properties", "networkProfile", "networkInterfaces"])
        .iter()
        .map(|n| id_key(n))
        .collect();
    let tags = get(o, "tags").filter(|t| t.as_object().is_some_and(|m| !m.is_empty()));
    batch
        .vms
        .row()
        .str(schema::VM_KEY, Some(id_key(&id)))
        .str(
            schema::VM_NAME,
            text_at(o, "name").or_else(|| name_of(&id).map(str::to_string)),
        )
        .str(
            schema::SUBSCRIPTION_ID,
            parsed.subscription.map(canonical_subscription),
        )
        .str(schema::RESOURCE_GROUP, parsed.resource_group)
        .str(schema::VM_ID, Some(id.clone()))
        .str(schema::LOCATION, text_at(o, "location"))
        .str(
            schema::OS_TYPE,
            path(o, &["properties", "storageProfile", "osDisk", "osType"]).and_then(|v| text(&v)),
        )
        .str(schema::NIC_IDS, Some(nics.join(",")))
        .str(schema::TAGS, tags.map(Value::to_string))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// An Azure Firewall (Microsoft.Network/azureFirewalls, api-version 2023-09-01): the public IPs
/// of its `ipConfigurations`, and its classic DNAT rules (`natRuleCollections[].properties.rules[]`:
/// `name`, `sourceAddresses`, `destinationAddresses`, `destinationPorts`, `translatedAddress`,
/// `translatedPort`) as a JSON array, each with its collection's name; JIT's collections are
/// named `ASC-JIT...` or `MDC-JIT...` (azure-formats.md 4.1).
fn firewall(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("Azure Firewall has no id")?;
    let props = get(o, "properties")
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    let public: Vec<String> = objects(&props, "ipConfigurations")
        .iter()
        .filter_map(|c| path(c, &["properties", "publicIPAddress", "id"]))
        .filter_map(|v| text(&v))
        .map(|i| id_key(&i))
        .collect();
    let mut rules = Vec::new();
    for collection in objects(&props, "natRuleCollections") {
        let name = text_at(collection, "name");
        let inner = get(collection, "properties")
            .and_then(|p| p.as_object().cloned())
            .unwrap_or_default();
        for rule in objects(&inner, "rules") {
            let list = |k: &str| get(rule, k).cloned().unwrap_or(Value::Null);
            rules.push(serde_json::json!({
                "collection": name,
                "name": text_at(rule, "name"),
                "sources": list("sourceAddresses"),
                "destinations": list("destinationAddresses"),
                "ports": list("destinationPorts"),
                "translated_address": text_at(rule, "translatedAddress"),
                "translated_port": text_at(rule, "translatedPort"),
                "jit": name.as_deref().is_some_and(|n| {
                    let n = n.to_ascii_uppercase();
                    n.starts_with("ASC-JIT") || n.starts_with("MDC-JIT")
                }),
            }));
        }
    }
    let sub = parse_resource_id(&id)
        .subscription
        .map(|s| s.to_ascii_lowercase());
    batch
        .firewalls
        .row()
        .str(schema::FIREWALL_ID, Some(id.clone()))
        .str(schema::FIREWALL_KEY, Some(id_key(&id)))
        .str(schema::SUBSCRIPTION_ID, sub)
        .str(schema::PUBLIC_IP_IDS, Some(public.join(",")))
        .str(schema::NAT_RULES, Some(Value::Array(rules).to_string()))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// A public IP address (Microsoft.Network/publicIPAddresses, api-version 2023-09-01, as a list
/// or Resource Graph gives it): `properties.ipAddress` (absent while a dynamic address is not
/// allocated), `publicIPAllocationMethod`, `dnsSettings.fqdn`, `ipConfiguration.id`.
fn public_ip(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("public IP address has no id")?;
    let prop = |keys: &[&str]| {
        let mut full = vec!["properties"];
        full.extend_from_slice(keys);
        path(o, &full).and_then(|v| text(&v))
    };
    let sub = crate::normalize::parse_resource_id(&id)
        .subscription
        .map(|s| s.to_ascii_lowercase());
    batch
        .public_ips
        .row()
        .str(schema::PUBLIC_IP_ID, Some(id.clone()))
        .str(schema::PUBLIC_IP_KEY, Some(id_key(&id)))
        .str(schema::SUBSCRIPTION_ID, sub)
        .str(schema::IP_ADDRESS, prop(&["ipAddress"]))
        .str(schema::ALLOCATION, prop(&["publicIPAllocationMethod"]))
        .str(schema::FQDN, prop(&["dnsSettings", "fqdn"]))
        .str(schema::ATTACHED_TO, prop(&["ipConfiguration", "id"]))
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

fn nic(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("network interface has no id")?;
    let vm = path(o, &["properties", "virtualMachine", "id"]).and_then(|v| text(&v));
    let configs: Vec<Map<String, Value>> = match path(o, &["properties", "ipConfigurations"]) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|i| i.as_object().cloned())
            .collect(),
        _ => Vec::new(),
    };
    let mut private_ips = Vec::new();
    let mut public_ips = Vec::new();
    let mut subnets = Vec::new();
    for c in &configs {
        let p = get(c, "properties").and_then(Value::as_object);
        let Some(p) = p else { continue };
        private_ips.extend(text_at(p, "privateIPAddress"));
        public_ips.extend(
            path(p, &["publicIPAddress", "id"])
                .and_then(|v| text(&v))
                .map(|i| id_key(&i)),
        );
        subnets.extend(
            path(p, &["subnet", "id"])
                .and_then(|v| text(&v))
                .map(|i| id_key(&i)),
        );
    }
    batch
        .nics
        .row()
        .str(schema::NIC_KEY, Some(id_key(&id)))
        .str(schema::NIC_ID, Some(id))
        .str(schema::VM_KEY, vm.as_deref().map(id_key))
        .str(schema::VM_ID, vm)
        .str(schema::PRIVATE_IPS, Some(private_ips.join(",")))
        .str(schema::PUBLIC_IP_IDS, Some(public_ips.join(",")))
        .str(schema::SUBNET_IDS, Some(subnets.join(",")))
        .str(
            schema::NSG_ID,
            path(o, &["properties", "networkSecurityGroup", "id"])
                .and_then(|v| text(&v))
                .map(|i| id_key(&i)),
        )
        .str(schema::SOURCE_FILE, Some(file));
    Ok(())
}

/// The NSG a resource hangs off and where that NSG is attached.
struct NsgContext<'a> {
    nsg_id: &'a str,
    nsg_name: Option<String>,
    nics: String,
    subnets: String,
    file: &'a str,
}

fn nsg(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("network security group has no id")?;
    let props = get(o, "properties").and_then(Value::as_object);
    let empty = Map::new();
    let props = props.unwrap_or(&empty);
    let keys = |k: &str| {
        ids_at(props, &[k])
            .iter()
            .map(|i| id_key(i))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ctx = NsgContext {
        nsg_id: &id,
        nsg_name: text_at(o, "name").or_else(|| name_of(&id).map(str::to_string)),
        nics: keys("networkInterfaces"),
        subnets: keys("subnets"),
        file,
    };
    for rule in objects(props, "securityRules") {
        security_rule(rule, false, &ctx, batch);
    }
    for rule in objects(props, "defaultSecurityRules") {
        security_rule(rule, true, &ctx, batch);
    }
    Ok(())
}

/// A rule from a `securityRules` list, outside its NSG: the NSG id comes from the rule id and
/// the attachment is unknown.
fn lone_rule(o: &Map<String, Value>, batch: &mut Batch, file: &str) -> Outcome {
    let id = text_at(o, "id").ok_or("security rule has no id")?;
    let lower = id.to_ascii_lowercase();
    let cut = lower
        .find("/securityrules/")
        .or_else(|| lower.find("/defaultsecurityrules/"));
    let nsg_id = cut
        .map(|i| id[..i].to_string())
        .ok_or("security rule id names no NSG")?;
    let ctx = NsgContext {
        nsg_id: &nsg_id,
        nsg_name: name_of(&nsg_id).map(str::to_string),
        nics: String::new(),
        subnets: String::new(),
        file,
    };
    security_rule(o, lower.contains("/defaultsecurityrules/"), &ctx, batch);
    Ok(())
}

static JIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(SecurityCenter|MicrosoftDefenderForCloud)-JITRule([_-])")
        .expect("valid regex")
});
static JIT_DESCRIPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(ASC|MDC) JIT Network Access rule (created by an initiation request )?for policy '([^']+)' of VM '([^']+)'\.?$")
        .expect("valid regex")
});

/// How JIT named a rule: (`deny`|`allow`, `SecurityCenter`|`MicrosoftDefenderForCloud`).
/// `_` after the prefix marks the baseline deny rule, `-` a request's allow rule.
pub fn jit_kind(name: &str) -> Option<(&'static str, String)> {
    let c = JIT_NAME.captures(name)?;
    let kind = if &c[2] == "_" {
        jit_rule::DENY
    } else {
        jit_rule::ALLOW
    };
    Some((kind, c[1].to_string()))
}

/// The (policy, VM) a JIT rule description names.
pub fn jit_description(description: &str) -> Option<(String, String)> {
    let c = JIT_DESCRIPTION.captures(description.trim())?;
    Some((c[3].to_string(), c[4].to_string()))
}

fn security_rule(
    rule: &Map<String, Value>,
    is_default: bool,
    ctx: &NsgContext<'_>,
    batch: &mut Batch,
) {
    let empty = Map::new();
    let p = get(rule, "properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let name = text_at(rule, "name");
    let description = text_at(p, "description");
    let access = text_at(p, "access");
    let jit = name.as_deref().and_then(jit_kind);
    let described = description.as_deref().and_then(jit_description);
    // The name says JIT made it; the access confirms which of its two rules it is.
    let jit_rule = jit.as_ref().map(|(kind, _)| {
        match access.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("allow") => jit_rule::ALLOW,
            Some("deny") => jit_rule::DENY,
            _ => kind,
        }
    });
    let parsed = parse_resource_id(ctx.nsg_id);
    let attachment = match (ctx.nics.is_empty(), ctx.subnets.is_empty()) {
        (false, false) => "nic,subnet",
        (false, true) => "nic",
        (true, false) => "subnet",
        (true, true) => "none",
    };
    let join = |s: &str, pl: &str| singular_and_plural(p, s, pl).join(",");
    batch
        .nsg_rules
        .row()
        .str(schema::NSG_ID, Some(ctx.nsg_id))
        .str(schema::NSG_KEY, Some(id_key(ctx.nsg_id)))
        .str(schema::NSG_NAME, ctx.nsg_name.clone())
        .str(
            schema::SUBSCRIPTION_ID,
            parsed.subscription.map(canonical_subscription),
        )
        .str(schema::RESOURCE_GROUP, parsed.resource_group)
        .str(schema::RULE_ID, text_at(rule, "id"))
        .str(schema::RULE_NAME, name.clone())
        .int(
            schema::PRIORITY,
            get(p, "priority").and_then(|v| v.as_i64().or_else(|| text(v)?.parse().ok())),
        )
        .str(schema::DIRECTION, text_at(p, "direction"))
        .str(schema::ACCESS, access)
        .str(schema::PROTOCOL, text_at(p, "protocol"))
        .str(
            schema::SOURCE_PREFIXES,
            Some(join("sourceAddressPrefix", "sourceAddressPrefixes")),
        )
        .str(
            schema::SOURCE_PORT_RANGES,
            Some(join("sourcePortRange", "sourcePortRanges")),
        )
        .str(
            schema::DESTINATION_PORT_RANGES,
            Some(join("destinationPortRange", "destinationPortRanges")),
        )
        .str(
            schema::DESTINATION_PREFIXES,
            Some(join(
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
            )),
        )
        .str(schema::DESCRIPTION, description)
        .str(schema::ATTACHED_NIC_IDS, Some(ctx.nics.clone()))
        .str(schema::ATTACHED_SUBNET_IDS, Some(ctx.subnets.clone()))
        .str(schema::ATTACHMENT, Some(attachment))
        .bool(schema::IS_DEFAULT, Some(is_default))
        .str(schema::JIT_RULE, jit_rule)
        .str(schema::JIT_NAMING, jit.map(|(_, naming)| naming))
        .str(
            schema::JIT_POLICY_NAME,
            described.as_ref().map(|d| d.0.clone()),
        )
        .str(schema::JIT_VM_NAME, described.map(|d| d.1))
        .str(schema::SOURCE_FILE, Some(ctx.file));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jit_rule_names_old_and_new() {
        assert_eq!(
            jit_kind("SecurityCenter-JITRule_1170687618_62799A5740DE464DB71C4F619369BBAD"),
            Some((jit_rule::DENY, "SecurityCenter".into()))
        );
        assert_eq!(
            jit_kind("SecurityCenter-JITRule-1170687618-8C18BF8921F041989344B4F1E3A0C370"),
            Some((jit_rule::ALLOW, "SecurityCenter".into()))
        );
        assert_eq!(
            jit_kind(
                "MicrosoftDefenderForCloud-JITRule_-1151891693_545C5DBC675443D3BF179EFD1EF8254D"
            ),
            Some((jit_rule::DENY, "MicrosoftDefenderForCloud".into()))
        );
        assert_eq!(jit_kind("allow-ssh"), None);
    }

    #[test]
    fn jit_descriptions_name_policy_and_vm() {
        assert_eq!(
            jit_description("ASC JIT Network Access rule for policy 'default' of VM 'WIN'."),
            Some(("default".into(), "WIN".into()))
        );
        assert_eq!(
            jit_description(
                "MDC JIT Network Access rule created by an initiation request for policy 'default' of VM 'MyAccountVM'."
            ),
            Some(("default".into(), "MyAccountVM".into()))
        );
        assert_eq!(jit_description("Allow SSH from the office"), None);
    }
}
