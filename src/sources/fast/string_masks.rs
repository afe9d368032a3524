//! Why: the scanner made the mask of a 64-byte block the first time a string reached it, sixteen bytes a compare, and then checked the whole line again for control characters: together about a tenth of a `query`'s instructions. One pass over the line, 32 bytes a compare where the processor has AVX2, makes both.
//! Plain twin: `plain`, byte by byte (and `by_blocks`, sixteen bytes a compare, where there is no AVX2).
//! Held equal by: the proptest `every_way_makes_the_same_masks` below, and the scanner's own against `serde_json`.
//!
//! The masks of the quotes and backslashes of a line, one `u64` per 64 bytes (bit `i` of
//! mask `k` for byte `64 k + i`; the bytes past the end count as neither), and whether the
//! line holds a control character (below 0x20): what [`super::line_scanner::Scanner`] finds
//! a string's end with, and what it gives up on; and whether every byte is ASCII (below 0x80),
//! for which the scanner need not check the line to be UTF-8 (that check was 2.6% of the
//! instructions of `query` over one column, issue 26).

/// Puts the masks of `bytes` in `out` (cleared first); `None` when `bytes` holds a control
/// character, else whether every byte is ASCII.
pub fn fill(bytes: &[u8], out: &mut Vec<u64>) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        return unsafe { avx2::fill(bytes, out) };
    }
    by_blocks(bytes, out)
}

/// Without AVX2: each block's mask as [`crate::bytes::mask`] makes it, and the control
/// characters and the others than ASCII looked for in a pass of their own.
fn by_blocks(bytes: &[u8], out: &mut Vec<u64>) -> Option<bool> {
    out.clear();
    let mut blocks = bytes.chunks_exact(64);
    out.extend(
        (blocks.by_ref())
            .map(|b| crate::bytes::mask(b.try_into().expect("64 bytes"), [b'"', b'\\'])),
    );
    if !blocks.remainder().is_empty() {
        out.push(crate::bytes::mask(
            &padded(blocks.remainder()),
            [b'"', b'\\'],
        ));
    }
    let (low, high) = (bytes.iter()).fold((u8::MAX, 0), |(low, high), &b| (low.min(b), high | b));
    (low >= 0x20).then_some(high < 0x80)
}

/// The plain twin: byte by byte (what the tests hold the others to).
#[cfg(test)]
fn plain(bytes: &[u8], out: &mut Vec<u64>) -> Option<bool> {
    out.clear();
    for block in bytes.chunks(64) {
        out.push((block.iter().enumerate()).fold(0, |mask, (i, &b)| {
            mask | u64::from(b == b'"' || b == b'\\') << i
        }));
    }
    (bytes.iter().all(|&b| b >= 0x20)).then(|| bytes.is_ascii())
}

/// The last bytes of a line, fewer than 64, with spaces after them (neither a quote, a
/// backslash nor a control character).
fn padded(rest: &[u8]) -> [u8; 64] {
    let mut last = [b' '; 64];
    last[..rest.len()].copy_from_slice(rest);
    last
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setr_epi8,
        _mm256_setzero_si256, _mm256_shuffle_epi8,
    };

    /// # Safety
    /// The processor must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn fill(bytes: &[u8], out: &mut Vec<u64>) -> Option<bool> {
        out.clear();
        out.reserve(bytes.len().div_ceil(64));
        let mut low = _mm256_set1_epi8(-1);
        let mut high = _mm256_setzero_si256();
        let mut blocks = bytes.chunks_exact(64);
        for b in blocks.by_ref() {
            // SAFETY: AVX2 as the caller promises; the block holds 64 bytes.
            out.push(unsafe { block(b.as_ptr(), &mut low, &mut high) });
        }
        if !blocks.remainder().is_empty() {
            let last = super::padded(blocks.remainder());
            // SAFETY: as above.
            out.push(unsafe { block(last.as_ptr(), &mut low, &mut high) });
        }
        let floor = _mm256_min_epu8(low, _mm256_set1_epi8(0x1f));
        // The top bit of every byte ORed: none set is all ASCII.
        (_mm256_movemask_epi8(_mm256_cmpeq_epi8(floor, low)) == 0)
            .then(|| _mm256_movemask_epi8(high) == 0)
    }

    /// The mask of the 64 bytes at `at`, their least byte taken into `low` and their bits ORed
    /// into `high`. (A function of
    /// its own rather than a closure: a closure does not take the `target_feature`, and its
    /// intrinsics became calls.)
    ///
    /// # Safety
    /// The processor must have AVX2, and `at` must point to 64 readable bytes.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn block(at: *const u8, low: &mut __m256i, high: &mut __m256i) -> u64 {
        // SAFETY: 64 readable bytes at `at` (the caller); unaligned loads may start anywhere.
        let (v, w) = unsafe {
            (
                _mm256_loadu_si256(at.cast::<__m256i>()),
                _mm256_loadu_si256(at.add(32).cast::<__m256i>()),
            )
        };
        *low = _mm256_min_epu8(*low, _mm256_min_epu8(v, w));
        *high = _mm256_or_si256(*high, _mm256_or_si256(v, w));
        // A quote (0x22) or backslash (0x5c) is the byte that a table, looked up by the low
        // four bits, holds for them; every other entry differs from any byte with those low
        // bits (`n ^ 1`). One compare per 32 bytes: written as two compares joined, the
        // compiler rebuilt the masks a byte at a time.
        let table = _mm256_setr_epi8(
            1, 0, 0x22, 2, 5, 4, 7, 6, 9, 8, 11, 10, 0x5c, 12, 15, 14, //
            1, 0, 0x22, 2, 5, 4, 7, 6, 9, 8, 11, 10, 0x5c, 12, 15, 14,
        );
        let low_bits = _mm256_set1_epi8(0x0f);
        let v = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(v, low_bits)), v);
        let w = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(w, low_bits)), w);
        u64::from(_mm256_movemask_epi8(v) as u32) | u64::from(_mm256_movemask_epi8(w) as u32) << 32
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The vector passes (AVX2 where this processor has it, and sixteen bytes a compare) make the masks and the answer of the
        /// byte-by-byte twin, for lines of every length against the blocks.
        #[test]
        fn every_way_makes_the_same_masks(
            mut bytes in prop::collection::vec(
                prop::sample::select(vec![b'"', b'\\', b'a', b' ', 0x7f, 0x80, 0xff]),
                0..300,
            ),
            control in prop::option::of((any::<prop::sample::Index>(), 0u8..0x20)),
        ) {
            if let Some((at, byte)) = control.filter(|_| !bytes.is_empty()) {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let (mut want, mut got) = (Vec::new(), Vec::new());
            let clean = super::plain(&bytes, &mut want);
            prop_assert_eq!(super::fill(&bytes, &mut got), clean);
            prop_assert_eq!(&got, &want);
            // Without the bytes above ASCII, the same masks and ASCII.
            let ascii: Vec<u8> = bytes.iter().map(|&b| b & 0x7f).collect();
            let clean = super::plain(&ascii, &mut want);
            prop_assert_eq!(clean.is_none() || clean == Some(true), true);
            prop_assert_eq!(super::fill(&ascii, &mut got), clean);
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(super::by_blocks(&ascii, &mut got), clean);
            prop_assert_eq!(&got, &want);
            let clean = super::plain(&bytes, &mut want);
            prop_assert_eq!(super::fill(&bytes, &mut got), clean);
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(super::by_blocks(&bytes, &mut got), clean);
            prop_assert_eq!(&got, &want);
        }
    }
}
