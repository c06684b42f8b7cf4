//! Which input is memory-mapped where, for the binary's SIGBUS handler.
//!
//! A mapped file that another process truncates while it is read (logrotate's
//! `copytruncate` on a file that looked settled) makes the next access to a
//! page past the new end raise SIGBUS. The binary catches it and names the
//! file from the faulting address; this registry is what it looks the
//! address up in. It holds a fixed number of slots of atomics, so that
//! [`find`] can run inside a signal handler (no lock, no allocation).

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Inputs mapped at once beyond this many are mapped unregistered (a SIGBUS
/// in one of them is then reported without its path).
const SLOTS: usize = 64;

struct Slot {
    /// 0: free. Set last when registering, cleared first when dropping.
    start: AtomicUsize,
    len: AtomicUsize,
    /// The path's bytes, owned by the registration, and their length.
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

/// A registered mapping; dropping it removes it from the registry and
/// frees the path. Keep it until the last access to the mapping: a handler
/// reads a slot's path only for a fault inside that slot's range, so none
/// reads it once no access to the mapping can happen.
#[derive(Debug)]
pub struct Registration {
    slot: Option<usize>,
    _name: Box<[u8]>,
}

/// Records that `bytes` are the mapping of the file named `shown` (as it
/// may be printed: the handler prints it as it is).
pub fn register(bytes: &[u8], shown: &str) -> Registration {
    let name: Box<[u8]> = shown.as_bytes().into();
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
            return Registration {
                slot: Some(i),
                _name: name,
            };
        }
    }
    Registration {
        slot: None,
        _name: name,
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            TABLE[i].start.store(0, Ordering::Release);
            TABLE[i].taken.store(0, Ordering::Release);
        }
    }
}

/// Copies the path of the registered mapping that holds address `addr`
/// into `out` (cut to its length) and gives the length copied, if there is
/// one. No lock, no allocation: safe to call from a signal handler.
#[warn(missing_docs)]
pub fn find(addr: usize, out: &mut [u8]) -> Option<usize> {
    TABLE.iter().find_map(|slot| {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Relaxed);
        if start == 0 || addr < start || addr - start >= len {
            return None;
        }
        let name = slot.name.load(Ordering::Relaxed);
        let n = slot.name_len.load(Ordering::Relaxed).min(out.len());
        // SAFETY: `name` points to the registration's path, stored before
        // `start` was published (Release/Acquire); the registration, which
        // owns it, lives while its mapping can be accessed, and `addr` is
        // an access to it (see `Registration`).
        out[..n].copy_from_slice(unsafe { std::slice::from_raw_parts(name, n) });
        Some(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path `find` copies for `addr`, if any.
    fn path_at(addr: usize) -> Option<Vec<u8>> {
        let mut buf = [0u8; 64];
        find(addr, &mut buf).map(|n| buf[..n].to_vec())
    }

    #[test]
    fn finds_the_mapping_holding_an_address_until_dropped() {
        let a = vec![0u8; 100];
        let b = vec![0u8; 10];
        let ra = register(&a, "/var/log/a.log");
        let rb = register(&b, "/var/log/b.log");
        let at = |v: &Vec<u8>, i: usize| v.as_ptr() as usize + i;
        assert_eq!(path_at(at(&a, 0)).as_deref(), Some(&b"/var/log/a.log"[..]));
        assert_eq!(path_at(at(&a, 99)).as_deref(), Some(&b"/var/log/a.log"[..]));
        assert_eq!(path_at(at(&b, 9)).as_deref(), Some(&b"/var/log/b.log"[..]));
        assert_ne!(path_at(at(&b, 10)).as_deref(), Some(&b"/var/log/b.log"[..]));
        drop(ra);
        assert_eq!(path_at(at(&a, 0)), None);
        assert_eq!(path_at(at(&b, 0)).as_deref(), Some(&b"/var/log/b.log"[..]));
        drop(rb);
        // A path longer than the buffer is cut to it.
        let long = "/x".repeat(100);
        let r = register(&a, &long);
        assert_eq!(path_at(at(&a, 5)).unwrap(), &long.as_bytes()[..64]);
        drop(r);
    }

    #[test]
    fn slots_are_reused() {
        let v = vec![0u8; 8];
        for _ in 0..3 * SLOTS {
            let r = register(&v, "x");
            assert!(r.slot.is_some());
        }
    }
}
