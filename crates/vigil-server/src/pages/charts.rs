//! Server-side SVG charts. Each chart is drawn from the same numbers the
//! page shows in a table beside it, has a title and description for screen
//! readers, and needs no script.

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Horizontal bars, one per (label, value).
pub fn bars(title: &str, data: &[(String, i64)]) -> String {
    let row = 26;
    let label_w = 70;
    let width = 420;
    let height = (data.len().max(1) * row + 10) as i64;
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"t-{id}\" viewBox=\"0 0 {width} {height}\" \
         width=\"{shown}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"t-{id}\">{t}</title>",
        id = slug(title),
        t = esc(title),
        shown = width * 3 / 2
    );
    if data.is_empty() {
        s.push_str("<text x=\"0\" y=\"20\" class=\"muted\">No data yet</text>");
    }
    for (i, (label, v)) in data.iter().enumerate() {
        let y = i as i64 * row as i64 + 4;
        let w = (*v as f64 / max as f64 * (width - label_w - 50) as f64).round() as i64;
        s.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" class=\"axis\">{l}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"2\" class=\"bar\"/>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"value\">{v}</text>",
            ty = y + 14,
            l = esc(label),
            vx = label_w + w + 6,
        ));
    }
    s.push_str("</svg>");
    s
}

/// A line over ordered (label, value) points (e.g. months).
pub fn line(title: &str, data: &[(String, i64)]) -> String {
    let (w, h, left, bottom, top) = (420i64, 180i64, 36i64, 28i64, 10i64);
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"t-{id}\" viewBox=\"0 0 {w} {h}\" \
         width=\"{shown}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"t-{id}\">{t}</title>\
         <line x1=\"{left}\" y1=\"{by}\" x2=\"{w}\" y2=\"{by}\" class=\"grid\"/>\
         <text x=\"0\" y=\"{ty}\" class=\"axis\">{max}</text><text x=\"0\" y=\"{by}\" class=\"axis\">0</text>",
        id = slug(title),
        t = esc(title),
        shown = w * 3 / 2,
        by = h - bottom,
        ty = top + 10,
    );
    if data.is_empty() {
        s.push_str("<text x=\"60\" y=\"80\" class=\"muted\">No data yet</text></svg>");
        return s;
    }
    let n = data.len() as i64;
    let step = if n > 1 { (w - left - 50) / (n - 1) } else { 0 };
    let pts: Vec<(i64, i64)> = data
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let x = left + 10 + i as i64 * step;
            let y = h - bottom - (*v * (h - bottom - top)) / max;
            (x, y)
        })
        .collect();
    let path: Vec<String> = pts.iter().map(|(x, y)| format!("{x},{y}")).collect();
    s.push_str(&format!(
        "<polyline points=\"{}\" class=\"line\"/>",
        path.join(" ")
    ));
    let label_every = (n / 6).max(1) as usize;
    for (i, ((x, y), (label, _))) in pts.iter().zip(data).enumerate() {
        s.push_str(&format!(
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" class=\"dot\"/>"
        ));
        if i % label_every == 0 || i + 1 == data.len() {
            s.push_str(&format!(
                "<text x=\"{x}\" y=\"{ly}\" class=\"axis\" text-anchor=\"middle\">{l}</text>",
                ly = h - 8,
                l = esc(label)
            ));
        }
    }
    s.push_str("</svg>");
    s
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_scale_to_the_maximum() {
        let svg = bars("By country", &[("<GB>".into(), 4), ("CA".into(), 2)]);
        assert!(svg.contains("&lt;GB&gt;"));
        assert!(!svg.contains("<GB>"));
        assert!(
            svg.contains("width=\"300\""),
            "largest bar spans the plot: {svg}"
        );
        assert!(
            svg.contains("width=\"150\""),
            "half the value, half the width"
        );
        let l = line("Over time", &[("2026-01".into(), 1), ("2026-02".into(), 3)]);
        assert!(l.contains("<polyline"));
        assert!(line("x", &[]).contains("No data yet"));
    }
}
