//! Which input is memory-mapped where, for the binary's SIGBUS handler.
//!
//! A mapped file that another process truncates while it is read (logrotate's
//! `copytruncate` on a file that looked settled) makes the next access to a
//! page past the new end raise SIGBUS. The binary catches it and names the
//! file from the faulting address; this registry is what it looks the
//! address up in. It holds a fixed number of slots of atomics, so that
//! [`find`] can run inside a signal handler (no lock, no allocation).

use std::path::Path;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Inputs mapped at once beyond this many are mapped unregistered (a SIGBUS
/// in one of them is then reported without its path).
const SLOTS: usize = 64;

struct Slot {
    /// 0: free. Set last when registering, cleared first when dropping.
    start: AtomicUsize,
    len: AtomicUsize,
    /// The path's bytes (leaked, so that a handler never reads freed
    /// memory) and their length.
    name: AtomicPtr<u8>,
    name_len: AtomicUsize,
    /// Claimed by a registration (set before `start`, cleared after it).
    taken: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)] // only used to fill `TABLE`
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    name: AtomicPtr::new(std::ptr::null_mut()),
    name_len: AtomicUsize::new(0),
    taken: AtomicUsize::new(0),
};

static TABLE: [Slot; SLOTS] = [FREE; SLOTS];

/// A registered mapping; dropping it removes it from the registry. Keep it
/// until the last access to the mapping.
#[derive(Debug)]
pub struct Registration(Option<usize>);

/// Records that `bytes` are the mapping of `path`.
pub fn register(bytes: &[u8], path: &Path) -> Registration {
    let name: &'static [u8] = Box::leak(path.as_os_str().as_encoded_bytes().into());
    for (i, slot) in TABLE.iter().enumerate() {
        if slot
            .taken
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            slot.len.store(bytes.len(), Ordering::Relaxed);
            slot.name.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
            slot.name_len.store(name.len(), Ordering::Relaxed);
            slot.start.store(bytes.as_ptr() as usize, Ordering::Release);
            return Registration(Some(i));
        }
    }
    Registration(None)
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            TABLE[i].start.store(0, Ordering::Release);
            TABLE[i].taken.store(0, Ordering::Release);
        }
    }
}

/// The path of the registered mapping that holds address `addr`, if any.
/// Only reads atomics: safe to call from a signal handler.
pub fn find(addr: usize) -> Option<&'static [u8]> {
    TABLE.iter().find_map(|slot| {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Relaxed);
        if start == 0 || addr < start || addr - start >= len {
            return None;
        }
        let name = slot.name.load(Ordering::Relaxed);
        let name_len = slot.name_len.load(Ordering::Relaxed);
        // SAFETY: `name` points to `name_len` leaked bytes, stored before
        // `start` was published (Release/Acquire) and never freed.
        Some(unsafe { std::slice::from_raw_parts(name, name_len) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_mapping_holding_an_address_until_dropped() {
        let a = vec![0u8; 100];
        let b = vec![0u8; 10];
        let ra = register(&a, Path::new("/var/log/a.log"));
        let rb = register(&b, Path::new("/var/log/b.log"));
        let at = |v: &Vec<u8>, i: usize| v.as_ptr() as usize + i;
        assert_eq!(find(at(&a, 0)), Some(&b"/var/log/a.log"[..]));
        assert_eq!(find(at(&a, 99)), Some(&b"/var/log/a.log"[..]));
        assert_eq!(find(at(&b, 9)), Some(&b"/var/log/b.log"[..]));
        assert_eq!(find(at(&b, 10)).filter(|n| n == b"/var/log/b.log"), None);
        drop(ra);
        assert_eq!(find(at(&a, 0)), None);
        assert_eq!(find(at(&b, 0)), Some(&b"/var/log/b.log"[..]));
        drop(rb);
    }

    #[test]
    fn slots_are_reused() {
        let v = vec![0u8; 8];
        for _ in 0..3 * SLOTS {
            let r = register(&v, Path::new("x"));
            assert!(r.0.is_some());
        }
    }
}
