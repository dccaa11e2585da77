//! The chart: latency against selector count, log–log, ours against the floor.

use super::*;

/// Latency against selector count, log–log, ours vs floor.
pub(super) fn chart(report: &Report, path: &Path) -> Result<()> {
    use plotters::prelude::*;

    let series = |rows: &[Row], settings: &str, pod: &str, floor: bool| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.settings == settings && r.pod == pod)
            .map(|r| {
                let v = if floor { &r.floor } else { &r.ours };
                (r.selectors as f64, v.median_us)
            })
            .collect()
    };
    // (legend, points, colour, dashed)
    type Line = (String, Vec<(f64, f64)>, RGBColor, bool);
    let lines: Vec<Line> = vec![
        (
            "ours, object-only, match (mutates)".into(),
            series(&report.validate, "object-only", "match", false),
            RGBColor(0xd6, 0x27, 0x28),
            false,
        ),
        (
            "ours, object-only, no match".into(),
            series(&report.validate, "object-only", "no match", false),
            RGBColor(0xff, 0x7f, 0x0e),
            false,
        ),
        (
            "ours, mixed (1 namespace lookup), match".into(),
            series(&report.validate, "mixed", "match", false),
            RGBColor(0x94, 0x67, 0xbd),
            false,
        ),
        (
            "ours, fresh instance per request".into(),
            series(&report.fresh_instance, "object-only", "match", false),
            RGBColor(0x8c, 0x56, 0x4b),
            true,
        ),
        (
            "floor, object-only payload".into(),
            series(&report.validate, "object-only", "match", true),
            RGBColor(0x1f, 0x77, 0xb4),
            false,
        ),
        (
            "floor, fresh instance".into(),
            series(&report.fresh_instance, "object-only", "match", true),
            RGBColor(0x17, 0xbe, 0xcf),
            true,
        ),
        (
            "ours, end to end (host work included), match".into(),
            series(&report.end_to_end, "object-only", "match", false),
            RGBColor(0xe3, 0x77, 0xc2),
            true,
        ),
        (
            "floor, end to end".into(),
            series(&report.end_to_end, "object-only", "match", true),
            RGBColor(0x2c, 0xa0, 0x2c),
            true,
        ),
        (
            format!("{RATIO_TARGET:.0} × floor, guest call only (target)"),
            series(&report.validate, "object-only", "match", true)
                .into_iter()
                .map(|(x, y)| (x, y * RATIO_TARGET))
                .collect(),
            RGBColor(0x7f, 0x7f, 0x7f),
            true,
        ),
    ];
    let all = lines.iter().flat_map(|l| l.1.iter().map(|p| p.1));
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo > 0.0 {
        (lo * 0.7, hi * 1.5)
    } else {
        (1.0, 1000.0)
    };

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "eci-profile: median validate per call vs selector count",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((0.8f64..1300f64).log_scale(), (lo..hi).log_scale())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("selectors in the settings (log)")
        .y_desc("µs per validate call (log)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (name, points, color, dashed) in lines {
        if points.is_empty() {
            continue;
        }
        let style = ShapeStyle::from(&color).stroke_width(2);
        if dashed {
            chart
                .draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        } else {
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
