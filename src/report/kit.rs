//! The HTML kit every report page is built with: one style sheet, escaping, the page
//! frame and SVG line charts drawn at report time with plotters. No scripts, fonts or
//! styles are fetched from anywhere.

use std::fmt::Write as _;

use plotters::prelude::*;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One line of a chart: a label for the legend and (x, y) points.
pub(crate) struct Line {
    pub(crate) label: String,
    pub(crate) points: Vec<(f64, f64)>,
}

impl Line {
    /// A line labelled `label` (an empty label draws no legend) through `points`.
    pub(crate) fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Line {
            label: label.into(),
            points,
        }
    }
}

/// A line chart as an SVG string (an empty-data note when there is nothing to draw).
pub(crate) fn chart(title: &str, x_desc: &str, y_desc: &str, lines: &[Line]) -> String {
    chart_with(title, x_desc, y_desc, lines, &Extras::default())
}

/// A stretch of the x axis shaded behind the lines (an outage, intervals breaking an
/// objective), named in the legend.
pub(crate) struct Shade {
    pub(crate) label: String,
    pub(crate) ranges: Vec<(f64, f64)>,
    /// Light red for a broken objective, grey for an outage.
    pub(crate) color: RGBColor,
}

/// Light red: intervals that broke an objective.
pub(crate) const BREACH: RGBColor = RGBColor(250, 200, 200);
/// Grey: the server was out.
pub(crate) const OUTAGE: RGBColor = RGBColor(200, 200, 200);

/// What a chart may draw besides its lines.
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) shades: Vec<Shade>,
    /// The x axis counts nines (x = -log10(1 - q)) and is labelled as percentiles.
    pub(crate) nines: bool,
}

/// `x` nines as a percentile label: 0 -> 0%, 1 -> 90%, 2 -> 99%, 3 -> 99.9%.
pub(crate) fn nines_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    let digits = (x - 2.0).ceil().clamp(0.0, 6.0) as usize;
    format!("{q:.digits$}%")
}

/// A line chart with [`Extras`].
pub(crate) fn chart_with(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    lines: &[Line],
    extras: &Extras,
) -> String {
    let all: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect();
    if all.is_empty() {
        return format!("<p class=\"empty\">{}: no data</p>", esc(title));
    }
    let x_max = all.iter().map(|p| p.0).fold(f64::MIN, f64::max).max(1e-9);
    let x_min = all
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .min(x_max - 1e-9);
    let y_max = (all.iter().map(|p| p.1).fold(0.0, f64::max) * 1.1).max(1.0);
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (860, 300)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x_min..x_max, 0f64..y_max)?;
        let x_label = |v: &f64| {
            if extras.nines {
                nines_label(*v)
            } else {
                human(*v)
            }
        };
        c.configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| human(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for shade in extras.shades.iter().filter(|s| !s.ranges.is_empty()) {
            let fill = shade.color.filled();
            c.draw_series(shade.ranges.iter().map(|&(a, b)| {
                Rectangle::new([(a.max(x_min), 0.0), (b.min(x_max), y_max)], fill)
            }))?
            .label(shade.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], fill));
        }
        for (i, l) in lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            c.draw_series(LineSeries::new(
                l.points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(l.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
        if lines.len() > 1 || !lines[0].label.is_empty() || !extras.shades.is_empty() {
            c.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .draw()?;
        }
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(e) => format!(
            "<p class=\"empty\">{}: {}</p>",
            esc(title),
            esc(&e.to_string())
        ),
    }
}

/// A number as people read it on an axis or in a headline: 35000 as `35k`, 1250000 as
/// `1.25M`, 1.234 as `1.23`, 0.0042 as `0.0042`.
pub(crate) fn human(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.4}"))
    }
}

/// Headline figures as a row of boxes: (label, value, css class: "", "pass" or "fail").
pub(crate) fn headline(figures: &[(&str, String, &str)]) -> String {
    let mut out = String::from("<div class=\"head\">");
    for (label, value, class) in figures {
        let _ = write!(
            out,
            "<div class=\"fig\"><b class=\"{class}\">{}</b>{}</div>",
            esc(value),
            esc(label)
        );
    }
    out.push_str("</div>");
    out
}

/// `s` escaped for HTML text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The style sheet of every page.
const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\
.head{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0 20px}.fig{border:1px solid #ddd;\
border-radius:6px;padding:8px 16px;min-width:110px;color:#555}.fig b{display:block;font-size:24px;color:#222}\
.fig b.fail{color:#b00}.fig b.pass{color:#070}\
table{border-collapse:collapse;margin:8px 0 16px;display:block;overflow-x:auto}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}code{font-size:12px}\
svg{display:block;margin:8px 0 20px;width:100%;height:auto}.empty{color:#888}.fail{color:#b00}.pass{color:#070}";

/// The start of a page titled `title` (escaped here), up to and including `<body>`; the
/// title names stormbench, which is how a later run knows the file is one of its own.
pub(crate) fn page_start(title: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>stormbench: {}</title><style>{STYLE}</style></head><body>",
        esc(title)
    );
    out
}

/// Closes a page begun with [`page_start`].
pub(crate) fn page_end(out: &mut String) {
    out.push_str("</body></html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_read_them() {
        for (v, s) in [
            (35000.0, "35k"),
            (1_250_000.0, "1.25M"),
            (1.234, "1.23"),
            (0.0042, "0.0042"),
            (0.0, "0"),
            (250.0, "250"),
            (12_345.0, "12.3k"),
        ] {
            assert_eq!(human(v), s);
        }
    }

    #[test]
    fn nines_read_as_percentiles() {
        for (x, s) in [
            (0.0, "0%"),
            (1.0, "90%"),
            (2.0, "99%"),
            (3.0, "99.9%"),
            (4.0, "99.99%"),
        ] {
            assert_eq!(nines_label(x), s);
        }
    }

    #[test]
    fn shaded_ranges_are_drawn_and_named() {
        let svg = chart_with(
            "t",
            "x",
            "y",
            &[Line::new("a", vec![(0.0, 1.0), (10.0, 2.0)])],
            &Extras {
                shades: vec![Shade {
                    label: "outage".into(),
                    ranges: vec![(2.0, 4.0)],
                    color: OUTAGE,
                }],
                nines: false,
            },
        );
        assert!(svg.contains("outage"), "the legend names it");
        assert!(
            svg.contains("rgb(200,200,200)") || svg.contains("#C8C8C8"),
            "{svg}"
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_page_names_stormbench_and_closes() {
        let mut p = page_start("sweep <1>");
        page_end(&mut p);
        assert!(p.starts_with("<!DOCTYPE html>"));
        assert!(p.contains("<title>stormbench: sweep &lt;1&gt;</title>"));
        assert!(p.ends_with("</body></html>\n"));
    }

    #[test]
    fn a_chart_without_points_says_so() {
        let c = chart(
            "tps",
            "s",
            "tx/s",
            &[Line {
                label: "a".into(),
                points: vec![],
            }],
        );
        assert!(c.contains("no data"), "{c}");
        let c = chart(
            "tps",
            "s",
            "tx/s",
            &[Line {
                label: "a".into(),
                points: vec![(0.0, 1.0), (1.0, 2.0)],
            }],
        );
        assert!(c.starts_with("<svg"), "{c}");
    }
}
