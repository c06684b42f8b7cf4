//! `az://` inputs against a real Azure Blob API on loopback: Azurite
//! (`azurite` from npm, which `.ci/run` installs under `target/ci-node`;
//! `$LOGBURST_AZURITE` names its `azurite-blob`, else it is looked up on
//! `PATH`). The fixtures uploaded and read by `az://` give the JSON a
//! local run gives, byte for byte but for the paths; a missing container
//! and a wrong account key say so and the other inputs are still read.
//! (No Google Cloud Storage emulator on the package registries speaks the
//! XML listing API that `gs://` uses, so `gs://` has no such test.)

use crate::common;
use crate::object_storage::{logburst_env_only, read_as_the_fixtures, wait_for_http};

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use common::root;

/// The account and key every Azurite has (Microsoft's documented
/// development-storage account).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An Azurite blob service on a free loopback port, in memory, stopped
/// when dropped.
struct Azurite {
    child: Child,
    url: String,
}

impl Azurite {
    /// `None` (said on stderr) where Azurite is not installed.
    fn start() -> Option<Azurite> {
        let program = std::env::var("LOGBURST_AZURITE").unwrap_or_else(|_| "azurite-blob".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spawned = Command::new(&program)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--silent", "--disableTelemetry"])
            .arg("--skipApiVersionCheck")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            eprintln!("{program} (Azurite, from npm) is not installed: az:// tests skipped");
            return None;
        };
        let azurite = Azurite {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // Any HTTP answer will do (unsigned requests are refused).
        wait_for_http(&azurite.url, "Azurite");
        Some(azurite)
    }

    /// Creates a container: a Put Container request signed with the
    /// account key (Shared Key, as Azure's REST reference lays it out;
    /// no client on the registries makes it simpler).
    fn container(&self, name: &str) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let version = "2021-08-06";
        // Verb, eleven empty standard headers, the x-ms- headers, the
        // resource (path-style: the account twice) and its query.
        let to_sign = format!(
            "PUT\n{}x-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container",
            "\n".repeat(11)
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &b64.decode(KEY).unwrap());
        let signature = b64.encode(ring::hmac::sign(&key, to_sign.as_bytes()));
        let url = format!("{}/{ACCOUNT}/{name}?restype=container", self.url);
        let r = ureq::put(&url)
            .header("x-ms-date", &date)
            .header("x-ms-version", version)
            .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
            .send(&[][..]);
        assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(201), "PUT {url}");
    }

    /// Uploads every file of `fixtures/DIR` to `container/DIR/…`, as a
    /// client with the account key would.
    fn upload(&self, container: &str, dir: &str) {
        use object_store::ObjectStoreExt;
        let store = object_store::azure::MicrosoftAzureBuilder::new()
            .with_account(ACCOUNT)
            .with_access_key(KEY)
            .with_container_name(container)
            .with_endpoint(format!("{}/{ACCOUNT}", self.url))
            .with_allow_http(true)
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for e in walkdir::WalkDir::new(root().join("fixtures").join(dir)) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(root().join("fixtures")).unwrap();
                let key = rel.display().to_string();
                let body = object_store::PutPayload::from(std::fs::read(e.path()).unwrap());
                runtime
                    .block_on(store.put(&key.as_str().into(), body))
                    .unwrap_or_else(|e| panic!("put {key}: {e}"));
            }
        }
    }

    /// The environment a user sets for the emulator (object_store's
    /// `AZURE_STORAGE_USE_EMULATOR`, Azurite's documented key).
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true"),
            ("AZURITE_BLOB_STORAGE_URL", self.url.as_str()),
        ]
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fleet (plain logs, three hosts) and the demo (a rotated `.gz`
/// among them) read from `az://` give the local run's JSON.
#[test]
fn az_containers_read_as_the_same_directories() {
    let Some(azurite) = Azurite::start() else {
        return;
    };
    azurite.container("logs");
    azurite.upload("logs", "fleet");
    azurite.upload("logs", "demo");
    read_as_the_fixtures("az://logs", &azurite.env());
}

/// A missing container and a wrong account key: each named with its URL
/// and cause, the local input still analysed.
#[test]
fn az_errors_name_the_url_and_the_cause() {
    let Some(azurite) = Azurite::start() else {
        return;
    };
    azurite.container("logs");
    azurite.upload("logs", "fleet");
    // The error an input's entry carries, the local input read beside it.
    let run = |url: &str, env: &[(&str, &str)]| {
        let r = logburst_env_only(&["-o", "json", url, "fixtures/fleet/web-03"], env);
        assert!(
            r.stderr.contains(&format!("cannot read {url}: ")),
            "{}",
            r.stderr
        );
        let json = r.json();
        let inputs = json["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 2, "{}", r.stdout);
        let path = |p: &str| inputs.iter().find(|i| i["path"] == p).unwrap();
        let local = path("fixtures/fleet/web-03/access.log");
        assert!(local["lines"].as_u64() > Some(0), "{}", r.stdout);
        path(url)["error"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(run("az://nothere/x", &azurite.env()), "no such container");
    assert_eq!(
        run("az://logs/fleet/web-09", &azurite.env()),
        "no objects under this prefix"
    );
    // The account's name, but not its key: refused, not "no objects".
    let endpoint = format!("{}/{ACCOUNT}", azurite.url);
    let wrong = [
        ("AZURE_STORAGE_ACCOUNT_NAME", ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", "d3Jvbmcga2V5"),
        ("AZURE_STORAGE_ENDPOINT", endpoint.as_str()),
        ("AZURE_ALLOW_HTTP", "true"),
    ];
    assert_eq!(
        run("az://logs/fleet", &wrong),
        "the credentials were refused"
    );
    // The right key by the same settings reads it.
    let right = [
        wrong[0],
        ("AZURE_STORAGE_ACCOUNT_KEY", KEY),
        wrong[2],
        wrong[3],
    ];
    let read = logburst_env_only(&["-o", "json", "az://logs/fleet"], &right);
    assert_eq!(read.code, 0, "{}", read.stderr);
    assert_eq!(read.json()["inputs"].as_array().unwrap().len(), 4);
}
