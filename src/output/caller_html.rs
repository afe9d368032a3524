//! The caller investigation as one self-contained HTML page: inline CSS and SVG, no script, no
//! request to any host (a Content-Security-Policy says so), every input value escaped by the
//! template engine's HTML autoescaping.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::timeline_chart;
use crate::summary::caller::{Entry, Investigation, Kind};

/// The page lists every JIT request, NSG or firewall change and finding of the caller, and the latest this
/// many of their other Activity Log records: a busy automation identity has a hundred thousand
/// (a 65 MB page). Every record is in `--format csv` and `--format json`.
pub const ACTIVITY_IN_PAGE: usize = 500;

/// The other activity, counted by operation, so what the page leaves out is still accounted for.
#[derive(Serialize)]
struct OperationCount<'a> {
    what: &'a str,
    count: usize,
    first: String,
    last: String,
}

/// The entries the page shows, in time order, and the other activity by operation (most
/// frequent first).
fn in_page<'e, 'a>(timeline: &'e [Entry<'a>]) -> (Vec<&'e Entry<'a>>, Vec<OperationCount<'e>>) {
    let activity: Vec<usize> = (0..timeline.len())
        .filter(|i| timeline[*i].kind == Kind::Activity)
        .collect();
    let skip = activity.len().saturating_sub(ACTIVITY_IN_PAGE);
    let mut hidden = vec![false; timeline.len()];
    // The timeline is in time order: the first ones are the oldest.
    for i in &activity[..skip] {
        hidden[*i] = true;
    }
    let shown = (timeline.iter().zip(&hidden))
        .filter(|(_, h)| !**h)
        .map(|(e, _)| e)
        .collect();
    // Per operation: how often, and its first and last entries.
    let mut ops: BTreeMap<&str, (usize, &Entry, &Entry)> = BTreeMap::new();
    for i in activity {
        let e = &timeline[i];
        let o = ops.entry(e.what.as_ref()).or_insert((0, e, e));
        o.0 += 1;
        o.2 = e;
    }
    let mut ops: Vec<OperationCount> = (ops.into_iter())
        .map(|(what, (count, first, last))| OperationCount {
            what,
            count,
            first: first.time_utc(),
            last: last.time_utc(),
        })
        .collect();
    ops.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.what.cmp(b.what)));
    (shown, ops)
}

const TEMPLATE: &str = include_str!("../../reports/caller.html");

pub fn render(inv: &Investigation, window: &str) -> Result<String> {
    let mut env = Environment::new();
    // A name ending in .html turns HTML autoescaping on for every `{{ }}`.
    env.add_template("caller.html", TEMPLATE)
        .context("loading the caller template")?;
    let chart = timeline_chart::timeline_svg(inv)?;
    let (shown, operations) = in_page(&inv.timeline);
    let activity = inv
        .timeline
        .iter()
        .filter(|e| e.kind == Kind::Activity)
        .count();
    let html = env
        .get_template("caller.html")
        .and_then(|t| {
            t.render(context! {
                s => Value::from(Serde(&inv.summary)),
                timeline => Value::from(Serde(&shown)),
                operations => Value::from(Serde(&operations)),
                activity_total => activity,
                activity_in_page => ACTIVITY_IN_PAGE.min(activity),
                chart => chart,
                odd_hour_percent => format!("{:.0}", inv.summary.odd_hour_share * 100.0),
                version => env!("CARGO_PKG_VERSION"),
                window => window,
            })
        })
        .context("rendering the caller page")?;
    Ok(html)
}
