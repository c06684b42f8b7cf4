//! Replays every input the fuzzers ever found a problem with (kept in
//! `tests/fuzz/regressions/TARGET/`) and the fixtures through the same checks
//! the fuzz targets run, so a fixed crash stays fixed without a fuzzer.

use crate::checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/regressions")
        .join(target);
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            check(&data);
            n += 1;
        }
    }
    n
}

fn fixtures() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats");
    let mut v: Vec<Vec<u8>> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    v.push(b"\x1b[2J<script>| a | b |\n\xff\xfe\r\n".to_vec());
    v
}

#[test]
fn access() {
    replay("access", checks::access);
    fixtures().iter().for_each(|d| checks::access(d));
}

#[test]
fn system() {
    replay("system", checks::system);
    fixtures().iter().for_each(|d| checks::system(d));
}

#[test]
fn oom() {
    replay("oom", checks::oom);
    fixtures().iter().for_each(|d| checks::oom(d));
}

#[test]
fn stamps() {
    replay("stamps", checks::stamps);
    for s in [
        "02/Feb/2023:07:00:22 +0300",
        "2023-02-02T07:00:22.5+03:00",
        "Feb  2 07:00:22",
        "5m",
    ] {
        checks::stamps(s.as_bytes());
    }
}

#[test]
fn pipeline() {
    replay("pipeline", checks::pipeline);
    fixtures().iter().for_each(|d| checks::pipeline(d));
}

#[test]
fn nginx() {
    replay("nginx", checks::nginx);
    checks::nginx(
        b"$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent\n\
          1.2.3.4 - - [02/Feb/2023:07:00:22 +0300] \"GET / HTTP/1.1\" 502 1\n",
    );
    checks::nginx(b"http { log_format x escape=json '{\"s\":$status,\"t\":\"$msec\"}'; }");
}

#[test]
fn json() {
    replay("json", checks::json);
    fixtures().iter().for_each(|d| checks::json(d));
    checks::json(b"{\"ts\":1675310422.5,\"status\":503}\n{\"status\":1e400,\"ts\":-1}\n{\"http\":{\"response\":[]}}");
}

#[test]
fn nginx_error() {
    replay("nginx_error", checks::nginx_error);
    fixtures().iter().for_each(|d| checks::nginx_error(d));
}

#[test]
fn app() {
    replay("app", checks::app);
    fixtures().iter().for_each(|d| checks::app(d));
}

#[test]
fn summary() {
    // The seed summary (every kind of event) is kept with the regressions.
    assert!(replay("summary", checks::summary) > 0);
    fixtures().iter().for_each(|d| checks::summary(d));
}

#[test]
fn w3c() {
    replay("w3c", checks::w3c);
    fixtures().iter().for_each(|d| checks::w3c(d));
    checks::w3c(
        b"#Fields: date time sc-status\n2023-02-02 04:00:01 502\n#Fields: time\n04:00:01\n",
    );
}

#[test]
fn envelope() {
    replay("envelope", checks::envelope);
    fixtures().iter().for_each(|d| checks::envelope(d));
    for d in [
        &b"2023-02-02T07:00:13Z stdout P a\n2023-02-02T07:00:13Z stdout P b"[..],
        b"{\"log\":\"a\",\"time\":\"x\"}\n{\"log\":\"b\"}\n\n\r\n",
        b"web-1 | \x1b[36m2023-02-02T07:00:13Z x\n\n",
    ] {
        checks::envelope(d);
    }
}

#[test]
fn bgzf() {
    // The seed (two members and the end-of-file member, written from the
    // SAM/BAM specification by hand) is kept with the regressions.
    assert!(replay("bgzf", checks::bgzf) > 0);
    fixtures().iter().for_each(|d| checks::bgzf(d));
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/regressions/bgzf/two-members-and-eof.bgz");
    let seed = std::fs::read(seed).unwrap();
    let (content, whole) = logburst::internals::source::inflate_members(&seed);
    assert_eq!(
        (content.unwrap().split(|b| *b == b'\n').count(), whole),
        (13, seed.len())
    );
    // Cut anywhere, or with a byte changed, what is accepted still
    // matches the sequential decoder.
    for cut in (0..seed.len()).step_by(7) {
        checks::bgzf(&seed[..cut]);
        let mut changed = seed.clone();
        changed[cut] ^= 0x10;
        checks::bgzf(&changed);
    }
}
