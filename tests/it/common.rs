//! Helpers shared by the integration tests: run the real binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(p: &str) -> String {
    root().join("fixtures").join(p).display().to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}\nstderr: {}", self.stdout, self.stderr))
    }
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The binary with `args`, run from the repository's root with nothing on
/// standard input.
fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logburst"));
    c.args(args).current_dir(root()).stdin(Stdio::null());
    c
}

pub fn logburst<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    finish(command(args).output().expect("run logburst"))
}

/// [`logburst`] with `env` added to its environment.
pub fn logburst_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Run {
    let mut c = command(args);
    c.envs(env.iter().copied());
    finish(c.output().expect("run logburst"))
}

pub fn logburst_stdin<S: AsRef<std::ffi::OsStr>>(args: &[S], input: &[u8]) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logburst");
    child.stdin.take().unwrap().write_all(input).unwrap();
    finish(child.wait_with_output().unwrap())
}

/// Starts logburst with stdout and stderr piped, for a test that acts on
/// the input while it runs.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Child {
    command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logburst")
}

/// The binary with `args`, and its peak resident memory in KiB: the
/// high-water mark of its own address space (`VmHWM`), polled until it
/// exits. (The child's `ru_maxrss` is no use here: a child spawned with a
/// shared address space inherits the test process's own peak at exec.)
#[cfg(target_os = "linux")]
pub fn logburst_peak_rss<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Run, u64) {
    use std::io::{Read, Seek};
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let mut child = command(args)
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .expect("run logburst");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let read = |mut f: std::fs::File| {
        let mut b = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut b).unwrap();
        b
    };
    let o = Output {
        status,
        stdout: read(out),
        stderr: read(err),
    };
    (finish(o), peak)
}

/// The input report of the input whose path ends with `suffix`.
pub fn input<'a>(j: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no input {suffix} in {j}"))
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    p
}

/// A combined log from 2023-02-02 07:00:00 +03:00, five requests a second
/// for `seconds` seconds, three of each second's five answered 502 during
/// `burst` (seconds from the start).
pub fn burst_access(seconds: u32, burst: std::ops::Range<u32>) -> String {
    let mut access = String::new();
    for sec in 0..seconds {
        let (m, s) = (sec / 60, sec % 60);
        for k in 0..5 {
            let status = if burst.contains(&sec) && k < 3 {
                502
            } else {
                200
            };
            access.push_str(&format!(
                "10.0.0.{k} - - [02/Feb/2023:07:{m:02}:{s:02} +0300] \"GET /api HTTP/1.1\" {status} 10 \"-\" \"t\"\n"
            ));
        }
    }
    access
}

/// A Python that imports `module`: `$LOGBURST_PYTHON` (`.ci/run` sets it
/// to its virtual environment), else `python3`; `None` where the module is
/// missing.
pub fn python_with(module: &str) -> Option<String> {
    let python = std::env::var("LOGBURST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}
