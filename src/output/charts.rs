//! Charts, drawn with plotters as SVG text to inline in a page: axes labelled, a legend,
//! nothing that comes from input data in the markup (labels are fixed words and times).

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::normalize::format_time;
use crate::summary::report::{ChartData, OpenWindow, Trend, outcome};

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("chart: {e}")
}

const SEVERITY_COLOURS: [(&str, RGBColor); 5] = [
    ("critical", RGBColor(128, 0, 38)),
    ("high", RGBColor(214, 39, 40)),
    // The chip's colour (#b35400), so a bar and a chip of one severity match.
    ("medium", RGBColor(179, 84, 0)),
    ("low", RGBColor(31, 119, 180)),
    ("info", RGBColor(127, 127, 127)),
];

/// Requests per UTC day, stacked by outcome.
pub fn requests_per_day(d: &ChartData) -> Result<String> {
    // Every day from the first to the last, those without requests included: a gap is news.
    let parse = |k: &String| chrono::NaiveDate::parse_from_str(k, "%Y-%m-%d").ok();
    let all_days: Vec<String> = match (
        d.requests_per_day.keys().next().and_then(parse),
        d.requests_per_day.keys().next_back().and_then(parse),
    ) {
        (Some(first), Some(last)) => first
            .iter_days()
            .take_while(|day| *day <= last)
            .map(|day| day.format("%Y-%m-%d").to_string())
            .collect(),
        _ => d.requests_per_day.keys().cloned().collect(),
    };
    let days: Vec<String> = all_days
        .iter()
        .map(|k| k.get(5..).unwrap_or(k).to_string())
        .collect();
    // Outcomes in a fixed order and colour, so that a colour means the same on every report:
    // green for access granted, orange for access still open, red for failed attempts (any
    // other key, from a summary of an older version, in the palette after them).
    let known = outcome::ALL;
    let mut statuses: Vec<&str> = known.to_vec();
    for m in d.requests_per_day.values() {
        for k in m.keys() {
            if !statuses.contains(&k.as_str()) {
                statuses.push(k);
            }
        }
    }
    statuses.retain(|s| d.requests_per_day.values().any(|m| m.contains_key(*s)));
    let series: Vec<(String, RGBColor, Vec<usize>)> = statuses
        .into_iter()
        .enumerate()
        .map(|(i, status)| {
            let c = match status {
                outcome::GRANTED => (44, 160, 44),
                outcome::OPEN => (255, 127, 14),
                outcome::FAILED => (214, 39, 40),
                _ => {
                    let c = Palette99::pick(i).to_rgba();
                    (c.0, c.1, c.2)
                }
            };
            let values = all_days
                .iter()
                .map(|day| {
                    d.requests_per_day
                        .get(day)
                        .and_then(|m| m.get(status))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            (status.to_string(), RGBColor(c.0, c.1, c.2), values)
        })
        .collect();
    stacked_bars(
        "JIT requests per day (UTC), by outcome",
        "day",
        "requests",
        &days,
        &series,
    )
}

/// Bars per category, each stacked from its series in order, with a legend of the series.
fn stacked_bars(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    categories: &[String],
    series: &[(String, RGBColor, Vec<usize>)],
) -> Result<String> {
    let total = |i: usize| {
        series
            .iter()
            .map(|s| s.2.get(i).copied().unwrap_or(0))
            .sum::<usize>()
    };
    let max = (0..categories.len()).map(total).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        // The legend has its own column at the right, where it covers no bar.
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .margin_right(LEGEND_WIDTH)
            .x_label_area_size(50)
            .y_label_area_size(50)
            // Segments, so each label sits under the middle of its own bar.
            .build_cartesian_2d(
                (0..categories.len().max(1) - 1).into_segmented(),
                0..(max + 1),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(categories.len().clamp(1, 32))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => categories.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        for (si, (label, colour, _)) in series.iter().enumerate() {
            let colour = *colour;
            let bars: Vec<_> = (0..categories.len())
                .map(|i| {
                    let below: usize = series[..si]
                        .iter()
                        .map(|s| s.2.get(i).copied().unwrap_or(0))
                        .sum();
                    let n = series[si].2.get(i).copied().unwrap_or(0);
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(i), below),
                            (SegmentValue::Exact(i + 1), below + n),
                        ],
                        colour.filled(),
                    )
                })
                .collect();
            chart.draw_series(bars).map_err(err)?;
            let (x, y) = (960 - LEGEND_WIDTH + 8, 48 + 18 * si as i32);
            root.draw(&Rectangle::new(
                [(x, y - 5), (x + 12, y + 5)],
                colour.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                label.clone(),
                (x + 18, y - 7),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The width of the legend's column beside a stacked bar chart.
const LEGEND_WIDTH: i32 = 100;

/// Requests by hour of day and weekday in the business-hours zone.
pub fn heat_map(d: &ChartData) -> Result<String> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let max = d.heat.iter().flatten().copied().max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let caption = format!(
            "Requests by hour and weekday ({}; callers' own zones where configured)",
            d.heat_zone
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            // A segment a weekday, its name at the row's centre (on integer ticks each name sat
            // on the line below its row).
            .build_cartesian_2d(0u32..24u32, (0u32..7u32).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "hour of day; darker = more requests (at most {max} in one cell)"
            ))
            .y_desc("weekday")
            .x_labels(24)
            .y_labels(7)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(d) => DAYS.get(*d as usize).copied().unwrap_or("").into(),
                _ => String::new(),
            })
            .disable_mesh()
            .draw()
            .map_err(err)?;
        let cells = (0..7u32)
            .flat_map(|day| (0..24u32).map(move |hour| (day, hour)))
            .map(|(day, hour)| {
                let n = d
                    .heat
                    .get(day as usize)
                    .and_then(|r| r.get(hour as usize))
                    .copied()
                    .unwrap_or(0);
                let shade = 255 - (n * 200 / max) as u8;
                let colour = if n == 0 {
                    RGBColor(245, 245, 247)
                } else {
                    RGBColor(shade, shade, 255)
                };
                Rectangle::new(
                    [
                        (hour, SegmentValue::Exact(day)),
                        (hour + 1, SegmentValue::Exact(day + 1)),
                    ],
                    colour.filled(),
                )
            });
        // The shading is explained under the axis: a legend box hid the cells under it.
        chart.draw_series(cells).map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal bars of the top callers by requests.
pub fn top_callers(d: &ChartData) -> Result<String> {
    let n = d.top_callers.len().max(1);
    let max = d.top_callers.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 80 + 28 * n as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Top requesters", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(260)
            // One segment a caller, its name at the segment's centre: on plain integer ticks the
            // names sat on the bars' edges, and the tick past the last row named the top
            // caller a second time.
            .build_cartesian_2d(0..(max + 1), (0..n).into_segmented())
            .map_err(err)?;
        let names: Vec<String> = d.top_callers.iter().map(|c| c.0.clone()).collect();
        chart
            .configure_mesh()
            .x_desc("requests")
            .y_desc("caller")
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i < n => names[n - 1 - *i].clone(),
                _ => String::new(),
            })
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        let colour = RGBColor(31, 119, 180);
        chart
            .draw_series(d.top_callers.iter().enumerate().map(|(i, (_, count))| {
                let row = n - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(row)),
                        (*count, SegmentValue::Exact(row + 1)),
                    ],
                    colour.mix(0.85).filled(),
                );
                // A gap between bars, so each reads as its caller's.
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(err)?;
        // One series: the axis says what the bars count, and a legend box hid the last bar.
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Findings per rule, stacked by severity.
pub fn findings_by_rule(d: &ChartData) -> Result<String> {
    let rules: Vec<String> = d.findings_by_rule.keys().cloned().collect();
    let series: Vec<(String, RGBColor, Vec<usize>)> = SEVERITY_COLOURS
        .iter()
        .map(|(severity, colour)| {
            let values = d
                .findings_by_rule
                .values()
                .map(|m| m.get(*severity).copied().unwrap_or(0))
                .collect();
            (severity.to_string(), *colour, values)
        })
        .collect();
    stacked_bars(
        "Findings by rule and severity (unsuppressed)",
        "rule",
        "findings",
        &rules,
        &series,
    )
}

/// How many VMs the open-port chart draws: those open longest in the window.
pub const WINDOW_VMS: usize = 20;

/// Open-port windows of the [`WINDOW_VMS`] VMs open longest in the window, longest at the top.
pub fn vm_windows(d: &ChartData) -> Result<String> {
    use std::collections::BTreeMap;
    // A VM is its id (names repeat across resource groups and subscriptions); summaries of
    // older versions have only the name.
    let key = |w: &OpenWindow| -> String {
        if w.vm_id.is_empty() {
            w.vm.clone()
        } else {
            w.vm_id.clone()
        }
    };
    let mut open: BTreeMap<String, i64> = BTreeMap::new();
    for w in &d.windows {
        *open.entry(key(w)).or_default() += (w.end_ms - w.start_ms).max(0);
    }
    let all = open.len();
    let mut ranked: Vec<(String, i64)> = open.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(WINDOW_VMS);
    // Row 0 is the bottom of the chart: the longest open goes last, to the top.
    let keys: Vec<String> = ranked.iter().rev().map(|(k, _)| k.clone()).collect();
    let name_of_key: BTreeMap<String, &str> =
        d.windows.iter().map(|w| (key(w), w.vm.as_str())).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &keys {
        *seen.entry(name_of_key[k]).or_default() += 1;
    }
    // A name shown twice gets its resource group (and, if that repeats too, the start of its
    // subscription id).
    let vms: Vec<String> = keys
        .iter()
        .map(|k| {
            let name = name_of_key[k];
            if seen[name] < 2 {
                return name.to_string();
            }
            let parts: Vec<&str> = k.split('/').collect();
            let after = |p: &str| {
                parts
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(p))
                    .and_then(|i| parts.get(i + 1))
                    .copied()
                    .unwrap_or("?")
            };
            format!(
                "{name} ({}, {})",
                after("resourcegroups"),
                after("subscriptions").get(..8).unwrap_or("")
            )
        })
        .collect();
    let caption = if keys.len() < all {
        format!(
            "Ports open (request start to end) on the {} VMs open longest",
            keys.len()
        )
    } else {
        "Ports open (request start to end) per VM".to_string()
    };
    let windows: Vec<(usize, &OpenWindow)> = d
        .windows
        .iter()
        .filter_map(|w| keys.iter().position(|k| *k == key(w)).map(|row| (row, w)))
        .collect();
    let (Some(lo), Some(hi)) = (
        windows.iter().map(|(_, w)| w.start_ms).min(),
        windows.iter().map(|(_, w)| w.end_ms).max(),
    ) else {
        return Ok(String::new());
    };
    let pad = ((hi - lo) / 50).max(60_000);
    let n = vms.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 90 + 30 * n as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption.as_str(), ("sans-serif", 18))
            .margin(12)
            // Room for the last time label, centred on the axis's end.
            .margin_right(60)
            .x_label_area_size(40)
            .y_label_area_size(250)
            // Segments, so each VM's name sits in the middle of its own row, not on a line
            // between two rows.
            .build_cartesian_2d((lo - pad)..(hi + pad), (0..n - 1).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time (UTC)")
            .y_desc("VM")
            .x_labels(8)
            .x_label_formatter(&|x| {
                format_time(*x * 1_000_000)
                    .get(..16)
                    .unwrap_or("")
                    .replace('T', " ")
            })
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => vms.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        let colour = RGBColor(31, 119, 180);
        chart
            .draw_series(windows.iter().map(|(row, w)| {
                let row = *row;
                Rectangle::new(
                    [
                        (w.start_ms, SegmentValue::Exact(row)),
                        (
                            w.end_ms.max(w.start_ms + pad / 4),
                            SegmentValue::Exact(row + 1),
                        ),
                    ],
                    colour.mix(0.6).filled(),
                )
            }))
            .map_err(err)?;
        // The caption says what a bar is: a legend box hid the top row's first windows.
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Findings and requests across runs (or the window's weeks): two lines on one axis, each
/// point marked, so a week that doubled stands out.
pub fn trend(t: &Trend) -> Result<String> {
    if t.points.is_empty() {
        return Ok(String::new());
    }
    let n = t.points.len();
    let max = t
        .points
        .iter()
        .map(|p| p.findings.max(p.requests))
        .max()
        .unwrap_or(0)
        .max(1);
    let labels: Vec<String> = t
        .points
        .iter()
        .map(|p| p.label.get(5..).unwrap_or(&p.label).to_string())
        .collect();
    let caption = if t.basis == "runs" {
        "Findings and requests per run"
    } else {
        "Findings and requests per week"
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(50)
            .build_cartesian_2d((0..n.max(1) - 1).into_segmented(), 0..(max + max / 8 + 1))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(if t.basis == "runs" {
                "run (window end)"
            } else {
                "week of"
            })
            .y_desc("count")
            .x_labels(n.clamp(1, 16))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        let series: [(&str, RGBColor, Vec<usize>); 2] = [
            (
                "JIT requests",
                RGBColor(31, 119, 180),
                t.points.iter().map(|p| p.requests).collect(),
            ),
            (
                "findings (unsuppressed)",
                RGBColor(214, 39, 40),
                t.points.iter().map(|p| p.findings).collect(),
            ),
        ];
        for (label, colour, values) in series {
            let points: Vec<(SegmentValue<usize>, usize)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (SegmentValue::CenterOf(i), *v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.filled())),
                )
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_without_requests_is_on_the_axis() {
        let mut d = ChartData::default();
        for day in ["2026-11-01", "2026-11-03"] {
            d.requests_per_day
                .entry(day.to_string())
                .or_default()
                .insert("Revoked".to_string(), 2);
        }
        let svg = requests_per_day(&d).unwrap();
        for label in ["11-01", "11-02", "11-03"] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(!svg.contains("11-04"));
    }

    /// Issue 27: each requester is named once, beside its own bar; each weekday once.
    #[test]
    fn every_row_is_named_once() {
        let d = ChartData {
            top_callers: vec![
                ("ann@contoso.com".into(), 5),
                ("ben@contoso.com".into(), 3),
                ("cy@contoso.com".into(), 1),
            ],
            heat: vec![vec![1; 24]; 7],
            ..ChartData::default()
        };
        let bars = top_callers(&d).unwrap();
        for name in ["ann@contoso.com", "ben@contoso.com", "cy@contoso.com"] {
            assert_eq!(bars.matches(name).count(), 1, "{name}");
        }
        let heat = heat_map(&d).unwrap();
        for day in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] {
            assert_eq!(heat.matches(&format!("\n{day}\n")).count(), 1, "{day}");
        }
    }
}
