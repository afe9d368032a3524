//! The caller investigation as one self-contained HTML page: inline CSS and SVG, no script, no
//! request to any host (a Content-Security-Policy says so), every input value escaped by the
//! template engine's HTML autoescaping.

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};

use super::charts;
use crate::summary::caller::Investigation;

const TEMPLATE: &str = include_str!("../../reports/caller.html");

pub fn render(inv: &Investigation, window: &str) -> Result<String> {
    let mut env = Environment::new();
    // A name ending in .html turns HTML autoescaping on for every `{{ }}`.
    env.add_template("caller.html", TEMPLATE)
        .context("loading the caller template")?;
    let chart = charts::timeline_svg(inv)?;
    let html = env
        .get_template("caller.html")
        .and_then(|t| {
            t.render(context! {
                s => Value::from(Serde(&inv.summary)),
                timeline => Value::from(Serde(&inv.timeline)),
                chart => chart,
                odd_hour_percent => format!("{:.0}", inv.summary.odd_hour_share * 100.0),
                version => env!("CARGO_PKG_VERSION"),
                window => window,
            })
        })
        .context("rendering the caller page")?;
    Ok(html)
}
