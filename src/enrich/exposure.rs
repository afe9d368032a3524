//! Which NSG rules reach which VMs, through the VM's NICs or its subnets, with what they
//! open and from where: the `exposures` table JIT013 reads, and the exposure of each VM
//! JIT005 grades its severity by.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use polars::prelude::*;

use super::columns::{col_bool, col_str, is_wide, prefixes};
use crate::config::Config;
use crate::normalize::id_key;
use crate::schema;
use crate::tables::{Tables, bools, ints, strs};

/// Does a port range list (`22`, `20-25`, `*`, comma-joined) include `port`?
pub fn range_includes(ranges: &str, port: u16) -> bool {
    ranges.split(',').map(str::trim).any(|r| {
        if r == "*" {
            return true;
        }
        match r.split_once('-') {
            Some((lo, hi)) => matches!((lo.trim().parse::<u16>(), hi.trim().parse::<u16>()), (Ok(lo), Ok(hi)) if lo <= port && port <= hi),
            None => r.parse::<u16>() == Ok(port),
        }
    })
}

/// One row per (NSG rule, VM it reaches through a NIC or subnet attachment).
pub(crate) fn exposures(t: &Tables, config: &Config) -> Result<DataFrame> {
    let vm_id = strs(&t.vms, schema::VM_ID)?;
    let vm_name = strs(&t.vms, schema::VM_NAME)?;
    let vm_sub = strs(&t.vms, schema::SUBSCRIPTION_ID)?;
    let vm_nsgs = strs(&t.vms, schema::NSG_IDS)?;
    let vm_subnets = strs(&t.vms, schema::SUBNET_IDS)?;
    let mut by_nsg: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_subnet: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..t.vms.height() {
        for n in prefixes(vm_nsgs.get(i)) {
            by_nsg.entry(n.to_string()).or_default().push(i);
        }
        for s in prefixes(vm_subnets.get(i)) {
            by_subnet.entry(s.to_string()).or_default().push(i);
        }
    }
    let r = &t.nsg_rules;
    let nsg_key = strs(r, schema::NSG_KEY)?;
    let nsg_name = strs(r, schema::NSG_NAME)?;
    let rule_id = strs(r, schema::RULE_ID)?;
    let rule_name = strs(r, schema::RULE_NAME)?;
    let priority = ints(r, schema::PRIORITY)?;
    let direction = strs(r, schema::DIRECTION)?;
    let access = strs(r, schema::ACCESS)?;
    let ports = strs(r, schema::DESTINATION_PORT_RANGES)?;
    let sources = strs(r, schema::SOURCE_PREFIXES)?;
    let subnets = strs(r, schema::ATTACHED_SUBNET_IDS)?;
    let jit = strs(r, schema::JIT_RULE)?;
    let default = bools(r, schema::IS_DEFAULT)?;
    let mut b = crate::tables::TableBuilder::new(&schema::EXPOSURES);
    for i in 0..r.height() {
        let mut reached: Vec<(usize, &str)> = Vec::new();
        if let Some(k) = nsg_key.get(i) {
            reached.extend(by_nsg.get(k).into_iter().flatten().map(|v| (*v, "NIC")));
        }
        for s in prefixes(subnets.get(i)) {
            reached.extend(
                by_subnet
                    .get(s)
                    .into_iter()
                    .flatten()
                    .map(|v| (*v, "subnet")),
            );
        }
        let port_list = ports.get(i).unwrap_or("");
        let mgmt: Vec<u16> = config
            .management_ports
            .iter()
            .copied()
            .filter(|p| range_includes(port_list, *p))
            .collect();
        let srcs = prefixes(sources.get(i));
        let from_internet = srcs.iter().any(|s| is_wide(s, config.min_prefix_length));
        for (vm, via) in reached {
            b.row()
                .str("subscription_id", vm_sub.get(vm))
                .str("vm_id", vm_id.get(vm))
                .str("vm_name", vm_name.get(vm))
                .str("nsg_name", nsg_name.get(i))
                .str("rule_name", rule_name.get(i))
                .str("rule_id", rule_id.get(i).or(rule_name.get(i)))
                .int("priority", priority.get(i))
                .str("direction", direction.get(i))
                .str("access", access.get(i))
                .str("ports", Some(port_list))
                .int("port", mgmt.first().map(|p| *p as i64))
                .str("sources", sources.get(i))
                .str("via", Some(via))
                .bool("opens_management_port", Some(!mgmt.is_empty()))
                .bool("from_internet", Some(from_internet))
                .bool("is_jit", Some(jit.get(i).is_some()))
                .bool("is_default", default.get(i));
        }
    }
    Ok(b.finish())
}

pub(crate) fn enrich_vms(t: &Tables, exposures: &DataFrame) -> Result<DataFrame> {
    let covered: HashSet<String> = strs(&t.policies, schema::VM_KEY)?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    let mut exposed: HashMap<String, Vec<String>> = HashMap::new();
    let e_vm = strs(exposures, "vm_id")?;
    let e_rule = strs(exposures, "rule_name")?;
    let e_mgmt = bools(exposures, "opens_management_port")?;
    let e_internet = bools(exposures, "from_internet")?;
    let e_access = strs(exposures, "access")?;
    let e_dir = strs(exposures, "direction")?;
    for i in 0..exposures.height() {
        let open = e_mgmt.get(i) == Some(true)
            && e_internet.get(i) == Some(true)
            && e_access
                .get(i)
                .is_some_and(|a| a.eq_ignore_ascii_case("allow"))
            && e_dir
                .get(i)
                .is_some_and(|d| d.eq_ignore_ascii_case("inbound"));
        if let (true, Some(vm), Some(rule)) = (open, e_vm.get(i), e_rule.get(i)) {
            exposed.entry(id_key(vm)).or_default().push(format!(
                "NSG rule {rule} opens a management port to the internet"
            ));
        }
    }
    let key = strs(&t.vms, schema::VM_KEY)?;
    let public = bools(&t.vms, schema::HAS_PUBLIC_IP)?;
    let mut has_jit = Vec::new();
    let mut exposure = Vec::new();
    for i in 0..t.vms.height() {
        let k = key.get(i).unwrap_or("");
        has_jit.push(Some(covered.contains(k)));
        let mut reasons = Vec::new();
        if public.get(i) == Some(true) {
            reasons.push("public IP attached".to_string());
        }
        reasons.extend(exposed.get(k).cloned().unwrap_or_default());
        exposure.push((!reasons.is_empty()).then(|| reasons.join("; ")));
    }
    let mut out = t.vms.clone();
    out.with_column(col_bool("has_jit", has_jit))?;
    out.with_column(col_str("exposure", exposure))?;
    let tags: Vec<Option<String>> = strs(&t.vms, schema::TAGS)?
        .iter()
        .map(|t| t.and_then(super::credential))
        .collect();
    out.with_column(col_str("tags_credential", tags))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert!(range_includes("443,22", 22));
        assert!(range_includes("20-25", 22));
        assert!(range_includes("*", 3389));
        assert!(!range_includes("80,443", 22));
        assert!(!range_includes("", 22));
    }
}
