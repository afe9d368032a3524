//! Credentials pasted into the data, masked once the tables are made: a token, a SAS
//! signature or a client secret typed into a justification or a tag would otherwise reach every
//! output (HTML, Markdown, CSV, JSON, a query's answer). What is masked: the justifications of
//! the ledger and of the policies' request history, the VMs' tags, and the records of JIT
//! policies in `events` (an initiate's request body holds its justification). The rules still
//! see that something was there: `crate::secrets::kinds` recognises the mask, and JIT021 reports
//! it. `--no-redact` keeps the data as it was, for forensics.

use anyhow::Result;
use polars::prelude::{Column, DataFrame, PlSmallStr};

use crate::schema::{self, ops};
use crate::secrets::redact;
use crate::tables::{Tables, strs};

/// Masks what `t` holds of credentials; how many values it changed.
pub(super) fn mask(t: &mut Tables) -> Result<u64> {
    let mut changed = 0;
    changed += mask_column(&mut t.requests, schema::JUSTIFICATION, |_| true)?;
    changed += mask_column(&mut t.policy_requests, schema::JUSTIFICATION, |_| true)?;
    changed += mask_column(&mut t.vms, schema::TAGS, |_| true)?;
    // Only the records of JIT policies: a credential a person types into JIT travels there, and
    // searching every record's properties would cost a query over gigabytes a pass more. A
    // table without properties (a query that reads none) has nothing to mask: telling its JIT
    // records was a serial pass over every operation after the read, 1% of such a query.
    let has_properties =
        (t.events.column(schema::PROPERTIES)).is_ok_and(|c| c.null_count() < c.len());
    if !has_properties {
        return Ok(changed);
    }
    let jit: Vec<bool> = match strs(&t.events, schema::OPERATION_ID) {
        Ok(op) => op
            .iter()
            .map(|o| {
                matches!(
                    o,
                    Some(ops::JIT_INITIATE | ops::JIT_WRITE | ops::JIT_DELETE)
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if jit.iter().any(|&j| j) {
        changed += mask_column(&mut t.events, schema::PROPERTIES, |row| jit[row])?;
    }
    Ok(changed)
}

/// Masks the credentials in the rows of `name` that `rows` picks; the column is replaced only
/// when a value changed.
fn mask_column(df: &mut DataFrame, name: &str, rows: impl Fn(usize) -> bool) -> Result<u64> {
    let Ok(values) = strs(df, name) else {
        return Ok(0);
    };
    let mut masked: Option<Vec<Option<String>>> = None;
    let mut changed = 0;
    for (row, value) in values.iter().enumerate() {
        let Some(text) = value.filter(|_| rows(row)) else {
            continue;
        };
        let clean = redact(text, &[]);
        if clean != text {
            let all = masked
                .get_or_insert_with(|| values.iter().map(|v| v.map(str::to_string)).collect());
            all[row] = Some(clean.into_owned());
            changed += 1;
        }
    }
    if let Some(all) = masked {
        df.replace(name, Column::new(PlSmallStr::from(name), all))?;
    }
    Ok(changed)
}
