//! What a cron run writes beside its state, and over it: nothing beside
//! or over what is not a state of logburst's own (a log, a device, a FIFO,
//! a directory); one run at a time, through `STATE.lock`.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::State;
use crate::error::{Error, Result};

/// The file a state path names: a symbolic link's target (relative to
/// the link's directory), followed through chains of links; the path
/// itself otherwise.
pub(super) fn resolve(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => {
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                }
            }
            Err(_) => break,
        }
    }
    p
}

/// Removes the temporary files of `path` (`STATE.tmp-PID`) that killed
/// runs left; called with the lock held, when none can be a live run's.
pub(super) fn remove_stale_temps(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let ours = e.file_type().is_ok_and(|t| t.is_file())
            && crate::persist::is_temp_of(&p, path)
            && p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.rsplit('-').next())
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if ours {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Refuses a state path that is there and is not a regular file holding a
/// state of ours (read, or damaged: which `--reset-state` starts over),
/// before the lock is made beside it.
pub(super) fn check(path: &Path, limit: u64, reset: bool) -> Result<()> {
    let Ok(m) = std::fs::metadata(path) else {
        return Ok(());
    };
    if !m.is_file() {
        return Err(Error::Refused(format!(
            "{} is {}, not a state file: a state file is a regular file",
            path.display(),
            crate::limits::kind_of(&m)
        )));
    }
    match State::load(path, limit) {
        Ok(_) | Err(Error::State { .. }) => Ok(()),
        Err(Error::Refused(why)) if reset => Err(Error::Refused(format!(
            "--reset-state replaces only a logburst state file: {why}"
        ))),
        Err(e) => Err(e),
    }
}

/// A state that does not read: a file of another kind is left alone (give
/// another path); a damaged state of ours may be started over.
pub(super) fn foreign_or_damaged(path: &Path, why: String) -> Error {
    if why.starts_with("not a logburst") {
        Error::Refused(format!(
            "state {}: {why}; logburst writes its state only over a state of its own: give another --state path",
            path.display()
        ))
    } else {
        Error::State {
            path: path.into(),
            why,
        }
    }
}

/// The lock that keeps two runs from using one state; released on drop.
pub struct Lock {
    _file: File,
    pub(super) path: PathBuf,
}

impl Lock {
    /// Takes `STATE.lock`, or fails at once when another run holds it.
    pub fn take(state: &Path) -> Result<Lock> {
        let mut name = state.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let path = state.with_file_name(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("create lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::StateBusy {
                state: state.into(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
        }
    }
}
