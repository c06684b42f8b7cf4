//! How wide a burst is (issue 22): a burst whose 5xx mostly went to one
//! client (one retrying a failing URL) or hit one path says so, and
//! `--min-clients` leaves such bursts out, saying so in the notes.

use crate::common::{logburst, write};

/// Two requests a second from many clients for 90 minutes, clean; then one
/// client asks for a failing URL 80 times in 40 s.
fn retry_storm() -> String {
    let mut log = String::new();
    for sec in 0..5400u32 {
        let (h, m, s) = (7 + sec / 3600, sec / 60 % 60, sec % 60);
        for k in 0..2 {
            log.push_str(&format!(
                "10.0.{}.{} - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/items HTTP/1.1\" 200 10 \"-\" \"t\"\n",
                sec % 200,
                k
            ));
        }
        if (4000..4040).contains(&sec) {
            for _ in 0..2 {
                log.push_str(&format!(
                    "10.9.9.9 - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/export HTTP/1.1\" 503 10 \"-\" \"retry\"\n"
                ));
            }
        }
    }
    log
}

#[test]
fn a_burst_of_one_client_says_so_and_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "web-01/access.log", retry_storm().as_bytes());
    let p = p.to_str().unwrap();
    let r = logburst(&["-o", "json", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let inc = &j["incidents"][0];
    assert_eq!(inc["kind"], "error-burst", "{j}");
    assert_eq!(inc["narrow"]["by"], "client", "{inc}");
    assert_eq!(inc["narrow"]["key"], "10.9.9.9");
    assert!(inc["narrow"]["share"].as_f64().unwrap() >= 0.99, "{inc}");
    let text = logburst(&[p]).stdout;
    assert!(
        text.contains("narrow    100% of the 5xx went to one client (10.9.9.9)"),
        "{text}"
    );
    let md = logburst(&["-o", "markdown", p]).stdout;
    assert!(
        md.contains("- **Narrow**: 100% of the 5xx went to one client"),
        "{md}"
    );
    // Left out with --min-clients, and said so.
    let j = logburst(&["-o", "json", "--min-clients", "3", p]).json();
    assert!(j["incidents"].as_array().unwrap().is_empty(), "{j}");
    assert_eq!(j["thresholds"]["min_clients"], 3);
    assert!(
        j["notes"].to_string().contains(
            "(80 5xx) was left out: they went to 1 distinct client, fewer than --min-clients 3"
        ),
        "{}",
        j["notes"]
    );
    // The demo's outage reached 206 clients: kept, and not narrow.
    let j = logburst(&["-o", "json", "--min-clients", "3", "fixtures/demo"]).json();
    assert_eq!(j["incidents"][0]["kind"], "error-burst");
    assert!(j["incidents"][0]["narrow"].is_null());
}
