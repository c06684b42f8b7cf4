//! Object storage inputs against a real S3 API on loopback: moto's server
//! (`moto[server]` from PyPI, in the virtual environment `.ci/run` makes;
//! `$LOGBURST_PYTHON` names its Python). The fixtures uploaded and read by
//! `s3://` give the JSON a local run gives, byte for byte but for the
//! paths; the bad cases say what went wrong and the other inputs are
//! still analysed.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{root, Run};

/// The binary with `env` as its only AWS and Azure settings (none
/// inherited from the environment the tests run in).
pub(crate) fn logburst_env_only(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logburst"));
    c.args(args).current_dir(root()).stdin(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| {
        ["AWS_", "AZURE_", "AZURITE_"]
            .iter()
            .any(|p| k.starts_with(p))
    }) {
        c.env_remove(k);
    }
    // Nor the AWS profile files of whoever runs the tests.
    c.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws/credentials",
    )
    .env("AWS_CONFIG_FILE", "/nonexistent/aws/config");
    let o = c.envs(env.iter().copied()).output().expect("run logburst");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A moto S3 server on a free loopback port, stopped when dropped.
pub(crate) struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    /// `None` (said on stderr) where moto is not installed.
    pub(crate) fn start() -> Option<Moto> {
        Self::start_with(&[])
    }

    /// moto with `env` in its environment (`INITIAL_NO_AUTH_ACTION_COUNT`
    /// turns its signature checks on).
    fn start_with(env: &[(&str, &str)]) -> Option<Moto> {
        let Some(python) = common::python_with("moto.server") else {
            eprintln!("moto[server] is not installed: object storage tests skipped");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // Any HTTP answer will do (403 where signatures are checked).
        wait_for_http(&moto.url, "moto");
        Some(moto)
    }

    /// Creates a bucket (moto takes an unsigned request for it).
    pub(crate) fn bucket(&self, name: &str) {
        let url = format!("{}/{name}", self.url);
        let r = ureq::put(&url).send(&[][..]);
        assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(200), "PUT {url}");
    }

    /// The bucket as a client with the users' settings sees it, to put
    /// and delete objects (signed, as a shipper would).
    fn store(&self, bucket: &str) -> object_store::aws::AmazonS3 {
        let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(bucket);
        for (k, v) in self.env() {
            b = b.with_config(k.to_ascii_lowercase().parse().unwrap(), v);
        }
        b.build().unwrap()
    }

    pub(crate) fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        use object_store::ObjectStoreExt;
        let store = self.store(bucket);
        let payload = object_store::PutPayload::from(body.to_vec());
        block_on(store.put(&key.into(), payload)).unwrap_or_else(|e| panic!("put {key}: {e}"));
    }

    fn delete(&self, bucket: &str, key: &str) {
        use object_store::ObjectStoreExt;
        block_on(self.store(bucket).delete(&key.into())).unwrap();
    }

    /// The environment a user sets for a local endpoint.
    pub(crate) fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ]
    }

    /// Uploads every file of `fixtures/DIR` to `bucket/DIR/…`.
    pub(crate) fn upload(&self, bucket: &str, dir: &str) {
        for e in walkdir::WalkDir::new(root().join("fixtures").join(dir)) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(root().join("fixtures")).unwrap();
                let key = rel.display().to_string();
                self.put(bucket, &key, &std::fs::read(e.path()).unwrap());
            }
        }
    }
}

/// Waits up to 60 s for a server at `url` to give any HTTP answer.
pub(crate) fn wait_for_http(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while matches!(
        ureq::get(url).call(),
        Err(e) if !matches!(e, ureq::Error::StatusCode(_))
    ) {
        assert!(Instant::now() < deadline, "{what} did not answer in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fleet (plain logs, three hosts) and the demo (a rotated `.gz`
/// among them) read from `s3://` give the local run's JSON.
#[test]
fn s3_prefixes_read_as_the_same_directories() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("logs");
    moto.upload("logs", "fleet");
    moto.upload("logs", "demo");
    read_as_the_fixtures("s3://logs", &moto.env());
    // An object given twice (by its prefix and by its key) is read once.
    let twice = logburst_env_only(
        &[
            "-o",
            "json",
            "s3://logs/fleet",
            "s3://logs/fleet/web-01/access.log",
        ],
        &moto.env(),
    );
    assert_eq!(twice.json()["inputs"].as_array().unwrap().len(), 4);
    assert!(
        twice.stdout.contains("the same file, read once"),
        "{}",
        twice.stdout
    );
}

/// `BASE/fleet` and `BASE/demo` (the fixtures uploaded under `BASE`) give
/// the JSON of the local directories but for the paths, and one object by
/// its key is read with the host its label gives.
pub(crate) fn read_as_the_fixtures(base: &str, env: &[(&str, &str)]) {
    for dir in ["fleet", "demo"] {
        let remote = logburst_env_only(&["-o", "json", &format!("{base}/{dir}")], env);
        assert_eq!(remote.code, 0, "{}", remote.stderr);
        let local = logburst_env_only(&["-o", "json", &format!("fixtures/{dir}")], &[]);
        assert_eq!(
            remote.stdout.replace(&format!("{base}/"), "fixtures/"),
            local.stdout
        );
        assert!(!remote.json()["incidents"].as_array().unwrap().is_empty());
    }
    let label = format!("web-09={base}/demo/web-01/access.log.1.gz");
    let one = logburst_env_only(&["-o", "json", &label], env);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let input = &one.json()["inputs"][0];
    assert_eq!(input["host"], "web-09");
    assert_eq!(input["compression"], "gzip");
    assert!(input["lines"].as_u64().unwrap() > 1000);
}

/// A missing bucket, an empty prefix, refused and missing credentials:
/// each named with its URL and cause, the local input still analysed.
#[test]
fn s3_errors_name_the_url_and_the_cause() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("logs");
    moto.upload("logs", "fleet");
    let run = |url: &str, env: &[(&str, &str)]| {
        let r = logburst_env_only(&["-o", "json", url, "fixtures/fleet/web-03"], env);
        let json = r.json();
        let inputs = json["inputs"].as_array().unwrap().clone();
        assert_eq!(inputs.len(), 2, "{}", r.stdout);
        let local = inputs
            .iter()
            .find(|i| i["path"] == "fixtures/fleet/web-03/access.log");
        let lines = local.and_then(|i| i["lines"].as_u64());
        assert!(lines > Some(0), "the local input is read: {}", r.stdout);
        assert!(r.stderr.contains(url), "{}", r.stderr);
        let remote = inputs.iter().find(|i| i["path"] == url).unwrap();
        remote["error"].as_str().unwrap_or_default().to_string()
    };
    let env = moto.env();
    assert_eq!(run("s3://nobucket/fleet", &env), "no such bucket");
    assert_eq!(
        run("s3://logs/fleet/web-09", &env),
        "no objects under this prefix"
    );
    let plain: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != "AWS_ALLOW_HTTP")
        .copied()
        .collect();
    assert!(run("s3://logs/fleet", &plain).contains("AWS_ALLOW_HTTP=true"));
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut elsewhere = env.clone();
    elsewhere[0] = ("AWS_ENDPOINT_URL", &dead);
    assert!(run("s3://logs/fleet", &elsewhere).contains("cannot reach the endpoint"));
}

/// Keys the server does not know are refused, named as such, whether the
/// URL is a prefix (a listing's 403 says why) or a key (a HEAD's 403 has
/// no body: the listing is asked why); the local input is still read.
#[test]
fn s3_wrong_credentials_are_refused() {
    // Signatures checked from the first request on: "testing" is no key
    // moto's IAM holds.
    let Some(moto) = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]) else {
        return;
    };
    let urls = ["s3://logs/fleet/web-01/access.log", "s3://logs/fleet/"];
    let mut args = vec!["-o", "json"];
    args.extend(urls);
    args.push("fixtures/fleet/web-03");
    let r = logburst_env_only(&args, &moto.env());
    assert_eq!(r.code, 2, "{}", r.stderr);
    let json = r.json();
    for url in urls {
        let input = json["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == url)
            .unwrap_or_else(|| panic!("{url}: {}", r.stdout));
        assert_eq!(input["error"], "the credentials were refused", "{url}");
        assert!(
            r.stderr
                .contains(&format!("{url}: the credentials were refused")),
            "{}",
            r.stderr
        );
    }
    assert!(
        json["totals"]["requests"].as_u64() > Some(0),
        "{}",
        r.stdout
    );
}

/// Keys, region and endpoint from an AWS profile (`AWS_PROFILE`, the
/// credentials and config files) read as the same variables would; a
/// profile that is not there is an error naming it.
#[test]
fn s3_credentials_from_an_aws_profile() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("logs");
    moto.upload("logs", "fleet");
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    let config = dir.path().join("config");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = other\n\n[logs]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            "[profile logs]\nregion = us-east-1\nendpoint_url = {}\n",
            moto.url
        ),
    )
    .unwrap();
    let args = ["-q", "-o", "json", "s3://logs/fleet/"];
    let by_env = logburst_env_only(&args, &moto.env());
    assert_eq!(by_env.code, 0, "{}", by_env.stderr);
    let files = [
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let mut env = files.to_vec();
    env.push(("AWS_PROFILE", "logs"));
    let by_profile = logburst_env_only(&args, &env);
    assert_eq!(by_profile.code, 0, "{}", by_profile.stderr);
    assert!(by_profile.stdout == by_env.stdout, "{}", by_profile.stdout);
    let mut env = files.to_vec();
    env.push(("AWS_PROFILE", "nope"));
    let missing = logburst_env_only(&args, &env);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("s3://logs/fleet/: AWS_PROFILE=nope: no such profile"),
        "{}",
        missing.stderr
    );
}

/// An object deleted between the listing and the read is an error, not
/// an empty log; `--state` reads a new object only once.
#[test]
fn s3_objects_gone_or_known() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("logs");
    moto.upload("logs", "fleet");
    // The library's listing, then the deletion, then the read.
    let settings: Vec<(String, &str)> = moto
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let listing =
        logburst::internals::remote::list_with("s3://logs/fleet/web-01", &settings, (None, None));
    let objects = listing.unwrap().objects;
    assert_eq!(objects.len(), 1);
    moto.delete("logs", "fleet/web-01/access.log");
    let mut body = logburst::internals::remote::reader(&objects[0]).unwrap();
    let err = body.read_to_end(&mut Vec::new()).unwrap_err();
    assert!(
        err.to_string().contains("no such object") || err.to_string().contains("changed"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let env = moto.env();
    let requests = |r: &common::Run| r.json()["totals"]["requests"].as_u64().unwrap();
    let first = logburst_env_only(&["-o", "json", "--state", state, "s3://logs/fleet"], &env);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = logburst_env_only(&["-o", "json", "--state", state, "s3://logs/fleet"], &env);
    assert_eq!(requests(&again), 0, "nothing new: {}", again.stdout);
    let web01 = std::fs::read(root().join("fixtures/fleet/web-01/access.log")).unwrap();
    moto.put("logs", "fleet/web-04/access.log", &web01);
    let third = logburst_env_only(&["-o", "json", "--state", state, "s3://logs/fleet"], &env);
    let local = logburst_env_only(&["-o", "json", "fixtures/fleet/web-01"], &[]);
    assert_eq!(
        requests(&third),
        requests(&local),
        "only the new object: {}",
        third.stdout
    );
}

/// A transfer that ends short of the object's size is an error, not the
/// end of the log: an HTTP server that promises more than it sends.
#[test]
fn a_truncated_transfer_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = std::fs::read(root().join("fixtures/fleet/web-03/access.log")).unwrap();
    let server = std::thread::spawn(move || {
        // HEAD (the listing), then GET.
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 4096];
            let n = s.read(&mut req).unwrap();
            let head = req.starts_with(b"HEAD");
            let _ = String::from_utf8_lossy(&req[..n]);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"v1\"\r\nLast-Modified: Thu, 02 Feb 2023 07:00:00 GMT\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(header.as_bytes()).unwrap();
            if !head {
                let _ = s.write_all(&body[..body.len() / 2]);
            }
        }
    });
    let url = format!("http://{addr}/web-03/access.log");
    let r = logburst_env_only(&["-o", "json", &url], &[]);
    server.join().unwrap();
    let json = r.json();
    let input = &json["inputs"][0];
    let error = input["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains(&url), "{}", r.stderr);
}

/// `--since` / `--until` prune a load balancer prefix to the days of the
/// span (a day's slack either side), and CloudFront's flat keys by their
/// hour; the report says what was left out.
#[test]
fn since_and_until_prune_dated_keys() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("logs");
    let alb = std::fs::read(root().join("fixtures/formats/aws-alb.log")).unwrap();
    let base = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1";
    // Each object other lines (the same content twice is read once).
    let alb = String::from_utf8(alb).unwrap();
    for (k, (m, d)) in [(1, 15), (2, 1), (2, 2), (2, 3), (3, 1)]
        .into_iter()
        .enumerate()
    {
        let body = alb.replacen("T04:00:20", &format!("T04:00:2{k}"), 1);
        let key = format!(
            "{base}/2023/{m:02}/{d:02}/123456789012_elasticloadbalancing_eu-west-1_app.shop-lb.50dc6c495c0c9188_2023{m:02}{d:02}T0700Z_10.0.0.9_x.log"
        );
        moto.put("logs", &key, body.as_bytes());
    }
    let cf = std::fs::read(root().join("fixtures/formats/cloudfront.log")).unwrap();
    for hour in ["2019-12-04-21", "2019-12-01-03", "2019-12-09-00"] {
        moto.put("logs", &format!("cf/E2EXAMPLE12345.{hour}.a1b2c3.gz"), &cf);
    }
    let read = |args: &[&str]| {
        let r = logburst_env_only(args, &moto.env());
        assert_eq!(r.code, 0, "{}", r.stderr);
        let json = r.json();
        let paths: Vec<String> = json["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        (paths, json["notes"].to_string() + &r.stderr)
    };
    let span = [
        "--since",
        "2023-02-02T06:00:00Z",
        "--until",
        "2023-02-02T09:00:00Z",
    ];
    let url = format!("s3://logs/{base}/");
    let (paths, notes) = read(&[&["-o", "json"][..], &span, &[url.as_str()]].concat());
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.iter().all(|p| p.contains("_202302")), "{paths:?}");
    assert!(notes.contains("only the 3 day folders"), "{notes}");
    // Without a span, every day.
    let (all, _) = read(&["-o", "json", &url]);
    assert_eq!(all.len(), 5);
    let span = [
        "--since",
        "2019-12-04T20:00:00Z",
        "--until",
        "2019-12-04T22:00:00Z",
    ];
    let (paths, notes) = read(&[&["-o", "json"][..], &span, &["s3://logs/cf"]].concat());
    assert_eq!(paths, ["E2EXAMPLE12345.2019-12-04-21.a1b2c3.gz"]);
    assert!(
        notes.contains("2 objects whose keys' dates lie outside"),
        "{notes}"
    );
}
