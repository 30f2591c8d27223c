//! Line charts as SVG, drawn by hand (no plotting dependency): panels stacked over one
//! time axis, each with its own y scale from 0 to its largest value.

use std::fmt::Write;

/// One series: its name, colour and (x, y) points.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
}

pub struct Panel<'a> {
    pub title: &'a str,
    pub series: Vec<Series<'a>>,
}

const WIDTH: f64 = 760.0;
const PANEL_HEIGHT: f64 = 150.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 45.0;

/// The panels over x from 0 to `x_max` (labelled `x_label`), a dashed line at `mark_x`.
pub fn svg(title: &str, x_label: &str, x_max: f64, mark_x: f64, panels: &[Panel]) -> String {
    let height = TOP + panels.len() as f64 * (PANEL_HEIGHT + GAP);
    let plot_width = WIDTH - LEFT - RIGHT;
    let x_of = |x: f64| LEFT + x / x_max.max(f64::MIN_POSITIVE) * plot_width;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"20\" font-size=\"14\">{}</text>\n",
        escape(title)
    );
    for (i, panel) in panels.iter().enumerate() {
        let top = TOP + i as f64 * (PANEL_HEIGHT + GAP);
        let bottom = top + PANEL_HEIGHT;
        let y_max = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max)
            * 1.1;
        let y_of = |y: f64| bottom - y / y_max.max(f64::MIN_POSITIVE) * PANEL_HEIGHT;
        let _ = write!(
            svg,
            "<rect x=\"{LEFT}\" y=\"{top}\" width=\"{plot_width}\" height=\"{PANEL_HEIGHT}\" \
             fill=\"none\" stroke=\"#999\"/>\n\
             <text x=\"{LEFT}\" y=\"{}\" font-weight=\"bold\">{}</text>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n\
             <text x=\"{}\" y=\"{bottom}\" text-anchor=\"end\">0</text>\n\
             <text x=\"{LEFT}\" y=\"{}\">0</text>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} {}</text>\n\
             <line x1=\"{mx:.1}\" y1=\"{top}\" x2=\"{mx:.1}\" y2=\"{bottom}\" stroke=\"#bbb\" \
             stroke-dasharray=\"4 3\"/>\n",
            top - 6.0,
            escape(panel.title),
            LEFT - 6.0,
            top + 10.0,
            label(y_max),
            LEFT - 6.0,
            bottom + 14.0,
            WIDTH - RIGHT,
            bottom + 14.0,
            label(x_max),
            escape(x_label),
            mx = x_of(mark_x),
        );
        for (k, series) in panel.series.iter().enumerate() {
            let points: Vec<String> = series
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", x_of(x), y_of(y)))
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n",
                series.color,
                points.join(" "),
                WIDTH - RIGHT - 4.0,
                top + 14.0 + 13.0 * k as f64,
                series.color,
                escape(series.name)
            );
        }
    }
    svg + "</svg>\n"
}

/// A value for an axis: no more digits than it needs.
fn label(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_series() {
        let panel = Panel {
            title: "RSS <MiB>",
            series: vec![Series {
                name: "rss",
                color: "#1f77b4",
                points: vec![(0.0, 1.0), (1.0, 2.0)],
            }],
        };
        let svg = svg("soak", "min", 1.0, 0.2, &[panel]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("RSS &lt;MiB&gt;"));
        assert!(svg.contains("<polyline"));
    }
}
