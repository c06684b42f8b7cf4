//! `--output markdown`: the postmortem draft.

use crate::common;

use common::{burst_access, fixture, logburst, write};

#[test]
fn the_demo_draft_has_every_section_and_its_evidence() {
    let r = logburst(&[
        "-o",
        "markdown",
        "--reported-at",
        "2023-02-02T07:08:18+03:00",
        &fixture("demo"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = r.stdout;
    let mut at = 0;
    for section in [
        "# Postmortem draft: 5xx burst on web-01, 2023-02-02 07:00:22 +03:00",
        "## Issue summary",
        "## Timeline",
        "## Root cause and resolution",
        "## Corrective and preventative measures",
        "## Detection",
    ] {
        let i = md[at..]
            .find(section)
            .unwrap_or_else(|| panic!("{section} missing or out of order:\n{md}"));
        at += i;
    }
    for fact in [
        "**Duration**: 16 min 16 s — from 2023-02-02 07:00:22 +03:00 to 2023-02-02 07:16:38 +03:00",
        "910 of 2,303 requests failed (39.5%)",
        "OOM kill of python3 (pid 4242, anon-rss 3.6 GB) on web-01 at 07:00:13, 9 s before the first 5xx; probably a memory leak: python3 was killed 4 times in 12 min 49 s at about 3.6 GB each, the intervals shortening from 4 min 38 s to 3 min 24 s — to be confirmed",
        "206 distinct clients affected",
        "**Top paths hit** (5xx): /api/products (151), / (125), /api/cart (125), /api/products/{id} (125), /api/cart/items/{id} (123).",
        "| 07:00:43 | detected |",
        "demo/web-01/kern.log:33)",
        "python3 was killed 4 times on web-01 between 07:00:13 and 07:13:02",
        "would have fired at 07:00:43, 21 s after onset",
        "The logs showed it 7 min 35 s before the first customer report.",
    ] {
        assert!(md.contains(fact), "{fact} missing:\n{md}");
    }
}

#[test]
fn log_content_is_escaped_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.log", burst_access(600, 100..200).as_bytes());
    let spec = format!("<script>x|y*\x1b[2J={}", p.display());
    let r = logburst(&["-o", "markdown", &spec]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("<script>"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("**Hosts**: &lt;script&gt;x\\|y\\*\\\\x1B\\[2J."),
        "{}",
        r.stdout
    );
    // A table row still has its three cells.
    for row in r.stdout.lines().filter(|l| l.starts_with("| ")) {
        assert_eq!(row.matches(" | ").count(), 2, "{row}");
    }
}

#[test]
fn kills_that_grow_and_quicken_suggest_a_leak_and_a_gap_a_health_check() {
    let dir = tempfile::tempdir().unwrap();
    let access = write(
        dir.path(),
        "web-01/access.log",
        burst_access(1800, 60..1700).as_bytes(),
    );
    let kern: String = [("07:00:50", 1_000_000), ("07:10:00", 2_000_000), ("07:15:00", 3_000_000)]
        .iter()
        .enumerate()
        .map(|(n, (t, rss))| {
            format!(
                "2023-02-02T{t}.000000+03:00 web-01 kernel: [ 1.0] Out of memory: Killed process {} (gunicorn) total-vm:9000000kB, anon-rss:{rss}kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:100kB oom_score_adj:0\n",
                100 + n
            )
        })
        .collect();
    let kern = write(dir.path(), "web-01/kern.log", kern.as_bytes());
    let r = logburst(&[
        "-o",
        "markdown",
        &format!("web-01={}", access.display()),
        kern.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Look for a memory leak in gunicorn")
            && r.stdout
                .contains("anon-rss 1.0 GB → 3.1 GB, intervals 9 min 10 s, 5 min"),
        "{}",
        r.stdout
    );

    // A host that stops answering: a traffic gap and its health check.
    let mut log = burst_access(1800, 0..0);
    log.push_str(
        &burst_access(3600, 0..0)
            .lines()
            .skip(5 * 2400)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    log.push('\n');
    let gap = write(dir.path(), "web-02/access.log", log.as_bytes());
    let r = logburst(&["-o", "markdown", &format!("web-02={}", gap.display())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("# Postmortem draft: Traffic stopped on web-02"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Add an external health check"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_readme_shows_the_demo_draft_as_printed() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme.find("````markdown\n").expect("draft in README") + "````markdown\n".len();
    let len = readme[start..].find("````\n").unwrap();
    let r = logburst(&[
        "-o",
        "markdown",
        "--reported-at",
        "2023-02-02T07:08:18+03:00",
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(&readme[start..start + len], r.stdout);
}

/// Log content adds no link to the draft under a real GitHub-flavoured
/// Markdown renderer (cmark-gfm with its autolink extension, installed by
/// .ci/run; skipped, saying so, where it is missing): URLs in request
/// paths, `www.` host names and e-mail-like text stay text, and read the
/// same.
#[test]
fn log_content_adds_no_link_under_gfm() {
    if std::process::Command::new("cmark-gfm")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("cmark-gfm not installed: the GFM autolink test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = burst_access(900, 10..360).replace(
        "GET /api ",
        "GET /https://evil.example/phish?to=ops@evil.example ",
    );
    write(
        &dir.path().join("ops@www.evil.example"),
        "access.log",
        log.as_bytes(),
    );
    let r = logburst(&["-o", "markdown", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut gfm = std::process::Command::new("cmark-gfm")
        .args(["-e", "autolink", "-e", "table", "-e", "strikethrough"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(gfm.stdin.as_mut().unwrap(), r.stdout.as_bytes()).unwrap();
    let html = String::from_utf8(gfm.wait_with_output().unwrap().stdout).unwrap();
    assert!(html.contains("(/https://evil.example/phish)"), "{html}");
    assert!(
        html.contains("burst on ops@<!-- raw HTML omitted -->www.evil.example"),
        "{html}"
    );
    assert!(!html.contains("<a "), "a link in:\n{html}");
}

/// The draft says what it rests on: an input it did not understand (the
/// evidence the draft lacks may be in it) and the run's assumptions, as
/// the text report and the JSON do.
#[test]
fn the_draft_says_what_it_did_not_understand_and_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let weird = dir.path().join("weird.log");
    std::fs::write(&weird, "hello world\nthis is not a log\n").unwrap();
    let r = logburst(&["-o", "markdown", "fixtures/demo", weird.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (draft, about) = r
        .stdout
        .split_once("\n## About the logs read\n")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(draft.contains("## Detection"), "{draft}");
    assert!(
        about.contains("**This covers only what logburst understood: 1 input was not understood"),
        "{about}"
    );
    assert!(
        about.contains("weird.log: format not recognised"),
        "{about}"
    );
    assert!(
        about.contains("kern.log: the log has no time zone"),
        "{about}"
    );
    // What the JSON says, the draft says.
    let j = logburst(&["-o", "json", "fixtures/demo", weird.to_str().unwrap()]).json();
    for n in j["notes"].as_array().unwrap() {
        let n = n.as_str().unwrap();
        let tail = &n[n.len() - 20..];
        assert!(about.contains(tail), "{n}\n{about}");
    }
}
