//! Application and service signals: the lines runtimes, process managers,
//! systemd and container runtimes write when memory runs out or a worker is
//! killed. They are matched in application logs and in syslog/journal
//! messages, and land on the timeline like OOM kills.
//!
//! The patterns live in one table, [`BUILTIN`]; `--signal NAME=REGEX` adds
//! a user's own (tried first). Each is a regular expression over bytes;
//! one `RegexSet` pass tells whether a line holds any of them.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// (name, pattern): what runtimes and managers write. Sources: FORMATS.md
/// §5, §7, §8 (runtime source files and the issue threads cited there).
pub const BUILTIN: &[(&str, &str)] = &[
    // Java (HotSpot): every kind of OutOfMemoryError, and the hs_err header.
    (
        "java-oom",
        r"java\.lang\.OutOfMemoryError(?::[ \t]*[^\r\n]{0,120})?",
    ),
    (
        "java-native-oom",
        r"There is insufficient memory for the Java Runtime Environment to continue",
    ),
    // Python: the traceback's last line; numpy's array variant.
    (
        "python-memoryerror",
        r"\b(?:_ArrayMemoryError|MemoryError)\b[^\r\n]{0,120}",
    ),
    // Node.js / V8.
    (
        "node-heap-oom",
        r"Allocation failed - JavaScript heap out of memory",
    ),
    // Go.
    ("go-oom", r"fatal error: runtime: out of memory"),
    // PHP: a script over its memory_limit, and a real malloc failure.
    (
        "php-memory-limit",
        r"Allowed memory size of \d+ bytes exhausted[^\r\n]*",
    ),
    (
        "php-oom",
        r"PHP Fatal error:\s+Out of memory \(allocated \d+",
    ),
    // Rust std's allocation failure hook (and the pre-2018 text).
    (
        "rust-alloc",
        r"memory allocation of \d+ bytes failed|fatal runtime error: allocator memory exhausted",
    ),
    // C++ (libstdc++ and libc++), Ruby.
    ("cpp-bad-alloc", r"std::bad_alloc"),
    (
        "ruby-nomemory",
        r"failed to allocate memory \(NoMemoryError\)",
    ),
    // Process managers: workers killed or timed out.
    (
        "gunicorn-worker",
        r"Worker \(pid:\d+\) was sent SIGKILL! Perhaps out of memory\?|Worker with pid \d+ was terminated due to signal 9|WORKER TIMEOUT \(pid:\d+\)",
    ),
    (
        "uwsgi-worker",
        r"DAMN ! worker \d+ \(pid: \d+\) (?:died, killed|MI[SY]TERIOUSLY killed) by signal \d+|\*\*\* HARAKIRI ON WORKER \d+",
    ),
    (
        "php-fpm-child",
        r"child \d+ exited on signal 9|server reached (?:pm\.)?max_children setting",
    ),
    // Apache httpd (AH00052, AH00161): a child killed by a signal, the
    // worker limit reached.
    (
        "httpd-child",
        r"child pid \d+ exit signal [A-Za-z ]+ \(\d+\)|server reached MaxRequestWorkers setting",
    ),
    // systemd-oomd, and units whose processes the OOM killer took.
    (
        "systemd-oomd",
        r"(?:Killed|Marked) \S+ (?:for killing )?due to memory (?:pressure|used)|systemd-oomd killed \d+ process",
    ),
    (
        "systemd-unit-oom",
        r"A process of this unit has been killed by the OOM killer|Failed with result 'oom-kill'",
    ),
    // Kubernetes: the runtime's container status, the kubelet's node
    // event, node-problem-detector's kernel-monitor reason.
    (
        "k8s-oomkilled",
        r"\bOOMKill(?:ed|ing)\b|System OOM encountered",
    ),
    // Docker's events, containerd's TaskOOM event (in its own log and
    // dockerd's).
    (
        "docker-oom",
        r#"container oom [0-9a-f]{12}|"status":\s*"oom"|\bTaskOOM event\b|topic=/tasks/oom\b"#,
    ),
    // earlyoom (kill.c): the victim it signals when memory runs low, in
    // the current words and those of its first versions.
    (
        "earlyoom",
        r#"sending SIG(?:TERM|KILL) to process \d+ (?:uid \d+ )?"[^"\r\n]{0,64}": (?:badness|oom_score) -?\d+|Killing process '[^'\r\n]{0,64}' with signal (?:9|15)\b"#,
    ),
];

/// The signals that are evidence of memory running out by themselves: with
/// no incident around them they become `oom` incidents of their own, as
/// kernel kills do. Left out: process managers' worker deaths and limits
/// (timeouts and `max_children` are not memory; a SIGKILL gunicorn only
/// guesses was memory, and the kernel's own kill line says it when it was)
/// and PHP's `memory_limit`, one script's per-request cap.
pub const MEMORY: &[&str] = &[
    "java-oom",
    "java-native-oom",
    "python-memoryerror",
    "node-heap-oom",
    "go-oom",
    "php-oom",
    "rust-alloc",
    "cpp-bad-alloc",
    "ruby-nomemory",
    "systemd-oomd",
    "systemd-unit-oom",
    "k8s-oomkilled",
    "docker-oom",
    "earlyoom",
];

/// Whether a signal of this name is evidence of memory running out.
pub fn is_memory(name: &str) -> bool {
    MEMORY.contains(&name)
}

/// The table of a run. Compiled on first use, so that runs that read no
/// system or application log pay nothing for it; the user's patterns are
/// checked when the table is made.
#[derive(Debug)]
pub struct Signals {
    pairs: Vec<(String, String)>,
    /// How many of `pairs` are the user's (they come first).
    own: usize,
    compiled: OnceLock<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    set: RegexSet,
    each: Vec<Regex>,
    scanner: Option<super::triggers::Scanner>,
}

/// Patterns match bytes, ASCII classes: logs are not UTF-8.
fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// A signal found in a line: which, and the text that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<'a> {
    pub name: &'a str,
    pub text: &'a [u8],
}

impl Signals {
    /// The built-in table with the user's `(name, regex)` pairs first.
    pub fn new(extra: &[(String, String)]) -> Result<Signals, String> {
        for (name, pattern) in extra {
            build(pattern)
                .map_err(|e| format!("--signal {name}: not a valid regular expression: {e}"))?;
        }
        let mut pairs: Vec<(String, String)> = extra.to_vec();
        pairs.extend(BUILTIN.iter().map(|(n, p)| (n.to_string(), p.to_string())));
        Ok(Signals {
            pairs,
            own: extra.len(),
            compiled: OnceLock::new(),
        })
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| Compiled {
            set: RegexSetBuilder::new(self.pairs.iter().map(|(_, p)| p))
                .unicode(false)
                .build()
                .expect("patterns checked in Signals::new"),
            each: self
                .pairs
                .iter()
                .map(|(_, p)| build(p).expect("patterns checked in Signals::new"))
                .collect(),
            scanner: {
                let (own, builtin) = self.pairs.split_at(self.own);
                super::triggers::Scanner::new(
                    own.iter().map(|(_, p)| p.as_str()),
                    builtin.iter().map(|(_, p)| p.as_str()),
                )
            },
        })
    }

    /// The block search for these signals and the fixed triggers; `None`
    /// when every line must be read in full.
    pub fn scanner(&self) -> Option<&super::triggers::Scanner> {
        self.compiled().scanner.as_ref()
    }

    /// The first signal of the table the text holds; in a kernel
    /// message only the user's own: the built-in ones are programs'
    /// words, which the kernel never writes.
    pub fn find<'s, 't>(&'s self, text: &'t [u8], kernel: bool) -> Option<Found<'t>>
    where
        's: 't,
    {
        let c = self.compiled();
        let i = c
            .set
            .matches(text)
            .into_iter()
            .next()
            .filter(|&i| !kernel || i < self.own)?;
        let m = c.each[i].find(text)?;
        Some(Found {
            name: &self.pairs[i].0,
            text: &text[m.start()..m.end()],
        })
    }
}

/// Reads `NAME=REGEX` as given to `--signal`.
#[warn(missing_docs)]
pub fn parse_arg(arg: &str) -> Result<(String, String), String> {
    let (name, re) = arg
        .split_once('=')
        .ok_or_else(|| format!("--signal '{arg}': expected NAME=REGEX"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "--signal '{arg}': the name must be letters, digits, '-' or '_'"
        ));
    }
    if re.is_empty() {
        return Err(format!("--signal '{arg}': empty pattern"));
    }
    Ok((name.to_string(), re.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &Signals, line: &str) -> Option<String> {
        s.find(line.as_bytes(), false).map(|f| f.name.to_string())
    }

    #[test]
    fn every_runtime_is_recognised() {
        let s = Signals::new(&[]).unwrap();
        let cases = [
            ("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", "java-oom"),
            ("Terminating due to java.lang.OutOfMemoryError: Metaspace", "java-oom"),
            ("java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached", "java-oom"),
            ("# There is insufficient memory for the Java Runtime Environment to continue.", "java-native-oom"),
            ("MemoryError", "python-memoryerror"),
            ("numpy.core._exceptions._ArrayMemoryError: Unable to allocate 58.0 GiB for an array with shape (176351, 176460) and data type uint16", "python-memoryerror"),
            ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "node-heap-oom"),
            ("fatal error: runtime: out of memory", "go-oom"),
            ("[26-Apr-2023 16:28:16 UTC] PHP Fatal error:  Allowed memory size of 3221225472 bytes exhausted (tried to allocate 8192 bytes) in /var/www/html/src/Database/Database.php on line 975", "php-memory-limit"),
            ("PHP Fatal error:  Out of memory (allocated 1837105152) (tried to allocate 65536 bytes) in /srv/app/vendor/Cache.php on line 112", "php-oom"),
            ("memory allocation of 23400000000 bytes failedAborted", "rust-alloc"),
            ("terminate called after throwing an instance of 'std::bad_alloc'", "cpp-bad-alloc"),
            ("  what():  std::bad_alloc", "cpp-bad-alloc"),
            ("app.rb:3:in 'm': failed to allocate memory (NoMemoryError)", "ruby-nomemory"),
            ("[2020-09-12 05:37:52 +0000] [18] [ERROR] Worker (pid:21) was sent SIGKILL! Perhaps out of memory?", "gunicorn-worker"),
            ("[2020-09-12 05:37:52 +0000] [18] [CRITICAL] WORKER TIMEOUT (pid:21)", "gunicorn-worker"),
            ("DAMN ! worker 3 (pid: 4242) died, killed by signal 9 :( trying respawn ...", "uwsgi-worker"),
            ("DAMN ! worker 3 (pid: 4242) MISTERIOUSLY killed by signal 9 :( trying respawn ...", "uwsgi-worker"),
            ("*** HARAKIRI ON WORKER 2 (pid: 4243, try: 1, graceful: no) ***", "uwsgi-worker"),
            ("[07-Apr-2021 12:06:02] WARNING: [pool www] child 94930 exited on signal 9 (SIGKILL) after 0.000895 seconds from start", "php-fpm-child"),
            ("[Fri Sep 09 10:43:02.114550 2011] [core:notice] [pid 35701] AH00052: child pid 35708 exit signal Segmentation fault (11)", "httpd-child"),
            ("[mpm_event:error] [pid 1:tid 2] AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting", "httpd-child"),
            ("WARNING: [pool www] server reached pm.max_children setting (5), consider raising it", "php-fpm-child"),
            ("Killed /system.slice/httpd.service due to memory used (32305733632) / total (33046…", "systemd-oomd"),
            ("Marked /system.slice/systemd-journald.service for killing due to memory pressure for /system.slice being 85.03% > 80.00% for > 2s with reclaim activity", "systemd-oomd"),
            ("user@1021.service: A process of this unit has been killed by the OOM killer.", "systemd-unit-oom"),
            ("shopapi.service: Failed with result 'oom-kill'.", "systemd-unit-oom"),
            ("    Reason:       OOMKilled", "k8s-oomkilled"),
            ("2019-05-04T18:05:45.011072877-05:00 container oom 29d72966e0be4f1e (name=k8s_notebook)", "docker-oom"),
            (r#"{"status":"oom","id":"29d72966e0be","time":1449497871}"#, "docker-oom"),
            ("kernel-monitor  OOMKilling  Killed process 4242 (java) total-vm:8388608kB, anon-rss:4194304kB, file-rss:0kB", "k8s-oomkilled"),
            (r#"time="2023-02-02T07:00:13.123Z" level=info msg="TaskOOM event &TaskOOM{ContainerID:4c01db0b339c,XXX_unrecognized:[],}""#, "docker-oom"),
            (r#"sending SIGTERM to process 4242 uid 1000 "java": oom_score 812, VmRSS 7168 MiB, cmdline "java -jar app.jar""#, "earlyoom"),
            (r#"sending SIGKILL to process 4242 "firefox": badness 612, VmRSS 2113 MiB"#, "earlyoom"),
            ("earlyoom: Killing process 'firefox' with signal 15", "earlyoom"),
            (r#"time="2023-02-02T07:00:13.123456789Z" level=debug msg=event module=libcontainerd namespace=moby topic=/tasks/oom"#, "docker-oom"),
        ];
        for (line, want) in cases {
            assert_eq!(name(&s, line).as_deref(), Some(want), "{line}");
        }
        for quiet in [
            "GET /api/memory HTTP/1.1",
            "MemoryErrorHandler installed",
            "worker 3 started",
            "Killed process 4242 (python3)",
        ] {
            assert_eq!(name(&s, quiet), None, "{quiet}");
        }
    }

    #[test]
    fn user_signals_come_first_and_bad_ones_are_refused() {
        let s = Signals::new(&[("pool-exhausted".into(), r"connection pool exhausted".into())])
            .unwrap();
        assert_eq!(
            name(&s, "HikariPool-1 - connection pool exhausted").as_deref(),
            Some("pool-exhausted")
        );
        assert_eq!(
            s.find(b"fatal error: runtime: out of memory", false)
                .unwrap()
                .text,
            b"fatal error: runtime: out of memory"
        );
        assert!(Signals::new(&[("x".into(), "(".into())])
            .unwrap_err()
            .contains("--signal x"));
        assert!(parse_arg("noequals").is_err());
        assert!(parse_arg("bad name=x").is_err());
        assert!(parse_arg("n=").is_err());
        assert_eq!(parse_arg("n=a=b").unwrap(), ("n".into(), "a=b".into()));
    }
}
