//! Snapshots (insta) of every renderer on the demo and on a three-host
//! fixture (`fixtures/fleet`: one host whose backend dies after an OOM
//! kill, one that goes silent, one healthy). A change in any output shows
//! up as a diff to review (`cargo insta review`, or INSTA_UPDATE=always).

use crate::common;

use common::logburst;

fn output(args: &[&str]) -> String {
    let r = logburst(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn renderers_on_the_demo() {
    insta::assert_snapshot!("demo_json", output(&["-o", "json", "fixtures/demo"]));
    insta::assert_snapshot!("demo_csv", output(&["-o", "csv", "fixtures/demo"]));
    insta::assert_snapshot!("demo_ascii", output(&["--ascii", "fixtures/demo"]));
    insta::assert_snapshot!("demo_html", output(&["-o", "html", "fixtures/demo"]));
}

#[test]
fn renderers_on_a_fleet() {
    for (name, args) in [
        ("fleet_text", &["fixtures/fleet"][..]),
        ("fleet_json", &["-o", "json", "fixtures/fleet"][..]),
        ("fleet_markdown", &["-o", "markdown", "fixtures/fleet"][..]),
        ("fleet_csv", &["-o", "csv", "fixtures/fleet"][..]),
        ("fleet_html", &["-o", "html", "fixtures/fleet"][..]),
    ] {
        insta::assert_snapshot!(name, output(args));
    }
}
