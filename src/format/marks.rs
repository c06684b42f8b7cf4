//! Where three bytes occur in 64 bytes, as bitmasks: the structural scan
//! behind the access-log hot path ([`super::access::for_each_line`]).
//!
//! Finding a line's end, its `[` and its quotes with three `memchr` calls
//! per line costs more in call and set-up overhead than in scanning: the
//! lines are short (about 180 bytes). One pass of vector compares instead
//! yields, for each 64 bytes, the positions of `\n`, `[` and `"` as three
//! `u64`s, and the parser then moves from mark to mark with bit operations.
//!
//! Three kernels compute the same masks: AVX2 (chosen at run time where
//! the CPU has it), SSE2 (every x86-64 CPU) and plain Rust elsewhere. The
//! scan loop is generic over the kernel and inlined into one function per
//! kernel, so that the AVX2 one is compiled with AVX2 enabled throughout.

/// Masks of one 64-byte window: bit `i` is set when byte `i` is the byte
/// the mask is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    pub newline: u64,
    pub bracket: u64,
    pub quote: u64,
}

/// A way to compute [`Masks`]: where one byte occurs in 64 bytes.
pub trait Kernel: Copy {
    /// Bit `i` set where `w[i] == c`.
    fn eq(self, w: &[u8; 64], c: u8) -> u64;

    /// The masks of `w`.
    #[inline(always)]
    fn masks(self, w: &[u8; 64]) -> Masks {
        Masks {
            newline: self.eq(w, b'\n'),
            bracket: self.eq(w, b'['),
            quote: self.eq(w, b'"'),
        }
    }
}

/// Byte by byte: the reference the vector kernels are tested against, and
/// the kernel where no vector one is written.
#[derive(Clone, Copy, Debug)]
pub struct Scalar;

impl Kernel for Scalar {
    #[inline(always)]
    fn eq(self, w: &[u8; 64], c: u8) -> u64 {
        w.iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | ((b == c) as u64) << i)
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Sse2};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Kernel;

    /// 16 bytes at a time; SSE2 is part of x86-64, so it needs no check.
    #[derive(Clone, Copy, Debug)]
    pub struct Sse2;

    impl Kernel for Sse2 {
        #[inline(always)]
        fn eq(self, w: &[u8; 64], c: u8) -> u64 {
            let mut m = 0;
            for (k, part) in w.chunks_exact(16).enumerate() {
                // SAFETY: `part` holds 16 bytes and the load is unaligned;
                // SSE2 is enabled on every x86-64 target.
                let bits = unsafe {
                    let v = _mm_loadu_si128(part.as_ptr().cast());
                    _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)))
                };
                m |= (bits as u32 as u64) << (16 * k);
            }
            m
        }
    }

    /// 32 bytes at a time. Only made by [`Avx2::detect`], so holding one
    /// proves the CPU has AVX2.
    #[derive(Clone, Copy, Debug)]
    pub struct Avx2(());

    impl Avx2 {
        pub fn detect() -> Option<Avx2> {
            std::is_x86_feature_detected!("avx2").then_some(Avx2(()))
        }
    }

    impl Kernel for Avx2 {
        #[inline(always)]
        fn eq(self, w: &[u8; 64], c: u8) -> u64 {
            let mut m = 0;
            for (k, part) in w.chunks_exact(32).enumerate() {
                // SAFETY: an `Avx2` exists only where the CPU has AVX2
                // (see `detect`); `part` holds 32 bytes, loaded unaligned.
                let bits = unsafe {
                    let v = _mm256_loadu_si256(part.as_ptr().cast());
                    _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8)))
                };
                m |= (bits as u32 as u64) << (32 * k);
            }
            m
        }
    }
}

/// The first set bit at or after `from` and before `limit`, over masks of
/// consecutive 64-byte windows (`masks[0]` covers bytes 0..64), for which
/// `f` gives a value.
#[inline(always)]
pub fn find_map<T>(
    masks: &[u64],
    from: usize,
    limit: usize,
    mut f: impl FnMut(usize) -> Option<T>,
) -> Option<T> {
    let mut w = from / 64;
    let mut bits = *masks.get(w)? & (!0u64 << (from % 64));
    loop {
        while bits != 0 {
            let p = w * 64 + bits.trailing_zeros() as usize;
            if p >= limit {
                return None;
            }
            if let Some(v) = f(p) {
                return Some(v);
            }
            bits &= bits - 1;
        }
        w += 1;
        bits = *masks.get(w)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn window(bytes: &[u8]) -> [u8; 64] {
        let mut w = [0u8; 64];
        w[..bytes.len()].copy_from_slice(bytes);
        w
    }

    #[test]
    fn scalar_marks_each_byte() {
        let m = Scalar.masks(&window(b"a[\"\n\"[x\n"));
        assert_eq!(m.bracket, 0b0010_0010);
        assert_eq!(m.quote, 0b0001_0100);
        assert_eq!(m.newline, 0b1000_1000);
    }

    #[test]
    fn find_map_crosses_windows_and_stops_at_limit() {
        let masks = [1u64 << 63, 0, 1 | 1 << 5];
        assert_eq!(find_map(&masks, 0, 200, Some), Some(63));
        assert_eq!(find_map(&masks, 64, 200, Some), Some(128));
        assert_eq!(find_map(&masks, 129, 200, Some), Some(133));
        assert_eq!(find_map(&masks, 129, 133, Some), None);
        assert_eq!(find_map(&masks, 134, 200, Some), None::<usize>);
        let odd = |p: usize| (p % 2 == 1).then_some(p);
        assert_eq!(find_map(&masks, 0, 200, odd), Some(63));
        assert_eq!(find_map(&masks, 100, 200, odd), Some(133));
    }

    proptest! {
        /// The vector kernels agree with the byte-by-byte one, whatever the
        /// bytes (the three marked bytes are made common, and so are bytes
        /// with the high bit set, which signed compares could get wrong).
        #[test]
        fn kernels_agree(bytes in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'['), Just(b'"'), any::<u8>(), 0x80u8..], 64)) {
            let w: [u8; 64] = bytes.try_into().unwrap();
            let want = Scalar.masks(&w);
            #[cfg(target_arch = "x86_64")]
            {
                prop_assert_eq!(Sse2.masks(&w), want);
                if let Some(k) = Avx2::detect() {
                    prop_assert_eq!(k.masks(&w), want);
                }
            }
            let _ = want;
        }
    }
}
