//! Tables computed from other tables once all inputs are in: the VM inventory completed from
//! its network interfaces, who can open ports ([`access`]), and the JIT request ledger. Both are recomputed from scratch on
//! every load, so reading an ingested directory back gives the same result as the raw files.
//! [`identities`] reads the names one identity goes by (`caller`, and its loading).

pub mod access;
pub mod identities;
pub mod ledger;

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use polars::prelude::*;

use crate::schema;
use crate::tables::{Tables, strs};

/// Completes the VM inventory and, when `ledger`, makes the request ledger (it reads every
/// column of `events`: a query that fills only some of them does not read it, and it stays
/// empty).
pub fn derive(mut t: Tables, ledger: bool) -> Result<(Tables, Vec<String>)> {
    enrich_vms(&mut t)?;
    let inventory: BTreeSet<String> = strs(&t.subscriptions, schema::SUBSCRIPTION_ID)?
        .iter()
        .flatten()
        .chain(strs(&t.vms, schema::SUBSCRIPTION_ID)?.iter().flatten())
        .chain(strs(&t.policies, schema::SUBSCRIPTION_ID)?.iter().flatten())
        .map(str::to_ascii_lowercase)
        .collect();
    let (access, notes) = access::build(
        &t.role_assignments,
        &t.role_definitions,
        &t.group_members,
        &t.management_groups,
        &inventory,
    )?;
    t.access = access;
    if ledger {
        t.requests = ledger::build(&t)?;
    }
    Ok((t, notes))
}

#[derive(Default)]
struct NicFacts {
    private_ips: BTreeSet<String>,
    public: bool,
    nsgs: BTreeSet<String>,
    subnets: BTreeSet<String>,
}

fn split(s: Option<&str>) -> impl Iterator<Item = &str> {
    s.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// Fills `private_ips`, `has_public_ip`, `nsg_ids` and `subnet_ids` of each VM from the NICs
/// that name it or that it names.
fn enrich_vms(t: &mut Tables) -> Result<()> {
    let nic_key = strs(&t.nics, schema::NIC_KEY)?;
    let nic_vm = strs(&t.nics, schema::VM_KEY)?;
    let nic_ips = strs(&t.nics, schema::PRIVATE_IPS)?;
    let nic_public = strs(&t.nics, schema::PUBLIC_IP_IDS)?;
    let nic_subnets = strs(&t.nics, schema::SUBNET_IDS)?;
    let nic_nsg = strs(&t.nics, schema::NSG_ID)?;
    let mut by_nic: HashMap<&str, usize> = HashMap::new();
    let mut by_vm: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in 0..t.nics.height() {
        if let Some(k) = nic_key.get(i) {
            by_nic.insert(k, i);
        }
        if let Some(vm) = nic_vm.get(i) {
            by_vm.entry(vm).or_default().push(i);
        }
    }
    let vm_key = strs(&t.vms, schema::VM_KEY)?;
    let vm_nics = strs(&t.vms, schema::NIC_IDS)?;
    let mut private_ips = Vec::with_capacity(t.vms.height());
    let mut public = Vec::with_capacity(t.vms.height());
    let mut nsgs = Vec::with_capacity(t.vms.height());
    let mut subnets = Vec::with_capacity(t.vms.height());
    for i in 0..t.vms.height() {
        let mut rows: BTreeSet<usize> = split(vm_nics.get(i))
            .filter_map(|n| by_nic.get(n).copied())
            .collect();
        if let Some(k) = vm_key.get(i) {
            rows.extend(by_vm.get(k).into_iter().flatten().copied());
        }
        let mut facts = NicFacts::default();
        for r in rows {
            facts
                .private_ips
                .extend(split(nic_ips.get(r)).map(str::to_string));
            facts.public |= split(nic_public.get(r)).next().is_some();
            facts.nsgs.extend(nic_nsg.get(r).map(str::to_string));
            facts
                .subnets
                .extend(split(nic_subnets.get(r)).map(str::to_string));
        }
        let known = !facts.private_ips.is_empty() || facts.public || !facts.nsgs.is_empty();
        private_ips.push(join(&facts.private_ips));
        // Unknown (no NIC seen) stays null rather than claiming "no public IP".
        public.push(known.then_some(facts.public));
        nsgs.push(join(&facts.nsgs));
        subnets.push(join(&facts.subnets));
    }
    let column = |name: &'static str, v: Vec<Option<String>>| {
        Series::new(PlSmallStr::from_static(name), v).into_column()
    };
    t.vms
        .with_column(column(schema::PRIVATE_IPS, private_ips))?;
    t.vms.with_column(
        Series::new(PlSmallStr::from_static(schema::HAS_PUBLIC_IP), public).into_column(),
    )?;
    t.vms.with_column(column(schema::NSG_IDS, nsgs))?;
    t.vms.with_column(column(schema::SUBNET_IDS, subnets))?;
    Ok(())
}

fn join(set: &BTreeSet<String>) -> Option<String> {
    (!set.is_empty()).then(|| set.iter().cloned().collect::<Vec<_>>().join(","))
}
