//! The sample's Resource Manager snapshot, taken at the end of the window: subscriptions,
//! VMs, NICs, NSGs (with the rules JIT wrote and the ones people wrote) and JIT policies with
//! their request history, in the list shapes of sections 1 and 4-5 of the reference.

use serde_json::{Value, json};

use super::events::{ms_time7, nsg_id, nsg_name, policy_id, rule_number, vm_id};
use super::story::{DAY, Ms, Request, START};
use super::tenant::{self, FIREWALL_IP, SUBS, VMS, behind_firewall, firewall_id, mapped_port};

pub fn subscriptions() -> Value {
    let value: Vec<Value> = SUBS
        .iter()
        .map(|s| {
            json!({"id": format!("/subscriptions/{}", s.id), "subscriptionId": s.id, "tenantId": tenant::TENANT_ID,
                   "displayName": s.name, "state": "Enabled",
                   "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"},
                   "authorizationSource": "RoleBased", "managedByTenants": [], "tags": {"costCenter": "it-ops"}})
        })
        .collect();
    json!({"value": value, "nextLink": null})
}

fn nic_id(vm: usize) -> String {
    let v = &VMS[vm];
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkInterfaces/{}-nic",
        SUBS[v.sub].id, v.rg, v.name
    )
}

fn subnet_id(vm: usize) -> String {
    let v = &VMS[vm];
    let subnet = if v.subnet_nsg {
        "snet-legacy"
    } else {
        "default"
    };
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet-{}/subnets/{subnet}",
        SUBS[v.sub].id, v.rg, v.rg
    )
}

/// VMs of one subscription. The shared-services list uses the minimal shape of
/// `VirtualMachine_ListAll_MinimumSet_Gen.json` (id and location only).
pub fn virtual_machines(sub: usize) -> Value {
    let value: Vec<Value> = (0..VMS.len())
        .filter(|v| VMS[*v].sub == sub)
        .map(|vm| {
            let v = &VMS[vm];
            if sub == 2 {
                return json!({"location": "westeurope", "id": vm_id(vm)});
            }
            let env = ["prod", "dev", "shared"][sub];
            let os_config = if v.os == "Windows" { "windowsConfiguration" } else { "linuxConfiguration" };
            json!({
                "properties": {
                    "vmId": format!("{:08x}-0000-4000-8000-{:012x}", vm + 1, vm + 1),
                    "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                    "storageProfile": {"osDisk": {"osType": v.os, "name": format!("{}-osdisk", v.name), "createOption": "FromImage"}},
                    "osProfile": {"computerName": v.name, "adminUsername": "azureadmin", os_config: {"provisionVMAgent": true}},
                    "networkProfile": {"networkInterfaces": [{"id": nic_id(vm)}]},
                    "provisioningState": "Succeeded"
                },
                "type": "Microsoft.Compute/virtualMachines",
                "location": "westeurope",
                "tags": {"env": env, "owner": "platform-team"},
                "id": vm_id(vm),
                "name": v.name
            })
        })
        .collect();
    json!({"value": value})
}

pub fn network_interfaces() -> Value {
    let value: Vec<Value> = (0..VMS.len())
        .map(|vm| {
            let v = &VMS[vm];
            let mut ip = json!({"privateIPAddress": v.private_ip, "privateIPAllocationMethod": "Dynamic",
                                "subnet": {"id": subnet_id(vm)}, "primary": true, "provisioningState": "Succeeded"});
            if v.public_ip {
                ip["publicIPAddress"] = json!({"id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/publicIPAddresses/{}-pip", SUBS[v.sub].id, v.rg, v.name)});
            }
            let mut props = json!({"ipConfigurations": [{"name": "ipconfig1", "id": format!("{}/ipConfigurations/ipconfig1", nic_id(vm)), "properties": ip}],
                                   "virtualMachine": {"id": vm_id(vm)}, "primary": true, "provisioningState": "Succeeded"});
            if !v.subnet_nsg {
                props["networkSecurityGroup"] = json!({"id": nsg_id(vm)});
            }
            json!({"name": format!("{}-nic", v.name), "id": nic_id(vm), "type": "Microsoft.Network/networkInterfaces",
                   "location": "westeurope", "properties": props})
        })
        .collect();
    json!({"value": value})
}

fn rule(nsg: &str, name: &str, props: Value) -> Value {
    json!({"name": name, "id": format!("{nsg}/securityRules/{name}"), "etag": "W/\"00000000-0000-0000-0000-000000000001\"",
           "type": "Microsoft.Network/networkSecurityGroups/securityRules", "properties": props})
}

fn rule_props(
    source: &str,
    port: &str,
    dest: &str,
    access: &str,
    priority: i64,
    description: Option<String>,
) -> Value {
    let mut p = json!({"provisioningState": "Succeeded", "protocol": "*", "sourcePortRange": "*", "destinationPortRange": port,
        "sourceAddressPrefix": source, "destinationAddressPrefix": dest, "access": access, "priority": priority, "direction": "Inbound",
        "sourcePortRanges": [], "destinationPortRanges": [], "sourceAddressPrefixes": [], "destinationAddressPrefixes": []});
    if let Some(d) = description {
        p["description"] = json!(d);
    }
    p
}

fn defaults(nsg: &str) -> Vec<Value> {
    [
        (
            "AllowVnetInBound",
            "VirtualNetwork",
            "Allow",
            65000,
            "Allow inbound traffic from all VMs in VNET",
        ),
        (
            "AllowAzureLoadBalancerInBound",
            "AzureLoadBalancer",
            "Allow",
            65001,
            "Allow inbound traffic from azure load balancer",
        ),
        (
            "DenyAllInBound",
            "*",
            "Deny",
            65500,
            "Deny all inbound traffic",
        ),
    ]
    .iter()
    .map(|(name, source, access, priority, description)| {
        let mut r = rule(
            nsg,
            name,
            rule_props(
                source,
                "*",
                if *source == "VirtualNetwork" {
                    "VirtualNetwork"
                } else {
                    "*"
                },
                access,
                *priority,
                Some(description.to_string()),
            ),
        );
        r["id"] = json!(format!("{nsg}/defaultSecurityRules/{name}"));
        r["type"] = json!("Microsoft.Network/networkSecurityGroups/defaultSecurityRules");
        r
    })
    .collect()
}

/// NSGs of every subscription, with JIT's deny rules for each policy port, the allow rule of
/// the request still open at `snapshot`, and the standing rules people added.
pub fn network_security_groups(requests: &[Request], snapshot: Ms) -> Value {
    let value: Vec<Value> = (0..VMS.len())
        .map(|vm| {
            let v = &VMS[vm];
            let nsg = nsg_id(vm);
            // Old naming on two VMs: tenants still carry rules from before the May 2023 rename.
            let (prefix, desc) = if matches!(v.name, "web-01" | "sql-01") { ("SecurityCenter", "ASC") } else { ("MicrosoftDefenderForCloud", "MDC") };
            let mut rules = Vec::new();
            for (i, port) in v.jit_ports.iter().enumerate() {
                let name = format!("{prefix}-JITRule_{}_{:032X}", rule_number(vm), (vm as u128 + 1) * 0x1000 + i as u128);
                rules.push(rule(&nsg, &name, rule_props("*", &port.to_string(), v.private_ip, "Deny", 4096 - i as i64,
                    Some(format!("{desc} JIT Network Access rule for policy 'default' of VM '{}'.", v.name)))));
            }
            for r in requests.iter().filter(|r| r.vm == vm && !r.failed && r.at < snapshot && r.end() > snapshot) {
                for port in &r.ports {
                    let name = format!("{prefix}-JITRule-{}-{:032X}", rule_number(vm), r.at as u128 * 7 + *port as u128);
                    rules.push(rule(&nsg, &name, rule_props(r.granted_source(), &port.to_string(), v.private_ip, "Allow", 100,
                        Some(format!("{desc} JIT Network Access rule created by an initiation request for policy 'default' of VM '{}'.", v.name)))));
                }
            }
            match v.name {
                "monitor-01" => {
                    let mut p = rule_props("Internet", "", "*", "Allow", 300, Some("Monitoring agents and admin".into()));
                    p.as_object_mut().map(|o| o.remove("destinationPortRange"));
                    p["destinationPortRanges"] = json!(["443", "22"]);
                    rules.push(rule(&nsg, "allow-https-and-ssh", p));
                }
                "legacy-build-01" => rules.push(rule(&nsg, "allow-rdp-any", rule_props("*", "3389", "*", "Allow", 310, None))),
                "web-02" => rules.push(rule(&nsg, "allow-ssh-from-bastion", rule_props("10.3.1.4/32", "22", "*", "Allow", 200, Some("Bastion hop".into())))),
                "sql-01" => rules.push(rule(&nsg, "allow-sql-from-web", rule_props("10.1.1.0/24", "1433", "*", "Allow", 210, None))),
                _ => {}
            }
            let mut props = json!({"provisioningState": "Succeeded", "resourceGuid": format!("{:08x}-1111-4000-8000-000000000000", vm),
                                   "securityRules": rules, "defaultSecurityRules": defaults(&nsg)});
            if v.subnet_nsg {
                props["subnets"] = json!([{"id": subnet_id(vm)}]);
            } else {
                props["networkInterfaces"] = json!([{"id": nic_id(vm)}]);
            }
            json!({"name": nsg_name(vm), "id": nsg, "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope", "properties": props})
        })
        .collect();
    json!({"value": value})
}

/// The JIT policy of one resource group, with every granted request for its VMs in its history
/// (the shared-services policy has forgotten requests older than `forget_before`).
pub fn policy(
    sub: usize,
    rg: &str,
    requests: &[Request],
    snapshot: Ms,
    forget_before: Ms,
) -> Option<Value> {
    let vms: Vec<usize> = (0..VMS.len())
        .filter(|v| VMS[*v].sub == sub && VMS[*v].rg == rg && !VMS[*v].jit_ports.is_empty())
        .collect();
    let first = *vms.first()?;
    let policy_vms: Vec<Value> = vms
        .iter()
        .map(|vm| {
            let v = &VMS[*vm];
            let ports: Vec<Value> = v
                .jit_ports
                .iter()
                .map(|p| {
                    let mut port = json!({"number": p, "protocol": "*", "maxRequestAccessDuration": v.max_duration});
                    if v.name == "sql-01" {
                        port["allowedSourceAddressPrefixes"] = json!([v.policy_source, "198.18.0.0/24"]);
                    } else {
                        port["allowedSourceAddressPrefix"] = json!(v.policy_source);
                    }
                    port
                })
                .collect();
            let mut entry = json!({"id": vm_id(*vm), "ports": ports});
            if behind_firewall(*vm) {
                entry["publicIpAddress"] = json!(FIREWALL_IP);
            }
            entry
        })
        .collect();
    let history: Vec<Value> = requests
        .iter()
        .filter(|r| vms.contains(&r.vm) && !r.failed && r.at < snapshot && r.at >= forget_before)
        .map(|r| {
            let open = r.end() > snapshot;
            let ports: Vec<Value> = r
                .ports
                .iter()
                .map(|p| {
                    let mut port = json!({"number": p, "allowedSourceAddressPrefix": r.granted_source(), "endTimeUtc": ms_time7(r.end()),
                                "status": if open { "Initiated" } else { "Revoked" }, "statusReason": if open { "UserRequested" } else { "Expired" }});
                    if behind_firewall(r.vm) {
                        port["mappedPort"] = json!(mapped_port(r.vm, *p));
                    }
                    port
                })
                .collect();
            let mut entry = json!({"virtualMachines": [{"id": vm_id(r.vm), "ports": ports}], "startTimeUtc": ms_time7(r.at + 1000), "requestor": r.who.caller()});
            if let Some(j) = &r.justification {
                entry["justification"] = json!(j);
            }
            entry
        })
        .collect();
    Some(json!({
        "kind": "Basic",
        "properties": {"virtualMachines": policy_vms, "requests": history, "provisioningState": "Succeeded"},
        "id": policy_id(first),
        "name": "default",
        "type": "Microsoft.Security/locations/jitNetworkAccessPolicies",
        "location": "westeurope"
    }))
}

/// The shared services' Azure Firewall (Microsoft.Network/azureFirewalls 2023-09-01): its public
/// IP, a DNAT rule published by hand, and the rules JIT wrote (collection `MDC-JIT-...`) for the
/// requests still open when the snapshot is taken.
pub fn azure_firewalls(requests: &[Request], snapshot: Ms) -> Value {
    let rg = format!("/subscriptions/{}/resourceGroups/rg-shared", SUBS[2].id);
    let mut collections = vec![
        json!({"name": "publish-monitoring", "properties": {"priority": 300, "action": {"type": "Dnat"}, "rules": [
        {"name": "grafana", "protocols": ["TCP"], "sourceAddresses": ["203.0.113.0/24"], "destinationAddresses": [FIREWALL_IP],
         "destinationPorts": ["443"], "translatedAddress": "10.3.1.5", "translatedPort": "443"}]}}),
    ];
    for r in requests
        .iter()
        .filter(|r| behind_firewall(r.vm) && !r.failed && r.at < snapshot && r.end() > snapshot)
    {
        let v = &VMS[r.vm];
        for p in &r.ports {
            let name = format!("MDC-JIT-{}-{p}", v.name);
            collections.push(json!({"name": name, "properties": {"priority": 100, "action": {"type": "Dnat"}, "rules": [
                {"name": format!("{name}-1"), "protocols": ["TCP"], "sourceAddresses": [r.granted_source()],
                 "destinationAddresses": [FIREWALL_IP], "destinationPorts": [mapped_port(r.vm, *p).to_string()],
                 "translatedAddress": v.private_ip, "translatedPort": p.to_string()}]}}));
        }
    }
    json!({"value": [{
        "name": "fw-hub",
        "id": firewall_id(),
        "type": "Microsoft.Network/azureFirewalls",
        "location": "westeurope",
        "properties": {
            "provisioningState": "Succeeded",
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "threatIntelMode": "Alert",
            "ipConfigurations": [{"name": "azureFirewallIpConfiguration", "properties": {
                "privateIPAddress": "10.3.0.4",
                "publicIPAddress": {"id": format!("{rg}/providers/Microsoft.Network/publicIPAddresses/fw-hub-pip")},
                "subnet": {"id": format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet-shared/subnets/AzureFirewallSubnet")}}}],
            "natRuleCollections": collections,
            "applicationRuleCollections": [],
            "networkRuleCollections": []
        }
    }], "nextLink": null})
}

/// The start of the window plus `days`: when the snapshot is taken.
pub fn snapshot_time(days: u32) -> Ms {
    START + days as i64 * DAY
}
