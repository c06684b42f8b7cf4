//! The Spark recipe (`examples/spark/logburst_spark.py`) run for real:
//! PySpark in local mode (`local[2]`, PyPI's pyspark in the virtual
//! environment `.ci/run` makes, a JDK from Debian) over moto's S3 server on
//! loopback. One task per object, one merge: the report must be the one a
//! single `logburst` run over the same URLs gives, byte for byte — with
//! rotated `.gz` objects, a copy that the listing drops (its note carried
//! into the merged report), a --since/--until span, and a bucket that does
//! not exist (exit 2, the other inputs reported).

use crate::common;
use crate::object_storage::{logburst_env_only, Moto};

use std::process::{Command, Stdio};

use common::root;

/// The Python that has pyspark, where Java runs too.
fn pyspark() -> Option<String> {
    let python = common::python_with("pyspark")?;
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    java.is_ok_and(|s| s.success()).then_some(python)
}

/// The recipe over `urls` with `span`, its report as JSON text; the exit
/// code and stderr too.
fn recipe(python: &str, moto: &Moto, span: &[&str], urls: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fleet.json");
    let mut c = Command::new(python);
    c.arg(root().join("examples/spark/logburst_spark.py"))
        .args(["--master", "local[2]", "--logburst"])
        .arg(env!("CARGO_BIN_EXE_logburst"))
        .arg("--out")
        .arg(&out)
        .args(span)
        .args(urls)
        .args(["--", "-q", "-o", "json"])
        .current_dir(dir.path())
        .stdin(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        c.env_remove(k);
    }
    c.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws/credentials",
    )
    .env("AWS_CONFIG_FILE", "/nonexistent/aws/config");
    let o = c.envs(moto.env()).output().expect("run the Spark recipe");
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code().unwrap_or(-1), report, stderr)
}

#[test]
fn spark_recipe_gives_one_runs_report() {
    let Some(python) = pyspark() else {
        eprintln!("pyspark or java is not installed: the Spark recipe test is skipped");
        return;
    };
    let Some(moto) = Moto::start() else {
        return;
    };
    moto.bucket("archive");
    moto.upload("archive", "fleet");
    moto.upload("archive", "demo");
    // A rotated copy under another key: read once, the note on the kept one.
    let web03 = std::fs::read(root().join("fixtures/fleet/web-03/access.log")).unwrap();
    moto.put("archive", "fleet/web-03/access.log.1", &web03);

    let span = [
        "--since",
        "2023-02-02T06:00:00Z",
        "--until",
        "2023-02-02T07:00:00Z",
    ];
    let cases: [(&[&str], &[&str], i32); 3] = [
        (&[], &["s3://archive/"], 0),
        (&span, &["s3://archive/fleet/"], 0),
        (
            &[],
            &["s3://archive/fleet/", "s3://no-such-bucket/logs/"],
            2,
        ),
    ];
    for (span, urls, code) in cases {
        let mut args = vec!["-q", "-o", "json"];
        args.extend(span);
        args.extend(urls);
        let one = logburst_env_only(&args, &moto.env());
        assert_eq!(one.code, code, "single run {urls:?}: {}", one.stderr);
        let (status, report, stderr) = recipe(&python, &moto, span, urls);
        assert_eq!(status, code, "recipe {urls:?} {span:?}: {stderr}");
        assert!(
            report == one.stdout,
            "recipe {urls:?} {span:?}: the merged report differs from one run's\n--- one run\n{}\n--- recipe\n{report}\n--- stderr\n{stderr}",
            one.stdout
        );
        // What the comparison stands on: incidents found, the copy's note.
        let json = one.json();
        assert!(
            !json["incidents"].as_array().unwrap().is_empty(),
            "{urls:?}"
        );
        let notes = json["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["warnings"].as_array())
            .flatten()
            .filter(|n| {
                n.as_str()
                    .unwrap_or_default()
                    .contains("holds the same content")
            })
            .count();
        assert_eq!(notes, 1, "{urls:?}: the copy's note");
        if code == 2 {
            assert!(
                stderr.contains("s3://no-such-bucket/logs/: no such bucket"),
                "{stderr}"
            );
        }
    }
}
