//! Invariants over generated inputs, through the library: line accounting,
//! independence from thread count and block size, and detection equal to a
//! naive reading of the rules in `docs/detection.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use logburst::internals::detect::{Detector, Params};
use logburst::internals::source::{InputSpec, MapPolicy};
use logburst::internals::time::{civil_from_days, OffsetSecs};
use logburst::{analyze, Config};
use proptest::prelude::*;

const T0: i64 = 1_675_310_400; // 2023-02-02T04:00:00Z

fn clf(utc: i64, off: OffsetSecs) -> String {
    let l = utc + off as i64;
    let (y, m, d) = civil_from_days(l.div_euclid(86_400));
    let s = l.rem_euclid(86_400);
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][m as usize - 1];
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    format!(
        "{d:02}/{mon}/{y}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        a / 3600,
        a / 60 % 60
    )
}

fn access_line(utc: i64, status: u16, off: OffsetSecs) -> String {
    client_line(utc, status, off, 1, 0)
}

/// A request from client `10.0.x.y` (`c`) for path `/p{path}/{id}`.
fn client_line(utc: i64, status: u16, off: OffsetSecs, c: u16, path: u32) -> String {
    format!(
        "10.0.{}.{} - - [{}] \"GET /p{path}/{} HTTP/1.1\" {status} 12 \"-\" \"t\"",
        c >> 8,
        c & 255,
        clf(utc, off),
        utc % 97
    )
}

fn config(paths: Vec<InputSpec>, params: Params, threads: usize, block: usize) -> Config {
    Config {
        inputs: paths,
        params,
        threads: Some(threads),
        block_size: block,
        ..Config::default()
    }
}

fn spec(host: &str, p: &Path) -> InputSpec {
    InputSpec {
        path: Some(p.to_path_buf()),
        label: Some(host.to_string()),
    }
}

/// A line: a request at second offset `t`, or garbage.
#[derive(Clone, Debug)]
enum Gen {
    /// Second, status, client, path.
    Req(i64, u16, u16, u32),
    Garbage(Vec<u8>),
}

fn gen_line() -> impl Strategy<Value = Gen> {
    prop_oneof![
        // Up to 20 paths (what a tally holds exactly) and 1,200 clients
        // (past the exact set of the distinct count: its union must not
        // depend on grouping either).
        8 => (0i64..600, prop::sample::select(vec![200u16, 200, 200, 404, 500, 502, 503]), 0u16..1200, 0u32..20)
            .prop_map(|(t, s, c, p)| Gen::Req(t, s, c, p)),
        1 => prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..80).prop_map(Gen::Garbage),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    // lines = parsed + malformed for every input, nothing dropped, and the
    // same analysis whatever the threads and block size.
    #[test]
    fn accounting_and_thread_independence(
        lines in prop::collection::vec(gen_line(), 1..400),
        block in 200usize..2048,
        trailing_newline in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = Vec::new();
        let mut good = 0u64;
        for (i, l) in lines.iter().enumerate() {
            match l {
                Gen::Req(t, s, c, path) => { good += 1; text.extend(client_line(T0 + t, *s, 10_800, *c, *path).as_bytes()); }
                Gen::Garbage(g) => text.extend(g),
            }
            // An empty last line exists only if a newline ends it.
            let last_empty = matches!(l, Gen::Garbage(g) if g.is_empty());
            if i + 1 < lines.len() || trailing_newline || last_empty { text.push(b'\n'); }
        }
        let p = dir.path().join("access.log");
        std::fs::write(&p, &text).unwrap();
        let params = Params::default();
        let run = |threads, block, mmap| {
            analyze(&Config { mmap, ..config(vec![spec("h", &p)], params, threads, block) }).unwrap()
        };
        // Read and mapped, whole and in small blocks, on 1 to 4 threads.
        let one = run(1, 1 << 20, MapPolicy::Never);
        prop_assert_eq!(&one, &run(2, block, MapPolicy::Never));
        prop_assert_eq!(&one, &run(2, block, MapPolicy::Always));
        prop_assert_eq!(&one, &run(4, block / 2 + 100, MapPolicy::Always));
        prop_assert_eq!(&one, &run(1, 1 << 20, MapPolicy::Always));
        let i = &one.inputs[0];
        prop_assert_eq!(i.lines, lines.len() as u64);
        prop_assert_eq!(i.lines, i.parsed + i.malformed);
        // Forced format: a garbage line may happen to parse only if it
        // looks like an access line, which random bytes of this length never do.
        if i.format == "combined" {
            prop_assert_eq!(i.parsed, good);
            prop_assert_eq!(one.totals.requests, good);
        }
    }
}

/// Per-host (second → (requests, errors)).
type Counts = BTreeMap<i64, (u64, u64)>;

/// The error-burst rules of `docs/detection.md`, read as literally as possible and
/// computed the slow way: (start, detected, end) of each incident.
fn naive_bursts(hosts: &BTreeMap<String, Counts>, p: &Params) -> Vec<(i64, i64, i64)> {
    let mut series: Vec<Counts> = hosts.values().cloned().collect();
    if hosts.len() > 1 {
        let mut all = Counts::new();
        for s in hosts.values() {
            for (t, (r, e)) in s {
                let c = all.entry(*t).or_default();
                c.0 += r;
                c.1 += e;
            }
        }
        series.push(all);
    }
    let lo = series
        .iter()
        .filter_map(|s| s.keys().next())
        .min()
        .copied()
        .unwrap_or(0);
    let hi = series
        .iter()
        .filter_map(|s| s.keys().last())
        .max()
        .copied()
        .unwrap_or(0)
        + p.window;
    let window = |s: &Counts, t: i64| {
        s.range(t - p.window + 1..=t)
            .fold((0u64, 0u64), |(r, e), (_, (a, b))| (r + a, e + b))
    };
    let bad = |s: &Counts, t: i64| {
        let (r, e) = window(s, t);
        e >= p.min_errors && e > 0 && e as f64 >= p.min_ratio * r as f64
    };
    let bad_seconds: Vec<i64> = (lo..=hi)
        .filter(|t| series.iter().any(|s| bad(s, *t)))
        .collect();
    let mut groups: Vec<Vec<i64>> = Vec::new();
    for t in bad_seconds {
        match groups.last_mut() {
            Some(g) if t - g.last().unwrap() < p.cooldown => g.push(t),
            _ => groups.push(vec![t]),
        }
    }
    groups
        .iter()
        .map(|g| {
            let (d, l) = (g[0], *g.last().unwrap());
            let errs = |s: &Counts, a: i64, b: i64| -> Vec<i64> {
                s.range(a..=b)
                    .filter(|(_, (_, e))| *e > 0)
                    .map(|(t, _)| *t)
                    .collect()
            };
            let start = series
                .iter()
                .filter(|s| bad(s, d))
                .filter_map(|s| errs(s, d - p.window + 1, d).first().copied())
                .min()
                .unwrap();
            let end = series
                .iter()
                .filter(|s| bad(s, l))
                .filter_map(|s| errs(s, l - p.window + 1, l).last().copied())
                .max()
                .unwrap();
            (start, d, end)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn detection_matches_the_naive_rules(
        reqs in prop::collection::vec((0u8..3, 0i64..900, prop::sample::select(vec![200u16, 200, 500, 502])), 1..500),
        bursts in prop::collection::vec((0u8..3, 0i64..900, 5i64..40), 0..4),
    ) {
        let params = Params { window: 15, min_errors: 4, min_ratio: 0.3, cooldown: 40, gap: 100_000, detector: Detector::Threshold, ..Params::default() };
        let mut all: Vec<(u8, i64, u16)> = reqs;
        for (h, at, len) in bursts {
            for t in at..at + len {
                all.push((h, t, 503));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut per_host: BTreeMap<String, Counts> = BTreeMap::new();
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for (h, t, s) in &all {
            let host = format!("h{h}");
            let c = per_host.entry(host.clone()).or_default().entry(*t).or_default();
            c.0 += 1;
            c.1 += (*s >= 500) as u64;
            let f = files.entry(host).or_default();
            f.push_str(&access_line(T0 + t, *s, -18_000));
            f.push('\n');
        }
        let mut specs = Vec::new();
        for (h, text) in &files {
            let p = dir.path().join(format!("{h}.log"));
            std::fs::write(&p, text).unwrap();
            specs.push(spec(h, &p));
        }
        let a = analyze(&config(specs, params, 2, 4096)).unwrap();
        let got: Vec<(i64, i64, i64)> = a
            .incidents
            .iter()
            .filter(|i| i.kind == logburst::internals::report::model::IncidentKind::ErrorBurst)
            .map(|i| (i.start.utc - T0, i.detected.utc - T0, i.end.utc - T0))
            .collect();
        let want = naive_bursts(&per_host, &params);
        prop_assert_eq!(got, want);
        let hosts: BTreeSet<&String> = a.incidents.iter().flat_map(|i| &i.hosts).collect();
        prop_assert!(hosts.iter().all(|h| per_host.contains_key(*h)));
    }
}

/// Every fixture file, in a fixed order: each log family, hence every kind
/// of event a summary holds (requests, local-time requests, OOM lines,
/// upstream failures, signals, malformed lines).
fn all_fixture_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["fixtures/demo", "fixtures/formats"] {
        for e in walkdir::WalkDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .sort_by_file_name()
        {
            let e = e.unwrap();
            if e.file_type().is_file() && !e.path().to_string_lossy().ends_with(".conf") {
                files.push(e.into_path());
            }
        }
    }
    files
}

fn json_of(a: &logburst::Analysis) -> String {
    let mut out = Vec::new();
    logburst::internals::report::json::render(a, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Summaries of the runs over any contiguous split of the inputs,
    /// written to JSON, read back and merged in order, give the analysis of
    /// one run over all of them, byte for byte.
    #[test]
    fn merged_summaries_equal_one_run(cuts in proptest::collection::vec(any::<bool>(), 40)) {
        let files = all_fixture_files();
        let specs: Vec<InputSpec> = files
            .iter()
            .map(|p| InputSpec::parse(p.to_str().unwrap()))
            .collect();
        let params = Params::default();
        let whole = config(specs.clone(), params, 2, 1 << 16);
        let one = json_of(&analyze(&whole).unwrap());

        let mut merged = logburst::internals::summary::Summary::default();
        let mut group = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            group.push(s.clone());
            if i + 1 == specs.len() || cuts[i % cuts.len()] {
                let c = config(std::mem::take(&mut group), params, 1, 1 << 16);
                let part = logburst::internals::run::read(&c).unwrap();
                let text = serde_json::to_vec(&part).unwrap();
                let back = logburst::internals::summary::Summary::from_json(&text).unwrap();
                prop_assert_eq!(&back, &part);
                merged = merged.merge(back).unwrap();
            }
        }
        let from_merge = json_of(&logburst::internals::run::finish(merged, &whole).unwrap());
        prop_assert_eq!(from_merge, one);
    }
}

/// A flood of failed requests for distinct paths from thousands of
/// clients, around one heavy path: past what the bounded tallies hold
/// exactly, yet the same analysis on 1, 2 and 8 threads (blocks merge in
/// file order), the heavy path found with a count that bounds the truth,
/// and the distinct clients estimated within the sketch's error.
#[test]
fn bounded_tallies_past_capacity_are_thread_independent() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let (clients, lines) = (5_000u32, 40_000u32);
    let mut checkout = 0u64;
    for n in 0..lines {
        let t = T0 + i64::from(n) * 120 / i64::from(lines);
        let c = n * 7919 % clients;
        let path = if n % 5 == 0 {
            checkout += 1;
            "/checkout".to_string()
        } else {
            format!("/flood/x{n}y")
        };
        text.push_str(&format!(
            "10.{}.{}.1 - - [{}] \"GET {path} HTTP/1.1\" 503 0 \"-\" \"t\"\n",
            c >> 8,
            c & 255,
            clf(t, 0)
        ));
    }
    let p = dir.path().join("access.log");
    std::fs::write(&p, text).unwrap();
    let run = |threads| {
        json_of(
            &analyze(&config(
                vec![spec("h", &p)],
                Params::default(),
                threads,
                4096,
            ))
            .unwrap(),
        )
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(8));
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    let inc = &v["incidents"][0];
    let estimated = inc["clients_affected"].as_u64().unwrap();
    assert!(inc["clients_estimated"].as_bool().unwrap());
    assert!(
        estimated.abs_diff(u64::from(clients)) < u64::from(clients) / 20,
        "{estimated}"
    );
    let top = &inc["top_paths"][0];
    assert_eq!(top["path"], "/checkout");
    let (count, over) = (
        top["errors"].as_u64().unwrap(),
        top["overcount"].as_u64().unwrap(),
    );
    assert!(
        count >= checkout && count - over <= checkout,
        "{count} −{over} vs {checkout}"
    );
    // Only the heavy path is named: the flood's counters are guesses.
    assert_eq!(inc["top_paths"].as_array().unwrap().len(), 1);
    assert_eq!(inc["paths_scattered"], false);

    // Without a heavy path, none is named, and the report says why.
    let flat: String = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| l.replace("GET /checkout ", &format!("GET /flood/o{n} ")) + "\n")
        .collect();
    std::fs::write(&p, flat).unwrap();
    let v: serde_json::Value = serde_json::from_str(&run(2)).unwrap();
    assert_eq!(v["incidents"][0]["top_paths"], serde_json::json!([]));
    assert_eq!(v["incidents"][0]["paths_scattered"], true);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The routes' series of ingress-nginx lines hold exactly the lines
    /// that name an upstream, each under its name, whatever the block size
    /// and thread count.
    #[test]
    fn route_series_count_every_named_line_once(
        lines in prop::collection::vec((0i64..900, 0usize..4, prop::sample::select(vec![200u16, 502, 503])), 1..300),
        block in 200usize..2048,
    ) {
        let names = ["shop-api-80", "search-80", "-", "Auth-443"];
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (t, n, status) in &lines {
            text.push_str(&format!(
                "10.0.0.1 - - [{}] \"GET / HTTP/1.1\" {status} 5 \"-\" \"ua [x]\" 100 0.001 [{}] [] 10.1.0.{n}:80 5 0.001 {status} id\n",
                clf(T0 + t, 0),
                names[*n]
            ));
            if names[*n] != "-" {
                let e = want.entry(format!("upstream {}", names[*n])).or_default();
                e.0 += 1;
                e.1 += u64::from(*status >= 500);
            }
        }
        let p = dir.path().join("access.log");
        std::fs::write(&p, &text).unwrap();
        let read = |threads, block| {
            let c = config(vec![spec("ingress", &p)], Params::default(), threads, block);
            logburst::internals::run::read(&c).unwrap().buckets
        };
        let one = read(1, 1 << 20);
        let got: BTreeMap<String, (u64, u64)> = one
            .routes
            .iter()
            .map(|(k, s)| (k.clone(), (s.requests, s.errors)))
            .collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(&one, &read(2, block));
        prop_assert_eq!(&one, &read(3, block / 2 + 100));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// HAProxy's backends, read from raw lines in local time (one file)
    /// and from syslog-framed ones of three hosts (another): each backend's local series holds
    /// exactly its lines, under the host whose zone places them, whatever
    /// the block size and thread count.
    #[test]
    fn haproxy_backend_series_count_every_line_once(
        mut lines in prop::collection::vec((0i64..900, 0usize..3, any::<bool>(), prop::sample::select(vec![200u16, 502, -1i16 as u16])), 1..300),
        block in 200usize..2048,
    ) {
        let backends = ["shop", "search", "Auth"];
        // In time order: a clock going back is a repeated hour, whose
        // passes are settled only once the blocks are merged.
        lines.sort_by_key(|l| l.0);
        let dir = tempfile::tempdir().unwrap();
        let (mut raw, mut text) = (String::new(), String::new());
        let mut want: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for (t, b, framed, status) in &lines {
            let stamp = clf(T0 + t, 0);
            let stamp = &stamp[..stamp.len() - 6];
            let status = *status as i16;
            let msg = format!(
                "10.0.0.1:5000 [{stamp}.123] fe {}/s1 0/0/1/2/3 {status} 10 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
                backends[*b]
            );
            let host = if *framed {
                let secs = (T0 + t) % 86_400;
                text.push_str(&format!(
                    "Feb  2 {:02}:{:02}:{:02} lb-{b} haproxy[1]: {msg}\n",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ));
                format!("lb-{b}")
            } else {
                raw.push_str(&msg);
                raw.push('\n');
                "edge".to_string()
            };
            // -1, aborted before a response: read, not counted.
            if status < 0 {
                continue;
            }
            let e = want.entry((host, format!("upstream {}", backends[*b]))).or_default();
            e.0 += 1;
            e.1 += u64::from(status >= 500);
        }
        let (p, q) = (dir.path().join("haproxy.log"), dir.path().join("syslog"));
        std::fs::write(&p, &raw).unwrap();
        std::fs::write(&q, &text).unwrap();
        let read = |threads, block| {
            let c = config(vec![spec("edge", &p), spec("lbs", &q)], Params::default(), threads, block);
            logburst::internals::run::read(&c).unwrap().buckets
        };
        let one = read(1, 1 << 20);
        let mut got: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for ((_, host, route), s) in &one.local_routes {
            let e = got.entry((host.clone(), route.clone())).or_default();
            e.0 += s.requests();
            e.1 += s.errors();
        }
        prop_assert_eq!(&got, &want);
        // Equal as placement takes them: lines of a first pass (whether
        // settled in a block or by the merge) and of a second.
        let passes = |b: logburst::internals::bucket::BucketSet| {
            let series: Vec<_> = b.local_series.into_iter().map(|(k, s)| (k, s.passes())).collect();
            let routes: Vec<_> = b.local_routes.into_iter().map(|(k, s)| (k, s.passes())).collect();
            (series, routes)
        };
        let one = passes(one);
        prop_assert_eq!(&one, &passes(read(2, block)));
        prop_assert_eq!(&one, &passes(read(3, block / 2 + 100)));
    }
}

/// Lines of the system and application fixtures, each picked any number of
/// times, in any order, some with a trigger word or a request appended.
fn system_log() -> impl Strategy<Value = (String, Vec<(usize, usize)>)> {
    let files = [
        "oom-kern.log",
        "journal-services.log",
        "journal-short-precise.log",
        "syslog-rfc3339.log",
        "rfc5424.log",
        "dmesg-T.log",
        "app-java.log",
        "app-python.log",
        "logread.log",
        "nginx-stdout-mixed.log",
        "journal-json.jsonl",
    ];
    (
        prop::sample::select(files.to_vec()).prop_map(String::from),
        prop::collection::vec((0usize..1000, 0usize..6), 1..300),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// The block pre-filter (one search for the trigger words, full reading
    /// only of the lines it marks) changes nothing: the same analysis as a
    /// run whose signal is anchored, which reads every line in full.
    #[test]
    fn prefiltered_system_logs_read_as_every_line_read(
        (file, picks) in system_log(),
        block in 4096usize..16384,
    ) {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats").join(&file);
        let src = std::fs::read_to_string(fixture).unwrap();
        let pool: Vec<&str> = src.lines().collect();
        const TAILS: [&str; 6] =
            ["", " pool exhausted", " pool\texhausted", " GET /x HTTP/1.1 503", " Killed process 9 (x)", " OOMKilled"];
        let mut text = String::new();
        for (line, tail) in picks {
            let line = pool[line % pool.len()];
            // A JSON entry's words go inside its last string (the message).
            let at = match file.ends_with(".jsonl") {
                true => line.rfind('"').unwrap_or(line.len()),
                false => line.len(),
            };
            text.push_str(&line[..at]);
            text.push_str(TAILS[tail]);
            text.push_str(&line[at..]);
            text.push('\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(&file);
        std::fs::write(&p, &text).unwrap();
        let run = |pattern: &str, threads, block| {
            let c = Config {
                signals: vec![("pool".to_string(), pattern.to_string())],
                ..config(vec![spec("h", &p)], Params::default(), threads, block)
            };
            json_of(&analyze(&c).unwrap())
        };
        // Blocks longer than any line (a longer line is skipped, and
        // said so, whatever the filter).
        let every_line = run(r"(?:^|)pool\s+exhausted", 1, block);
        prop_assert_eq!(&run(r"pool\s+exhausted", 1, block), &every_line);
        prop_assert_eq!(&run(r"pool\s+exhausted", 2, block), &every_line);
    }
}
