//! The caller view's timeline chart, drawn with plotters as SVG text: one lane per kind of
//! entry, JIT requests as their open-port windows, spans closer than a pixel drawn as one.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::normalize::format_time;
use crate::summary::caller::{Investigation, Kind};

const LANES: [Kind; 4] = [
    Kind::JitRequest,
    Kind::Activity,
    Kind::NsgChange,
    Kind::Finding,
];
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(127, 127, 127),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

fn lane(kind: Kind) -> usize {
    LANES.iter().position(|k| *k == kind).unwrap_or(0)
}

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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("chart: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Activity timeline", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(100)
            .build_cartesian_2d(x0..x1, -0.5f64..(LANES.len() as f64 - 0.5))
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
            .y_labels(LANES.len())
            .y_label_formatter(&|y| {
                let i = y.round() as usize;
                if (y - y.round()).abs() < 0.01 && i < LANES.len() {
                    LANES[i].label().to_string()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        for (i, kind) in LANES.iter().enumerate() {
            let colour = COLOURS[i];
            let entries: Vec<(i64, i64)> = inv
                .timeline
                .iter()
                .filter(|e| e.kind == *kind)
                .filter_map(|e| {
                    let start = ms(e.time?);
                    Some((start, e.end.map(ms).unwrap_or(start).max(start + pad / 4)))
                })
                .collect();
            let y = lane(*kind) as f64;
            let series = chart
                .draw_series(merged(&entries, (x1 - x0) / PIXELS).into_iter().map(
                    |(start, stop)| {
                        Rectangle::new(
                            [(start, y - 0.25), (stop, y + 0.25)],
                            colour.mix(0.8).filled(),
                        )
                    },
                ))
                .map_err(|e| anyhow!("chart: {e}"))?;
            series
                .label(format!("{} ({})", kind.label(), entries.len()))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
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
