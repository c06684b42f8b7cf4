//! The HTML page: self-contained, every piece of log content escaped, and
//! — rendered by headless Chromium where it is installed — a chart that
//! really draws the burst inside its incident's shading.

use crate::checks;
use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A 5xx burst whose requests carry markup, terminal escapes and Markdown
/// table breakers in their paths, a malformed line of the same, and a host
/// name of the same.
fn hostile_logs(dir: &Path) -> String {
    let mut text = String::new();
    for s in 0..60 {
        let path = if s % 2 == 0 {
            "/\x1b[2J<script>alert(1)</script>|a|**b**[x](y)"
        } else {
            "/<img/src=x/onerror=alert(2)>"
        };
        text.push_str(&format!(
            "10.0.0.{s} - - [02/Feb/2023:07:00:{s:02} +0300] \"GET {path} HTTP/1.1\" 502 1 \"-\" \"\x1b]0;owned\x07\"\n"
        ));
    }
    text.push_str("\x1b[2J<script>alert(3)</script> | --- | \x07\n");
    let p = dir.join("access.log");
    std::fs::write(&p, text).unwrap();
    format!("<b>web<i>\x1b[31m={}", p.display())
}

#[test]
fn log_content_is_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let spec = hostile_logs(dir.path());
    for output in ["text", "json", "markdown", "csv", "html"] {
        let r = logburst(&["-o", output, &spec]);
        assert_eq!(r.code, 0, "{output}: {}", r.stderr);
        for s in [&r.stdout, &r.stderr] {
            assert!(
                !s.chars().any(|c| c.is_control() && c != '\n'),
                "{output}: raw control character in\n{s}"
            );
        }
        match output {
            "html" => {
                checks::html_tags_are_ours(&r.stdout);
                assert!(r.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
                assert!(r.stdout.contains("&lt;img/src=x/onerror=alert(2)&gt;"));
                assert!(r.stdout.contains("&lt;b&gt;web&lt;i&gt;\\x1B[31m"));
                assert!(r.stdout.contains("\\x1B[2J&lt;script&gt;alert(3)"));
            }
            "markdown" => {
                assert!(!r.stdout.contains("<script>") && !r.stdout.contains("<img"));
                let paths = r
                    .stdout
                    .lines()
                    .find(|l| l.starts_with("- **Top paths hit**"))
                    .expect("top paths in the draft");
                assert!(
                    paths.contains(
                        "&lt;script&gt;alert(1)&lt;/script&gt;\\|a\\|\\*\\*b\\*\\*\\[x\\](y)"
                    ),
                    "{paths}"
                );
            }
            "json" => {
                let j = r.json();
                let paths: Vec<&str> = j["incidents"][0]["top_paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["path"].as_str().unwrap())
                    .collect();
                // JSON keeps the content, escaped by JSON's own rules.
                assert_eq!(
                    paths,
                    [
                        "/\x1b[2J<script>alert(1)</script>|a|**b**[x](y)",
                        "/<img/src=x/onerror=alert(2)>"
                    ]
                );
                assert!(r.stdout.contains("\\u001b[2J<script>"));
            }
            "text" => assert!(r.stdout.contains("\\x1B[2J<script>alert(1)")),
            _ => {}
        }
    }
}

#[test]
fn html_page_is_self_contained_and_written_by_html_flag() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let r = logburst(&[
        "--html",
        page.to_str().unwrap(),
        "-o",
        "json",
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json(); // stdout is still the JSON asked for
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html, logburst(&["-o", "html", "fixtures/demo"]).stdout);
    // Nothing fetched from elsewhere, no script at all.
    for banned in ["<script", "src=", "href=", "url(", "@import", "<link"] {
        assert!(!html.contains(banned), "{banned}");
    }
    assert!(html.contains("default-src 'none'"));
    // The chart, its incident, the kills and the detection, the accounting.
    assert!(html.contains("<svg id=\"overview\""));
    assert_eq!(html.matches("<rect class=\"incident\"").count(), 1);
    assert_eq!(html.matches("<line class=\"oom\"").count(), 4);
    assert_eq!(html.matches("<line class=\"detected\"").count(), 1);
    assert!(html.contains("206 distinct clients got a 5xx"));
    assert!(
        html.contains("<td class=\"n\">8,632</td><td class=\"n\">8,631</td><td class=\"n\">1</td>")
    );
    // An unwritable destination is an error naming it.
    let r = logburst(&["--html", "/nonexistent-dir/x.html", "fixtures/demo"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent-dir/x.html"), "{}", r.stderr);
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|b| b.to_string())
}

/// The text a reader sees on a page: tags, the style sheet and the SVG's
/// markup dropped, runs of white space made one space, a line per block.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open..];
        let skip_to = ["<style", "<script"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => tag.find(&close).map_or(tag.len(), |e| e + close.len()),
            None => tag.find('>').map_or(tag.len(), |e| e + 1),
        };
        let name = &tag[1..end.min(tag.len())];
        if [
            "p", "h1", "h2", "h3", "tr", "li", "div", "/p", "/h1", "/h2", "/tr", "/li",
        ]
        .iter()
        .any(|b| name.starts_with(b) && !name[b.len()..].starts_with(|c: char| c.is_alphanumeric()))
        {
            out.push('\n');
        }
        rest = &tag[end..];
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The README's screenshot is of the page this version draws: the text
/// of the page it was taken from is kept beside it
/// (`tests/screenshots/demo-html.png.txt`) and must be the text of today's
/// page — the title, the subtitle with the rule, every incident fact and
/// the cause. Needs no browser.
#[test]
fn readme_screenshot_is_of_this_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("demo.html");
    let r = logburst(&["--html", page.to_str().unwrap(), "-q", "fixtures/demo"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let now = visible_text(&std::fs::read_to_string(&page).unwrap());
    let shot = common::root().join("tests/screenshots/demo-html.png.txt");
    let then = std::fs::read_to_string(&shot).unwrap_or_default();
    assert!(
        now == then,
        "the README's screenshot is of another page; refresh it with\n  LOGBURST_SCREENSHOT=tests/screenshots/demo-html.png cargo test --test it html\nthe page's text is now:\n{now}"
    );
    assert!(now.contains("logburst: 1 incident in 3 inputs"), "{now}");
}

/// Renders the demo's page in headless Chromium and reads the screenshot:
/// the chart is there (the requests' blue and the 5xx red, in quantity),
/// and the red is drawn where the incident is shaded. With
/// `LOGBURST_SCREENSHOT=PATH` the screenshot is also kept (the README's).
#[test]
fn chromium_draws_the_chart() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED chromium_draws_the_chart: no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("demo.html");
    let shot = dir.path().join("demo.png");
    let r = logburst(&["--html", page.to_str().unwrap(), "-q", "fixtures/demo"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1100,900",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Ok(keep) = std::env::var("LOGBURST_SCREENSHOT") {
        std::fs::copy(&shot, &keep).unwrap();
        let text = visible_text(&std::fs::read_to_string(&page).unwrap());
        std::fs::write(format!("{keep}.txt"), text).unwrap();
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.line_size / info.width as usize;
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixel = |x: usize, y: usize| {
        let o = y * info.line_size + x * channels;
        (buf[o], buf[o + 1], buf[o + 2])
    };
    let (red, blue) = ((0xd6, 0x36, 0x38), (0x9e, 0xc5, 0xe8));
    let near = |p: (u8, u8, u8), q: (u8, u8, u8)| {
        p.0.abs_diff(q.0) <= 12 && p.1.abs_diff(q.1) <= 12 && p.2.abs_diff(q.2) <= 12
    };
    let shading = |p: (u8, u8, u8)| p.0 > 240 && p.1 > 220 && p.1 < 245 && p.2 > 170 && p.2 < 215;
    let (w, h) = (info.width as usize, info.height as usize);
    // The incident's yellow shading over white: the columns where it runs
    // tall (the legend's swatch and text edges do not), and the rows it spans
    // (the plot's height).
    let mut shade_columns = Vec::new();
    let (mut top, mut bottom) = (usize::MAX, 0);
    for x in 0..w {
        let rows: Vec<usize> = (0..h).filter(|y| shading(pixel(x, *y))).collect();
        if rows.len() >= 60 {
            shade_columns.push(x);
            top = top.min(rows[0]);
            // The bars cover the shading's lower part, down to the axis.
            let bars = (0..h)
                .rev()
                .find(|y| [red, blue].iter().any(|c| near(pixel(x, *y), *c)));
            bottom = bottom.max(bars.unwrap_or(rows[rows.len() - 1]));
        }
    }
    let (Some(&shade_min), Some(&shade_max)) = (shade_columns.first(), shade_columns.last()) else {
        panic!("no incident shading");
    };
    let (mut reds, mut blues) = (Vec::new(), 0usize);
    for y in top..=bottom {
        for x in 0..w {
            let p = pixel(x, y);
            if near(p, red) {
                reds.push(x);
            } else if near(p, blue) {
                blues += 1;
            }
        }
    }
    eprintln!("plot rows {top}..{bottom}, shaded columns {shade_min}..{shade_max}");
    assert!(blues > 10_000, "requests area: {blues} px");
    assert!(reds.len() > 2_000, "5xx area: {} px", reds.len());
    // A lone 5xx outside the burst draws a sliver: nearly all red lies
    // inside the shading.
    let inside = reds
        .iter()
        .filter(|x| (shade_min.saturating_sub(2)..=shade_max + 2).contains(*x))
        .count();
    assert!(
        inside * 100 >= reds.len() * 95,
        "{inside} of {} red px in the shaded {shade_min}..{shade_max}",
        reds.len()
    );
}
