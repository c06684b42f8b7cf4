//! The host a log file belongs to, from its path: the kubelet's and
//! Docker's container log paths, AWS's log object names, else the nearest
//! directory the user wrote that is not a generic log directory nor a date.
//! And the container ids that tie a kernel OOM kill's cgroup to a
//! container log among the inputs.

use std::path::Path;

/// Directory names that say what a log is, not whose it is: skipped when a
/// host is taken from the path.
const GENERIC_DIRS: &[&str] = &[
    "log",
    "logs",
    "containers",
    "pods",
    "var",
    "nginx",
    "apache",
    "apache2",
    "httpd",
    "journal",
    "archive",
    "archives",
    "tmp",
    "old",
    "rotated",
    "backup",
    "backups",
    "srv",
    "data",
    "home",
    "root",
    "mnt",
    "media",
    "opt",
    "audit",
    "syslog",
    "kern",
    "kernel",
    "app",
    "application",
    "current",
    "fixtures",
    "access",
    "error",
    "errors",
];

fn looks_like_date(name: &str) -> bool {
    // `2016/05/01/`: a year, month or day directory of its own.
    if !name.is_empty() && name.len() <= 4 && name.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let digits = name.chars().filter(char::is_ascii_digit).count();
    digits >= 6
        && name
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
        && !name.contains("..")
        && name.matches('.').count() != 3
}

/// The host a file belongs to, from its path as given: the nearest
/// enclosing directory whose name is not a generic log-directory name
/// (`log`, `nginx`, `archive`…) nor a date.
/// `archive/web-01/nginx/access.log.2.gz` → `web-01`. Only the directories
/// the user wrote count: `access.log`, run from a clone or a home
/// directory, is not named after that directory. A name that is not UTF-8
/// is kept, its bytes escaped (two such hosts stay two).
pub fn host_from_path(path: &Path) -> Option<String> {
    if let Some(pod) = kubernetes_container(path)
        .or_else(|| docker_container(path))
        .or_else(|| cloud_object(path))
    {
        return Some(pod);
    }
    path.parent()?
        .components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(os_name(s)),
            _ => None,
        })
        .find(|name| {
            let lower = name.to_ascii_lowercase();
            !name.starts_with('.')
                && !GENERIC_DIRS.contains(&lower.as_str())
                && !looks_like_date(name)
        })
}

/// `namespace/pod/container` of a Kubernetes container log, by the paths
/// the kubelet writes: `…/pods/<namespace>_<pod>_<uid>/<container>/0.log`
/// (rotated: `0.log.20230202-070000`, `.gz`) and the symlinks
/// `…/containers/<pod>_<namespace>_<container>-<64 hex id>.log`. Object
/// names hold no `_` (DNS labels), so the `_`-separated parts are
/// unambiguous.
fn kubernetes_container(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let parent = path.parent()?;
    let stem = name.split('.').next()?;
    let is_uid = |u: &str| {
        u.len() == 36
            && u.chars().filter(|c| *c == '-').count() == 4
            && u.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    };
    if !stem.is_empty()
        && stem.chars().all(|c| c.is_ascii_digit())
        && name[stem.len()..].starts_with(".log")
    {
        let container = os_name(parent.file_name()?);
        let pod_dir = os_name(parent.parent()?.file_name()?);
        let parts: Vec<&str> = pod_dir.split('_').collect();
        if let [ns, pod, uid] = parts[..] {
            if is_uid(uid) && !ns.is_empty() && !pod.is_empty() && !container.is_empty() {
                return Some(format!("{ns}/{pod}/{container}"));
            }
        }
        return None;
    }
    let base = name.strip_suffix(".log")?;
    let parts: Vec<&str> = base.split('_').collect();
    let [pod, ns, rest] = parts[..] else {
        return None;
    };
    let (container, id) = rest.rsplit_once('-')?;
    let hex = id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit());
    (hex && !pod.is_empty() && !ns.is_empty() && !container.is_empty())
        .then(|| format!("{ns}/{pod}/{container}"))
}

/// The container id and `namespace/pod/container` a kubelet symlink
/// names: `…/containers/<pod>_<namespace>_<container>-<64 hex id>.log`.
pub fn kubernetes_container_id(path: &Path) -> Option<(String, String)> {
    let name = os_name(path.file_name()?);
    let base = name.split(".log").next()?;
    let (_, id) = base.rsplit_once('-')?;
    let pod = kubernetes_container(path)?;
    (id.len() == 64).then(|| (id.to_ascii_lowercase(), pod))
}

/// The container id a kernel OOM kill's `task_memcg` names, by the cgroup
/// paths runtimes create: `…/cri-containerd-<id>.scope`, `…/crio-<id>.scope`,
/// `…/docker-<id>.scope`, `/docker/<id>`, `/kubepods/…/pod<uid>/<id>`.
pub fn container_id_of_cgroup(cgroup: &str) -> Option<String> {
    let last = cgroup.trim_end_matches('/').rsplit('/').next()?;
    let last = last.strip_suffix(".scope").unwrap_or(last);
    let id = ["cri-containerd-", "crio-", "docker-", "libpod-"]
        .iter()
        .find_map(|p| last.strip_prefix(p))
        .unwrap_or(last);
    (id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

/// The load balancer or distribution a cloud's log object is named after,
/// as AWS names them: an ALB's
/// `<account>_elasticloadbalancing_<region>_app.<name>.<id>_<time>_<node ip>_<random>.log.gz`
/// (the load balancer as its lines write it, `app/<name>/<id>`), a Classic
/// ELB's `…_<region>_<name>_<time>_…`, and CloudFront's
/// `<distribution id>.<YYYY-MM-DD-HH>.<unique>.gz`.
fn cloud_object(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let parts: Vec<&str> = name.split('_').collect();
    if let [account, "elasticloadbalancing", _region, lb, time, ..] = parts[..] {
        if account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && time.len() == 14
            && time.ends_with('Z')
        {
            let lb: Vec<&str> = lb.split('.').collect();
            return match lb[..] {
                [kind, name, id] if !name.is_empty() => Some(format!("{kind}/{name}/{id}")),
                [name] if !name.is_empty() => Some(name.to_string()),
                _ => None,
            };
        }
    }
    let fields: Vec<&str> = name.split('.').collect();
    match fields[..] {
        [dist, hour, _unique, ..]
            if dist.len() == 14
                && dist.starts_with('E')
                && dist
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && hour.len() == 13
                && looks_like_date(hour) =>
        {
            Some(format!("cloudfront {dist}"))
        }
        _ => None,
    }
}

/// The short id (its first 12 hex digits, as `docker ps` shows it) of a
/// container whose json-file log this is:
/// `…/containers/<64 hex id>/<id>-json.log`, rotated `…-json.log.1`.
fn docker_container(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let dir = os_name(path.parent()?.file_name()?);
    let hex = dir.len() == 64 && dir.chars().all(|c| c.is_ascii_hexdigit());
    let rest = name.strip_prefix(dir.as_str())?;
    (hex && rest.starts_with("-json.log")).then(|| dir[..12].to_string())
}

/// A file name as text: UTF-8 as it is, other bytes as `\xNN`.
pub fn os_name(s: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        let mut b = s.as_bytes();
        while !b.is_empty() {
            match std::str::from_utf8(b) {
                Ok(t) => {
                    out.push_str(t);
                    break;
                }
                Err(e) => {
                    let ok = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&b[..ok]).unwrap_or_default());
                    let bad = e.error_len().unwrap_or(b.len() - ok);
                    for x in &b[ok..ok + bad] {
                        out.push_str(&format!("\\x{x:02X}"));
                    }
                    b = &b[ok + bad..];
                }
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_from_paths() {
        let h = |p: &str| host_from_path(Path::new(p));
        assert_eq!(
            h("/srv/archive/web-01/nginx/access.log.2.gz").as_deref(),
            Some("web-01")
        );
        assert_eq!(h("/x/web-02/access.log").as_deref(), Some("web-02"));
        // Year, month and day directories are dates, not hosts.
        assert_eq!(
            h("/logs/web-04/2023/02/02/access.log").as_deref(),
            Some("web-04")
        );
        assert_eq!(h("/var/log/nginx/access.log"), None);
        assert_eq!(
            h("/logs/10.0.0.7/2023-02-02/access.log").as_deref(),
            Some("10.0.0.7")
        );
        // Only what was written: no climbing to the current directory.
        assert_eq!(h("access.log"), None);
        assert_eq!(h("./nginx/access.log"), None);
        assert_eq!(h("../web-03/log/access.log").as_deref(), Some("web-03"));
        // Kubernetes: the kubelet's pod log paths name namespace, pod and
        // container.
        let uid = "d5a2e4c8-8a4f-4f5e-9b1a-0c3e2f1d4b6a";
        let id = "3f".repeat(32);
        for (path, want) in [
            (
                format!("/var/log/pods/shop_web-7d9f8b6c5d-x2x9k_{uid}/nginx/0.log"),
                Some("shop/web-7d9f8b6c5d-x2x9k/nginx"),
            ),
            (
                format!("/node-1/pods/shop_web-0_{uid}/nginx/0.log.20230202-070000.gz"),
                Some("shop/web-0/nginx"),
            ),
            (
                format!("/var/log/containers/web-0_shop_nginx-{id}.log"),
                Some("shop/web-0/nginx"),
            ),
            // Not the kubelet's shapes: the usual rule.
            (
                "/var/log/pods/not-a-pod-dir/nginx/0.log".to_string(),
                Some("not-a-pod-dir"),
            ),
            (
                format!(
                    "/var/log/containers/web-0_shop_nginx-{}.log",
                    "3f".repeat(8)
                ),
                None,
            ),
            ("/srv/web-01/0.log".to_string(), Some("web-01")),
            // AWS's object names: the load balancer, the distribution.
            (
                "/a/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz".to_string(),
                Some("app/my-loadbalancer/1234567890abcdef"),
            ),
            (
                "/a/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log".to_string(),
                Some("my-loadbalancer"),
            ),
            (
                "/cf-logs/E2EXAMPLE1ABCD.2019-12-04-21.d111111a.gz".to_string(),
                Some("cloudfront E2EXAMPLE1ABCD"),
            ),
            // Docker's json-file logs: the container's short id.
            (
                format!("/var/lib/docker/containers/{id}/{id}-json.log.1"),
                Some("3f3f3f3f3f3f"),
            ),
            (
                format!("/var/lib/docker/containers/{id}/other-json.log"),
                Some(id.as_str()),
            ),
        ] {
            assert_eq!(h(&path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn container_ids_from_paths_and_cgroups() {
        let id = "ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95";
        assert_eq!(
            kubernetes_container_id(Path::new(&format!(
                "/var/log/containers/web-0_shop_nginx-{id}.log"
            ))),
            Some((id.to_string(), "shop/web-0/nginx".to_string()))
        );
        assert_eq!(
            kubernetes_container_id(Path::new("/var/log/nginx/access.log")),
            None
        );
        for cgroup in [
            format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-{id}.scope"),
            format!("/kubepods/burstable/pod8d5a2e4c-8a4f-4f5e-9b1a-0c3e2f1d4b6a/{id}"),
            format!("/system.slice/docker-{id}.scope"),
            format!("/docker/{id}"),
            format!("/machine.slice/crio-{id}.scope/"),
        ] {
            assert_eq!(container_id_of_cgroup(&cgroup).as_deref(), Some(id), "{cgroup}");
        }
        assert_eq!(container_id_of_cgroup("/system.slice/nginx.service"), None);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_directory_names_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let a = Path::new(std::ffi::OsStr::from_bytes(b"/srv/web-\xff/access.log"));
        let b = Path::new(std::ffi::OsStr::from_bytes(b"/srv/web-\xfe/access.log"));
        assert_eq!(host_from_path(a).as_deref(), Some("web-\\xFF"));
        assert_ne!(host_from_path(a), host_from_path(b));
    }
}
