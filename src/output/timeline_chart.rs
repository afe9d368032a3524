//! The caller view's timeline chart, drawn with plotters as SVG text: one lane per kind of
//! entry, JIT requests as their open-port windows, spans closer than a pixel drawn as one.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::normalize::format_time;
use crate::summary::caller::{Investigation, Kind};

/// The lanes, bottom to top, with their colours; the firewall's lane is drawn
/// only for a caller whose requests opened a VM behind an Azure Firewall.
const LANES: [(Kind, RGBColor); 5] = [
    (Kind::JitRequest, RGBColor(31, 119, 180)),
    (Kind::Activity, RGBColor(127, 127, 127)),
    (Kind::NsgChange, RGBColor(44, 160, 44)),
    (Kind::FirewallChange, RGBColor(255, 127, 14)),
    (Kind::Finding, RGBColor(214, 39, 40)),
];

/// About the width of the timeline's plot in pixels.
const PIXELS: i64 = 800;

/// `spans` (start, stop), in any order, as the fewest spans that look the same at a resolution
/// of `gap`: spans that overlap or lie closer than `gap` are drawn as one. A caller with a
/// hundred thousand records drew as many rectangles (most of a 65 MB page); at most one a
/// pixel is what a reader sees anyway.
pub fn merged(spans: &[(i64, i64)], gap: i64) -> Vec<(i64, i64)> {
    let mut sorted = spans.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (start, stop) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 + gap => last.1 = last.1.max(stop),
            _ => out.push((start, stop)),
        }
    }
    out
}

/// A caller's timeline: one lane per kind of entry, JIT requests drawn as their open-port
/// windows, everything else as points.
pub fn timeline_svg(inv: &Investigation) -> Result<String> {
    let times: Vec<i64> = inv
        .timeline
        .iter()
        .flat_map(|e| [e.time, e.end])
        .flatten()
        .collect();
    let (Some(&lo), Some(&hi)) = (times.iter().min(), times.iter().max()) else {
        return Ok(String::new());
    };
    let ms = |t: i64| t / 1_000_000;
    let pad = ((ms(hi) - ms(lo)) / 50).max(60_000);
    let (x0, x1) = (ms(lo) - pad, ms(hi) + pad);
    let lanes: Vec<(Kind, RGBColor)> = LANES
        .into_iter()
        .filter(|(k, _)| *k != Kind::FirewallChange || inv.timeline.iter().any(|e| e.kind == *k))
        .collect();
    // Each lane is named with its count beside it: a legend box over the plot hid the
    // latest entries, where an investigation looks first.
    let names: Vec<String> = lanes
        .iter()
        .map(|(k, _)| {
            let n = inv.timeline.iter().filter(|e| e.kind == *k).count();
            format!("{} ({n})", k.label())
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("chart: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Activity timeline", ("sans-serif", 18))
            .margin(12)
            // Room for the last time label, centred on the axis's end.
            .margin_right(60)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .build_cartesian_2d(x0..x1, -0.5f64..(lanes.len() as f64 - 0.5))
            .map_err(|e| anyhow!("chart: {e}"))?;
        chart
            .configure_mesh()
            .x_desc("time (UTC)")
            .y_desc("kind")
            .x_labels(8)
            .x_label_formatter(&|x| {
                format_time(*x * 1_000_000)
                    .get(..16)
                    .unwrap_or("")
                    .replace('T', " ")
            })
            .y_labels(lanes.len())
            .y_label_formatter(&|y| {
                let i = y.round() as usize;
                if (y - y.round()).abs() < 0.01 && i < lanes.len() {
                    names[i].clone()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        for (i, (kind, colour)) in lanes.iter().enumerate() {
            let colour = *colour;
            let entries: Vec<(i64, i64)> = inv
                .timeline
                .iter()
                .filter(|e| e.kind == *kind)
                .filter_map(|e| {
                    let start = ms(e.time?);
                    Some((start, e.end.map(ms).unwrap_or(start).max(start + pad / 4)))
                })
                .collect();
            let y = i as f64;
            chart
                .draw_series(merged(&entries, (x1 - x0) / PIXELS).into_iter().map(
                    |(start, stop)| {
                        Rectangle::new(
                            [(start, y - 0.25), (stop, y + 0.25)],
                            colour.mix(0.8).filled(),
                        )
                    },
                ))
                .map_err(|e| anyhow!("chart: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("chart: {e}"))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_closer_than_a_pixel_are_drawn_as_one() {
        let spans = [(30, 35), (0, 10), (12, 14), (13, 20), (100, 101)];
        assert_eq!(merged(&spans, 2), [(0, 20), (30, 35), (100, 101)]);
        assert_eq!(merged(&spans, 0).len(), 4);
        assert!(merged(&[], 5).is_empty());
    }
}
