//! The Activity Log events of the sample, shape-neutral: JIT requests (initiate calls and the
//! NSG rule writes Defender for Cloud makes for them), policy writes and deletes, and the
//! background activity of a working tenant that makes up most of any real log.

use serde_json::{Value, json};

use super::story::{DAY, HOUR, MINUTE, Ms, Request, Rng, START, Who};
use super::tenant::{self, SUBS, VMS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Started,
    Succeeded,
    Accepted,
    Failed,
}

/// One Activity Log event before it is written in any shape.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Ms,
    pub sub: &'static tenant::Sub,
    pub resource_id: String,
    pub operation: &'static str,
    pub display: &'static str,
    pub category: &'static str,
    pub status: Status,
    /// HTTP outcome: ("Accepted", 202), ("OK", 200), ("Forbidden", 403)...; empty for Started.
    pub sub_status: (&'static str, u16),
    pub who: Who,
    pub caller_ip: String,
    pub correlation: String,
    pub event_id: String,
    pub operation_guid: String,
    /// `properties` as REST writes them: string values (JSON held in strings).
    pub properties: Vec<(&'static str, Value)>,
    /// Resource Health events nest their payload in `eventProperties`.
    pub nested: Option<Value>,
}

pub const OP_INITIATE: &str =
    "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";
pub const OP_JIT_WRITE: &str = "Microsoft.Security/locations/jitNetworkAccessPolicies/write";
pub const OP_JIT_DELETE: &str = "Microsoft.Security/locations/jitNetworkAccessPolicies/delete";
pub const OP_RULE_WRITE: &str = "Microsoft.Network/networkSecurityGroups/securityRules/write";

pub fn vm_id(vm: usize) -> String {
    let v = &VMS[vm];
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
        SUBS[v.sub].id, v.rg, v.name
    )
}

pub fn policy_id(vm: usize) -> String {
    let v = &VMS[vm];
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default",
        SUBS[v.sub].id, v.rg
    )
}

pub fn nsg_name(vm: usize) -> String {
    if VMS[vm].subnet_nsg {
        "snet-legacy-nsg".to_string()
    } else {
        format!("{}-nsg", VMS[vm].name)
    }
}

pub fn nsg_id(vm: usize) -> String {
    let v = &VMS[vm];
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkSecurityGroups/{}",
        SUBS[v.sub].id,
        v.rg,
        nsg_name(vm)
    )
}

/// The number JIT puts in a VM's rule names (a signed 32-bit value, as observed).
pub fn rule_number(vm: usize) -> i64 {
    [
        1_170_687_618,
        -1_105_480_617,
        903_114_502,
        -1_151_891_693,
        655_201_947,
        1_402_557_310,
        -77_020_455,
        1_889_230_114,
        -402_118_876,
    ][vm]
}

pub fn ms_time7(at: Ms) -> String {
    let secs = at.div_euclid(1000);
    let ms = at.rem_euclid(1000);
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    format!("{}.{:03}0000Z", t.format("%Y-%m-%dT%H:%M:%S"), ms)
}

/// The VM a request is for, with what its events name: the story's VMs and a generated
/// estate's are both described this way.
pub struct Target {
    pub sub: &'static tenant::Sub,
    pub vm_id: String,
    pub vm_name: String,
    pub policy_id: String,
    pub nsg_id: String,
    pub rule_number: i64,
    pub private_ip: String,
    /// The Azure Firewall in front of the VM, if any: JIT writes a DNAT rule there as well as
    /// the allow rule in the NSG.
    pub firewall: Option<Firewall>,
}

/// An Azure Firewall in front of a target: its id, public address and the firewall port each
/// of the VM's ports is mapped to.
#[derive(Debug, Clone)]
pub struct Firewall {
    pub id: String,
    pub address: &'static str,
    pub mapped_ports: Vec<(u16, u32)>,
}

impl Target {
    /// The story's VM `vm`.
    pub fn story(vm: usize) -> Target {
        Target {
            sub: &SUBS[VMS[vm].sub],
            vm_id: vm_id(vm),
            vm_name: VMS[vm].name.to_string(),
            policy_id: policy_id(vm),
            nsg_id: nsg_id(vm),
            rule_number: rule_number(vm),
            private_ip: VMS[vm].private_ip.to_string(),
            firewall: tenant::behind_firewall(vm).then(|| Firewall {
                id: tenant::firewall_id(),
                address: tenant::FIREWALL_IP,
                mapped_ports: VMS[vm]
                    .jit_ports
                    .iter()
                    .map(|p| (*p, tenant::mapped_port(vm, *p)))
                    .collect(),
            }),
        }
    }
}

fn initiate_body(r: &Request, vm_id: &str) -> Value {
    let ports: Vec<Value> = r
        .ports
        .iter()
        .map(|p| {
            let mut port = json!({"number": p, "endTimeUtc": ms_time7(r.end())});
            if let Some(s) = &r.source {
                port["allowedSourceAddressPrefix"] = json!(s);
            }
            port
        })
        .collect();
    let mut body = json!({"virtualMachines": [{"id": vm_id, "ports": ports}]});
    if let Some(j) = &r.justification {
        body["justification"] = json!(j);
    }
    body
}

fn response_body(r: &Request, vm_id: &str) -> Value {
    let ports: Vec<Value> = r
        .ports
        .iter()
        .map(|p| {
            json!({"number": p, "allowedSourceAddressPrefix": r.granted_source(), "endTimeUtc": ms_time7(r.end()),
                   "status": "Initiating", "statusReason": "UserRequested"})
        })
        .collect();
    let mut body = json!({"virtualMachines": [{"id": vm_id, "ports": ports}],
                          "startTimeUtc": ms_time7(r.at + 1000), "requestor": r.who.caller()});
    if let Some(j) = &r.justification {
        body["justification"] = json!(j);
    }
    body
}

struct Base<'a> {
    rng: &'a mut Rng,
    correlation: String,
    operation_guid: String,
}

impl Base<'_> {
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        at: Ms,
        sub: &'static tenant::Sub,
        resource_id: String,
        operation: &'static str,
        display: &'static str,
        status: Status,
        sub_status: (&'static str, u16),
        who: Who,
        ip: &str,
        properties: Vec<(&'static str, Value)>,
    ) -> Event {
        Event {
            at,
            sub,
            resource_id,
            operation,
            display,
            category: "Administrative",
            status,
            sub_status,
            who,
            caller_ip: ip.to_string(),
            correlation: self.correlation.clone(),
            event_id: self.rng.guid(),
            operation_guid: self.operation_guid.clone(),
            properties,
            nested: None,
        }
    }
}

fn begin<'a>(rng: &'a mut Rng) -> Base<'a> {
    let correlation = rng.guid();
    let operation_guid = rng.guid();
    Base {
        rng,
        correlation,
        operation_guid,
    }
}

/// The events one request of the story leaves.
pub fn request_events(r: &Request, rng: &mut Rng) -> Vec<Event> {
    request_events_on(r, &Target::story(r.vm), rng)
}

/// The events one request for `target` leaves.
pub fn request_events_on(r: &Request, target: &Target, rng: &mut Rng) -> Vec<Event> {
    let sub = target.sub;
    let mut b = begin(rng);
    let policy = target.policy_id.clone();
    let mut out = vec![b.event(
        r.at,
        sub,
        policy.clone(),
        OP_INITIATE,
        "Initiate JIT Network Access Policy",
        Status::Started,
        ("", 0),
        r.who,
        &r.caller_ip,
        vec![(
            "requestbody",
            json!(initiate_body(r, &target.vm_id).to_string()),
        )],
    )];
    if r.failed {
        let message = json!({"error": {"code": "AuthorizationFailed", "message": format!("The client '{}' does not have authorization to perform action '{OP_INITIATE}' over scope '{policy}'.", r.who.caller())}});
        out.push(b.event(
            r.at + 412,
            sub,
            policy,
            OP_INITIATE,
            "Initiate JIT Network Access Policy",
            Status::Failed,
            ("Forbidden", 403),
            r.who,
            &r.caller_ip,
            vec![
                ("statusCode", json!("Forbidden")),
                ("statusMessage", json!(message.to_string())),
            ],
        ));
        return out;
    }
    let request_id = b.rng.guid();
    out.push(b.event(
        r.at + 1_204,
        sub,
        policy,
        OP_INITIATE,
        "Initiate JIT Network Access Policy",
        Status::Succeeded,
        ("Accepted", 202),
        r.who,
        &r.caller_ip,
        vec![
            ("statusCode", json!("Accepted")),
            ("serviceRequestId", json!(request_id)),
            (
                "responseBody",
                json!(response_body(r, &target.vm_id).to_string()),
            ),
        ],
    ));
    // Defender for Cloud then writes the allow rule into the VM's NSG.
    let mut d = begin(b.rng);
    let rule_name = format!(
        "MicrosoftDefenderForCloud-JITRule-{}-{}",
        target.rule_number,
        d.rng.guid().replace('-', "").to_uppercase()
    );
    let rule_id = format!("{}/securityRules/{rule_name}", target.nsg_id);
    let rule = json!({"name": rule_name, "id": rule_id, "properties": {
        "protocol": "*", "sourcePortRange": "*", "destinationPortRange": r.ports[0].to_string(),
        "sourceAddressPrefix": r.granted_source(), "destinationAddressPrefix": target.private_ip,
        "access": "Allow", "priority": 100, "direction": "Inbound",
        "description": format!("MDC JIT Network Access rule created by an initiation request for policy 'default' of VM '{}'.", target.vm_name)}});
    out.push(d.event(
        r.at + 2_530,
        sub,
        rule_id.clone(),
        OP_RULE_WRITE,
        "Create or Update Security Rule",
        Status::Started,
        ("", 0),
        Who::Defender,
        "52.174.8.12",
        vec![],
    ));
    out.push(d.event(
        r.at + 3_115,
        sub,
        rule_id,
        OP_RULE_WRITE,
        "Create or Update Security Rule",
        Status::Accepted,
        ("Created", 201),
        Who::Defender,
        "52.174.8.12",
        vec![
            ("statusCode", json!("Created")),
            ("responseBody", json!(rule.to_string())),
        ],
    ));
    if let Some(firewall) = &target.firewall {
        out.extend(firewall_write(r, target, firewall, rng));
    }
    out
}

/// Defender for Cloud's DNAT rule on the Azure Firewall in front of a VM, written as it writes
/// the NSG's allow rule (Learn, "Just-in-time access overview": "configures the NSGs and Azure
/// Firewall to allow inbound traffic to the selected ports"): an `azureFirewalls/write`,
/// Started then Accepted with the firewall's NAT rule collection in `responseBody` (the
/// collection named `MDC-JIT...`, azure-formats.md 4.1; properties as in the
/// Microsoft.Network/azureFirewalls 2023-09-01 schema).
fn firewall_write(r: &Request, target: &Target, firewall: &Firewall, rng: &mut Rng) -> Vec<Event> {
    let mut d = begin(rng);
    let collections: Vec<Value> = r
        .ports
        .iter()
        .filter_map(|p| {
            let (_, mapped) = firewall.mapped_ports.iter().find(|(q, _)| q == p)?;
            let name = format!("MDC-JIT-{}-{p}", target.vm_name);
            Some(json!({"name": name, "properties": {"priority": 100, "action": {"type": "Dnat"}, "rules": [
                {"name": format!("{name}-1"), "protocols": ["TCP"], "sourceAddresses": [r.granted_source()],
                 "destinationAddresses": [firewall.address], "destinationPorts": [mapped.to_string()],
                 "translatedAddress": target.private_ip, "translatedPort": p.to_string()}]}}))
        })
        .collect();
    let body = json!({"id": firewall.id, "name": firewall.id.rsplit('/').next(), "type": "Microsoft.Network/azureFirewalls",
        "properties": {"provisioningState": "Updating", "natRuleCollections": collections}});
    let op = "Microsoft.Network/azureFirewalls/write";
    let display = "Create or Update Azure Firewall";
    let started = d.event(
        r.at + 4_020,
        target.sub,
        firewall.id.clone(),
        op,
        display,
        Status::Started,
        ("", 0),
        Who::Defender,
        "52.174.8.12",
        vec![],
    );
    let accepted = d.event(
        r.at + 6_480,
        target.sub,
        firewall.id.clone(),
        op,
        display,
        Status::Accepted,
        ("OK", 200),
        Who::Defender,
        "52.174.8.12",
        vec![
            ("statusCode", json!("OK")),
            ("responseBody", json!(body.to_string())),
        ],
    );
    vec![started, accepted]
}

/// A JIT policy write (the policy for `vm_id`, its `ports` open to `source`) or, with
/// `delete`, the policy's deletion: a Started and a Succeeded event (operation names from
/// section 3.1 of azure-formats.md, the body in section 1.2's shape).
#[allow(clippy::too_many_arguments)]
pub fn policy_write(
    rng: &mut Rng,
    at: Ms,
    sub: &'static tenant::Sub,
    policy: &str,
    vm_id: &str,
    ports: &[u16],
    who: Who,
    ip: &str,
    source: &str,
    delete: bool,
) -> Vec<Event> {
    let mut b = begin(rng);
    let (op, display) = if delete {
        (OP_JIT_DELETE, "Delete JIT Network Access Policy")
    } else {
        (OP_JIT_WRITE, "Create or Update JIT Network Access Policy")
    };
    let body = if delete {
        json!("")
    } else {
        let ports: Vec<Value> = ports
            .iter()
            .map(|p| json!({"number": p, "protocol": "*", "allowedSourceAddressPrefix": source, "maxRequestAccessDuration": "PT3H"}))
            .collect();
        json!(json!({"kind": "Basic", "properties": {"virtualMachines": [{"id": vm_id, "ports": ports}]}}).to_string())
    };
    vec![
        b.event(
            at,
            sub,
            policy.to_string(),
            op,
            display,
            Status::Started,
            ("", 0),
            who,
            ip,
            vec![("requestbody", body)],
        ),
        b.event(
            at + 2_210,
            sub,
            policy.to_string(),
            op,
            display,
            Status::Succeeded,
            ("OK", 200),
            who,
            ip,
            vec![("statusCode", json!("OK"))],
        ),
    ]
}

pub const OP_ROLE_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// A role assignment written at `scope` for `principal` (Started with the request body, then
/// Succeeded, `Created`), as Resource Manager logs `PUT .../roleAssignments/{id}`: the body's
/// `Properties` name the principal, its type, the role definition and the scope.
#[allow(clippy::too_many_arguments)]
pub fn role_write(
    rng: &mut Rng,
    at: Ms,
    sub: &'static tenant::Sub,
    scope: &str,
    principal: &str,
    role_definition_id: &str,
    who: Who,
    ip: &str,
) -> Vec<Event> {
    let mut b = begin(rng);
    let id = b.rng.guid();
    let resource = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{id}");
    let body = json!({"Id": id, "Properties": {"PrincipalId": principal, "PrincipalType": "User",
        "RoleDefinitionId": role_definition_id, "Scope": scope, "Condition": null, "ConditionVersion": null}});
    let display = "Create role assignment";
    vec![
        b.event(
            at,
            sub,
            resource.clone(),
            OP_ROLE_WRITE,
            display,
            Status::Started,
            ("", 0),
            who,
            ip,
            vec![("requestbody", json!(body.to_string()))],
        ),
        b.event(
            at + 1_470,
            sub,
            resource,
            OP_ROLE_WRITE,
            display,
            Status::Succeeded,
            ("Created", 201),
            who,
            ip,
            vec![("statusCode", json!("Created"))],
        ),
    ]
}

/// The JIT policy writes and the delete the story holds.
pub fn policy_events(rng: &mut Rng, days: u32) -> Vec<Event> {
    let mut out = Vec::new();
    let mut write =
        |rng: &mut Rng, at: Ms, vm: usize, who: Who, ip: &str, source: &str, delete: bool| {
            let ports = if VMS[vm].jit_ports.is_empty() {
                &[3389u16][..]
            } else {
                VMS[vm].jit_ports
            };
            out.extend(policy_write(
                rng,
                at,
                &SUBS[VMS[vm].sub],
                &policy_id(vm),
                &vm_id(vm),
                ports,
                who,
                ip,
                source,
                delete,
            ));
        };
    // The automation account (re)applies the standard policy to every JIT VM on the first day.
    for vm in
        (0..VMS.len()).filter(|v| !VMS[*v].jit_ports.is_empty() && VMS[*v].name != "bastion-01")
    {
        write(
            rng,
            START + 6 * HOUR + vm as i64 * MINUTE,
            vm,
            Who::Automation,
            tenant::AUTOMATION_IP,
            "203.0.113.0/24",
            false,
        );
    }
    let carol = Who::Person(2);
    let mallory = Who::Person(4);
    let bastion = VMS.iter().position(|v| v.name == "bastion-01").unwrap_or(0);
    let dev_test = VMS
        .iter()
        .position(|v| v.name == "dev-test-02")
        .unwrap_or(0);
    if days > 4 {
        write(
            rng,
            START + 4 * DAY + 10 * HOUR + 41 * MINUTE,
            bastion,
            carol,
            tenant::PEOPLE[2].office_ip,
            "*",
            false,
        );
    }
    if days > 7 {
        write(
            rng,
            START + 7 * DAY + 21 * HOUR + 3 * MINUTE,
            dev_test,
            mallory,
            tenant::HOME_IP,
            "",
            true,
        );
    }
    out
}

const BACKGROUND: &[(&str, &str)] = &[
    (
        "Microsoft.Compute/virtualMachines/start/action",
        "Start Virtual Machine",
    ),
    (
        "Microsoft.Compute/virtualMachines/deallocate/action",
        "Deallocate Virtual Machine",
    ),
    (
        "Microsoft.Storage/storageAccounts/listKeys/action",
        "List Storage Account Keys",
    ),
    ("Microsoft.Resources/deployments/write", "Create Deployment"),
    (
        "Microsoft.Insights/diagnosticSettings/write",
        "Create or update resource diagnostic setting",
    ),
    ("Microsoft.KeyVault/vaults/write", "Update Key Vault"),
];

/// Background activity of one subscription on one day: `2 * scale` operations, each a
/// Started and a Succeeded event, plus a Resource Health event a day. `nsg_share` percent of
/// the operations are NSG rule writes by automation (see [`automation_rule_write`]). Seeded by (seed, sub,
/// day) so any day can be made alone, in any order, without holding the rest in memory.
pub fn background(seed: u64, sub: usize, day: i64, scale: u32, nsg_share: u32) -> Vec<Event> {
    let vms: Vec<usize> = (0..VMS.len()).filter(|v| VMS[*v].sub == sub).collect();
    let scope = Scope {
        index: sub,
        sub: &SUBS[sub],
        rg: VMS[vms[0]].rg.to_string(),
        vms: vms.into_iter().map(vm_id).collect(),
        people: (0..4).map(Who::Person).collect(),
    };
    background_in(&scope, seed, day, scale, nsg_share)
}

/// Where background activity happens: a subscription, the resource group its shared resources
/// sit in, its VMs (ids) and the people who work there.
pub struct Scope {
    /// The subscription's place in its tenant, which seeds its days.
    pub index: usize,
    pub sub: &'static tenant::Sub,
    pub rg: String,
    pub vms: Vec<String>,
    pub people: Vec<Who>,
}

/// [`background`] of any subscription, the story's or a generated estate's.
pub fn background_in(scope: &Scope, seed: u64, day: i64, scale: u32, nsg_share: u32) -> Vec<Event> {
    let sub = scope.sub;
    let mut rng = Rng::new(seed ^ ((scope.index as u64 + 1) << 40) ^ ((day as u64 + 1) << 20));
    let vms = &scope.vms;
    let rg = scope.rg.as_str();
    let subscription = sub.id;
    let mut out = Vec::new();
    for _ in 0..2 * scale as u64 {
        let at = START + day * DAY + rng.below(DAY as u64 - 10_000) as i64;
        // Its own draw, so a share of 0 leaves the rest of the day as it always was.
        if nsg_share > 0 && rng.below(100) < nsg_share as u64 {
            out.extend(automation_rule_write(&mut rng, scope.index, sub, at));
            continue;
        }
        let (op, display) = *rng.pick(BACKGROUND);
        let resource = match op.split('/').nth(1) {
            Some("virtualMachines") => rng.pick(vms).clone(),
            Some("storageAccounts") => format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/st{}diag",
                rg.replace('-', "")
            ),
            Some("deployments") => format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/release-{}",
                rng.below(900) + 100
            ),
            Some("vaults") => format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/kv-{rg}"
            ),
            _ => format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Insights/diagnosticSettings/to-workspace"
            ),
        };
        let who = if rng.below(3) == 0 {
            Who::Automation
        } else {
            *rng.pick(&scope.people)
        };
        let ip = who.person().map_or(tenant::AUTOMATION_IP, |p| p.office_ip);
        let mut b = begin(&mut rng);
        out.push(b.event(
            at,
            sub,
            resource.clone(),
            op,
            display,
            Status::Started,
            ("", 0),
            who,
            ip,
            vec![],
        ));
        let done = at + 850 + b.rng.below(4000) as i64;
        let service_request = b.rng.guid();
        out.push(b.event(
            done,
            sub,
            resource,
            op,
            display,
            Status::Succeeded,
            ("OK", 200),
            who,
            ip,
            vec![
                ("statusCode", json!("OK")),
                ("serviceRequestId", json!(service_request)),
            ],
        ));
    }
    let vm = rng.pick(vms).clone();
    let mut b = begin(&mut rng);
    let mut health = b.event(
        START + day * DAY + 5 * HOUR + 12 * MINUTE,
        sub,
        vm,
        "Microsoft.Resourcehealth/healthevent/Updated/action",
        "Health Event Updated",
        Status::Succeeded,
        ("", 0),
        Who::Automation,
        "",
        vec![],
    );
    health.category = "ResourceHealth";
    health.nested = Some(
        json!({"title": "This virtual machine is starting as requested by an authorized user or process. It will be online shortly.",
        "details": "VirtualMachineStartInitiatedByControlPlane", "currentHealthStatus": "Unknown", "previousHealthStatus": "Unknown", "type": "Downtime", "cause": "UserInitiated"}),
    );
    out.push(health);
    out
}

/// A security-rule write by automation, as AKS makes all day on its node pools' NSGs when
/// services come and go: the load balancer's allow rule for a web port, written (Started, then
/// Accepted with the rule in `responseBody`, as Azure logs it; azure-formats.md 3.3 (d)) by the
/// cluster's service principal, or its removal. Not JIT's, and no management port: a log full
/// of these is what the NSG-heavy benchmark mix is made of.
fn automation_rule_write(
    rng: &mut Rng,
    index: usize,
    sub: &'static tenant::Sub,
    at: Ms,
) -> Vec<Event> {
    let subscription = sub.id;
    let pool = rng.below(4);
    let nsg = format!(
        "/subscriptions/{subscription}/resourceGroups/MC_rg-aks_aks-{index}_westeurope/providers/Microsoft.Network/networkSecurityGroups/aks-agentpool-1234567{pool}-nsg"
    );
    let rule_name = format!(
        "k8s-azure-lb_allow_IPv4_{:032x}",
        rng.below(u64::MAX) as u128
    );
    let rule_id = format!("{nsg}/securityRules/{rule_name}");
    let port = *rng.pick(&[80u16, 443, 8080, 8443]);
    let delete = rng.below(3) == 0;
    let (op, display) = if delete {
        (
            "Microsoft.Network/networkSecurityGroups/securityRules/delete",
            "Delete Security Rule",
        )
    } else {
        (OP_RULE_WRITE, "Create or Update Security Rule")
    };
    let rule = json!({"name": rule_name, "id": rule_id, "properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port.to_string(),
        "sourceAddressPrefix": "Internet", "destinationAddressPrefix": format!("20.{}.{}.{}", 50 + index, pool, rng.below(250) + 1),
        "access": "Allow", "priority": 500 + rng.below(3000), "direction": "Inbound"}});
    let mut b = begin(rng);
    let started = b.event(
        at,
        sub,
        rule_id.clone(),
        op,
        display,
        Status::Started,
        ("", 0),
        Who::Automation,
        tenant::AUTOMATION_IP,
        vec![],
    );
    let (status, body) = match delete {
        true => (("OK", 200), vec![("statusCode", json!("OK"))]),
        false => (
            ("Created", 201),
            vec![
                ("statusCode", json!("Created")),
                ("responseBody", json!(rule.to_string())),
            ],
        ),
    };
    let done_at = at + 900 + b.rng.below(3000) as i64;
    let done = b.event(
        done_at,
        sub,
        rule_id,
        op,
        display,
        Status::Accepted,
        status,
        Who::Automation,
        tenant::AUTOMATION_IP,
        body,
    );
    vec![started, done]
}
