//! Words shared by the analysis and every renderer: durations in
//! milliseconds, memory sizes, a killed process.

use super::model::KillReport;

/// `850 ms`, `8.2 s`.
pub fn ms(v: u64) -> String {
    if v < 1000 {
        format!("{v} ms")
    } else {
        format!("{:.1} s", v as f64 / 1000.0)
    }
}

/// `3.6 GB`, `512 MB`: a size given in KiB.
pub fn kib(kb: u64) -> String {
    let b = kb as f64 * 1024.0;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// `python3 (pid 4242, anon-rss 3.6 GB)`.
pub fn describe_kill(k: &KillReport) -> String {
    let mut parts = Vec::new();
    if let Some(p) = k.victim.pid {
        parts.push(format!("pid {p}"));
    }
    if let Some(a) = k.victim.anon_rss_kb {
        parts.push(format!("anon-rss {}", kib(a)));
    }
    let what = if parts.is_empty() {
        k.victim.process.clone()
    } else {
        format!("{} ({})", k.victim.process, parts.join(", "))
    };
    match &k.container {
        Some(c) => format!("{what} in container {c}"),
        None => what,
    }
}
