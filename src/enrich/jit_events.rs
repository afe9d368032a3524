//! The JIT policy and initiate events of the window, with what the JIT011 and JIT012 SQL needs
//! computed first: the failure code, whether the caller may write policies, and what a
//! written policy asked for.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;
use serde_json::{Map, Value};

use super::columns::{col_bool, col_str};
use crate::config::Config;
use crate::normalize::format_time;
use crate::schema::{self, ops};
use crate::sources::json::{as_object, get, objects, singular_and_plural, text_at};
use crate::tables::{strs, times};

/// JIT policy and initiate events in the window, with the failure code, whether the caller
/// may write policies, and what a write asked for.
pub fn jit_events(events: &DataFrame, config: &Config) -> Result<DataFrame> {
    let op = strs(events, schema::OPERATION_ID)?;
    let keep: Vec<bool> = (0..events.height())
        .map(|i| {
            matches!(
                op.get(i),
                Some(ops::JIT_INITIATE | ops::JIT_WRITE | ops::JIT_DELETE)
            )
        })
        .collect();
    let df = events.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
    let time = times(&df, schema::TIME)?;
    let caller = strs(&df, schema::CALLER)?;
    let app = strs(&df, schema::APP_ID)?;
    let object = strs(&df, schema::OBJECT_ID)?;
    let props = strs(&df, schema::PROPERTIES)?;
    let sub_status = strs(&df, schema::SUB_STATUS)?;
    let mut time_utc = Vec::new();
    let mut code = Vec::new();
    let mut allowed = Vec::new();
    let mut change = Vec::new();
    let mut vm = Vec::new();
    for i in 0..df.height() {
        time_utc.push(time.get(i).map(format_time));
        let p = props
            .get(i)
            .and_then(|p| serde_json::from_str::<Map<String, Value>>(p).ok());
        let error_code = p
            .as_ref()
            .and_then(|p| get(p, "statusMessage"))
            .and_then(as_object)
            .and_then(|m| {
                get(&m, "error")
                    .and_then(as_object)
                    .and_then(|e| text_at(&e, "code"))
            });
        code.push(
            error_code
                .or_else(|| p.as_ref().and_then(|p| text_at(p, "statusCode")))
                .or(sub_status.get(i).map(str::to_string)),
        );
        let ids = [caller.get(i), app.get(i), object.get(i)];
        allowed.push(Some(
            ids.iter()
                .flatten()
                .any(|id| config.policy_writers.contains(&id.to_ascii_lowercase())),
        ));
        let body = p
            .as_ref()
            .and_then(|p| get(p, "requestbody"))
            .and_then(as_object);
        change.push(body.as_ref().and_then(describe_policy));
        vm.push(body.as_ref().and_then(first_vm));
    }
    // The body is logged on the call's first event, the outcome on its last: share what the
    // body says (the policy change, the VM tried, which JIT011 names) across a call's events.
    let correlation = strs(&df, schema::CORRELATION_ID)?;
    share_by_call(&mut change, correlation);
    share_by_call(&mut vm, correlation);
    let mut out = df.clone();
    out.with_column(col_str("time_utc", time_utc))?;
    out.with_column(col_str("failure_code", code))?;
    out.with_column(col_bool("allowed_writer", allowed))?;
    out.with_column(col_str("change", change))?;
    out.with_column(col_str("vm_id", vm))?;
    Ok(out)
}

/// Fills each event's missing value from another event of the same call (correlation id).
fn share_by_call(values: &mut [Option<String>], correlation: &StringChunked) {
    let mut by_call: HashMap<&str, String> = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        if let (Some(v), Some(id)) = (v, correlation.get(i)) {
            by_call.entry(id).or_insert_with(|| v.clone());
        }
    }
    for (i, v) in values.iter_mut().enumerate() {
        if v.is_none() {
            *v = correlation.get(i).and_then(|id| by_call.get(id)).cloned();
        }
    }
}

/// The first VM a request or policy body names (`virtualMachines[0].id`, at the top of an
/// initiate body or under `properties` of a policy; azure-formats.md 1.2 and 1.4).
fn first_vm(body: &Map<String, Value>) -> Option<String> {
    let holder = get(body, "properties").and_then(as_object);
    let vms = objects(holder.as_ref().unwrap_or(body), "virtualMachines");
    vms.first().and_then(|v| text_at(v, "id"))
}

/// "port 22 from * (PT3H); port 3389 from 10.0.0.0/8 (PT3H)" for a written policy body.
fn describe_policy(body: &Map<String, Value>) -> Option<String> {
    let props = get(body, "properties").and_then(as_object)?;
    let mut parts = Vec::new();
    for vm in objects(&props, "virtualMachines") {
        for port in objects(vm, "ports") {
            let sources = singular_and_plural(
                port,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
            );
            parts.push(format!(
                "port {} from {} ({})",
                text_at(port, "number").unwrap_or_default(),
                if sources.is_empty() {
                    "any".into()
                } else {
                    sources.join(",")
                },
                text_at(port, "maxRequestAccessDuration").unwrap_or_default()
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
