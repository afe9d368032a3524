//! Why: short searches done once per record, where `memchr` pays more to start than it saves (resource ids split at slashes: 42M to 34M instructions).
//! Plain twin: comparing byte by byte (`(0..len).filter(|i| bytes[i] == byte)`).
//! Held equal by: the proptest `positions_are_those_of_the_byte` below.
//!
//! Finding bytes 64 at a time: a mask with a bit per byte, made sixteen bytes a compare, whose
//! set bits are then read off one by one. For the short searches done once per record (a
//! string's end, the slashes of a resource id), where a general search pays more to start than
//! it saves.

/// Bit `i` set where byte `i` of the 64 is one of `wanted`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub fn mask<const N: usize>(block: &[u8; 64], wanted: [u8; N]) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut mask = 0;
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is enabled (the cfg above; every x86-64 processor has it), the chunk
        // holds the sixteen bytes read, and an unaligned load may start anywhere.
        let hits = unsafe {
            let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
            let is = |b: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b as i8));
            let (first, rest) = wanted.split_first().expect("a byte wanted");
            let any = rest
                .iter()
                .fold(is(*first), |any, &b| _mm_or_si128(any, is(b)));
            _mm_movemask_epi8(any)
        };
        mask |= u64::from(hits as u16) << (16 * i);
    }
    mask
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub fn mask<const N: usize>(block: &[u8; 64], wanted: [u8; N]) -> u64 {
    (block.iter().enumerate()).fold(0, |mask, (i, b)| mask | u64::from(wanted.contains(b)) << i)
}

/// The mask of `wanted` in the 64 bytes of `bytes` from `at` (a multiple of 64), the bytes
/// past the end counting as none.
#[inline(always)]
fn mask_at<const N: usize>(bytes: &[u8], at: usize, wanted: [u8; N]) -> u64 {
    let rest = &bytes[at..];
    match rest.first_chunk::<64>() {
        Some(whole) => mask(whole, wanted),
        None => {
            let mut last = [0; 64];
            last[..rest.len()].copy_from_slice(rest);
            mask(&last, wanted) & (u64::MAX >> (64 - rest.len()))
        }
    }
}

/// Where `byte` is in `bytes`, in order.
pub fn positions(bytes: &[u8], byte: u8) -> impl Iterator<Item = usize> + '_ {
    (0..bytes.len()).step_by(64).flat_map(move |at| {
        let mut bits = mask_at(bytes, at, [byte]);
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                at + i
            })
        })
    })
}

/// A hash of `bytes` for finding where a value was kept: of a long one only its length and
/// three sixteen-byte stretches, its first, middle and last (hashing every byte of each
/// resource id of millions of rows was 3% of reading). Values that share a hash must then be
/// compared whole.
pub fn sampled_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    let state = foldhash::fast::FixedState::default();
    let at = |i: usize| u128::from_le_bytes(bytes[i..i + 16].try_into().expect("16 bytes"));
    match bytes.len() {
        n if n > 48 => state.hash_one((n, at(0), at(n / 2 - 8), at(n - 16))),
        _ => state.hash_one(bytes),
    }
}

/// Asks the CPU to bring `len` bytes of `data` into its cache, some lines ahead of `at`: a
/// mapped file lies in pages scattered through memory, and the hardware's own prefetcher
/// stops at each page's end.
#[inline(always)]
pub fn prefetch_ahead(data: &[u8], at: usize, len: usize) {
    const DISTANCE: usize = 4096;
    #[cfg(target_arch = "x86_64")]
    {
        let from = at.saturating_add(DISTANCE).min(data.len());
        let to = from.saturating_add(len).min(data.len());
        let mut i = from & !63;
        while i < to {
            // SAFETY: `i` is within `data`; a prefetch reads nothing the program sees.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    data.as_ptr().add(i).cast(),
                )
            };
            i += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, at, len);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn positions_are_those_of_the_byte(
            bytes in prop::collection::vec(prop::sample::select(vec![0u8, b'/', b'a', 0xff]), 0..300),
        ) {
            for byte in [0u8, b'/', 0xff] {
                let want: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == byte).collect();
                prop_assert_eq!(super::positions(&bytes, byte).collect::<Vec<_>>(), want);
            }
        }
    }
}
