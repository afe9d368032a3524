//! Why: one SHA-256 chain uses a fraction of the SHA unit; four files interleaved hash at 3.0 GB/s a core against 1.5 for one, and hashing was over half of `report`.
//! Plain twin: `sha2`, one file after the other (what a CPU without the SHA extensions runs).
//! Held equal by: the proptest `the_same_as_one_file_at_a_time` and `known_digests` below.
//!
//! The SHA-256 a report cites for each file, taken for several files at once.
//!
//! Hashing was over half of what `report` spends: one SHA-256 is a chain where each round
//! waits on the one before, so a core running one runs its SHA unit at a fraction of what it
//! can do. With the rounds of several files interleaved, each waits only on its own file's
//! previous round. On AMD EPYC (Zen 3) the two-round instruction takes four cycles and a new
//! one can start every cycle, so four files could keep the unit busy; but the message
//! schedule's instructions run on the same unit, and four files hash at 3.0 GB/s a core
//! against 2.8 for two and 1.5 for one (measured on the block function). sha2 has no way to
//! run several streams at once, so the interleaved blocks are done here with the SHA
//! extensions' intrinsics; a file's last blocks, once the others have ended, and the padding
//! go through sha2's own block function. On a CPU without the extensions the files are hashed
//! one after the other by sha2.

use sha2::{Digest, Sha256};

/// The SHA-256 of each of `files`, hex-encoded, in their order.
pub fn digest_all(files: &[&[u8]]) -> Vec<String> {
    #[cfg(target_arch = "x86_64")]
    if interleaved::available() {
        return interleaved::digest_all(files)
            .into_iter()
            .map(hex::encode)
            .collect();
    }
    files
        .iter()
        .map(|f| hex::encode(Sha256::digest(f)))
        .collect()
}

#[cfg(target_arch = "x86_64")]
mod interleaved {
    use std::arch::x86_64::*;

    use sha2::block_api::compress256;

    /// The initial hash value (FIPS 180-4, 5.3.3).
    const IV: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];

    /// The round constants (FIPS 180-4, 4.2.2).
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    pub fn available() -> bool {
        is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse4.1")
            && is_x86_feature_detected!("ssse3")
    }

    /// Call only when [`available`].
    pub fn digest_all(files: &[&[u8]]) -> Vec<[u8; 32]> {
        let blocks: Vec<&[[u8; 64]]> = files.iter().map(|f| f.as_chunks::<64>().0).collect();
        let mut states = vec![IV; files.len()];
        let mut done = vec![0; files.len()];
        // Four files at a time while four have blocks left, then two, each group for as many
        // blocks as its shortest has left: files of uneven length keep sharing the unit.
        loop {
            let mut left: Vec<usize> = (0..files.len())
                .filter(|&i| done[i] < blocks[i].len())
                .collect();
            // The longest first, so that the files grouped end together as far as they can.
            left.sort_by_key(|&i| std::cmp::Reverse(blocks[i].len() - done[i]));
            let lanes = match left.len() {
                4.. => 4,
                2..=3 => 2,
                _ => break,
            };
            let group = &left[..lanes];
            let n = group
                .iter()
                .map(|&i| blocks[i].len() - done[i])
                .min()
                .unwrap_or(0);
            let next = |i: usize| &blocks[i][done[i]..done[i] + n];
            // SAFETY: `available` found the instructions `compress` is compiled for.
            match *group {
                [a, b, c, d] => {
                    let mut s = [states[a], states[b], states[c], states[d]];
                    unsafe { compress::<4>(&mut s, [next(a), next(b), next(c), next(d)]) };
                    [states[a], states[b], states[c], states[d]] = s;
                }
                [a, b] => {
                    let mut s = [states[a], states[b]];
                    unsafe { compress::<2>(&mut s, [next(a), next(b)]) };
                    [states[a], states[b]] = s;
                }
                _ => unreachable!("groups are of four or two"),
            }
            for &i in group {
                done[i] += n;
            }
        }
        (0..files.len())
            .map(|i| finish(states[i], files[i], done[i]))
            .collect()
    }

    /// Hashes what is left of `data` after its first `done` blocks, pads it and gives the digest.
    fn finish(mut state: [u32; 8], data: &[u8], done: usize) -> [u8; 32] {
        let (blocks, tail) = data.as_chunks::<64>();
        compress256(&mut state, &blocks[done..]);
        // The last bytes, the bit 1, zeros, and the length in bits: one block or two.
        let mut last = [[0u8; 64]; 2];
        let flat = last.as_flattened_mut();
        flat[..tail.len()].copy_from_slice(tail);
        flat[tail.len()] = 0x80;
        let n = if tail.len() < 56 { 1 } else { 2 };
        let bits = (data.len() as u64).wrapping_mul(8);
        flat[n * 64 - 8..n * 64].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut state, &last[..n]);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// Runs the compression function over `blocks[l]` into `states[l]` for each of the `L`
    /// lanes, the lanes' rounds interleaved (every lane has as many blocks). The state is kept
    /// the way the SHA instructions want it: words A, B, E, F in one register, C, D, G, H in
    /// the other.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn compress<const L: usize>(states: &mut [[u32; 8]; L], blocks: [&[[u8; 64]]; L]) {
        let count = blocks[0].len();
        debug_assert!(blocks.iter().all(|b| b.len() == count));
        // Message words are big-endian.
        let swap = _mm_set_epi64x(0x0c0d0e0f08090a0b, 0x0405060700010203);
        let mut abef = [_mm_setzero_si128(); L];
        let mut cdgh = [_mm_setzero_si128(); L];
        for (l, state) in states.iter().enumerate() {
            // SAFETY: a state is eight words, read as two groups of four.
            let (dcba, hgfe) = unsafe {
                (
                    _mm_loadu_si128(state.as_ptr().cast()),
                    _mm_loadu_si128(state[4..].as_ptr().cast()),
                )
            };
            let cdab = _mm_shuffle_epi32(dcba, 0xB1);
            let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
            abef[l] = _mm_alignr_epi8(cdab, efgh, 8);
            cdgh[l] = _mm_blend_epi16(efgh, cdab, 0xF0);
        }
        // The block `at` of every lane: an index, as the lanes are `L` slices, not one.
        #[allow(clippy::needless_range_loop)]
        for at in 0..count {
            let block: [&[u8; 64]; L] = std::array::from_fn(|l| &blocks[l][at]);
            let (abef_in, cdgh_in) = (abef, cdgh);
            // The schedule's last four groups of four words, for each lane.
            let mut w = [[_mm_setzero_si128(); L]; 4];
            // Four rounds of both lanes with the words of group `$g` (held in `w[$g % 4]`).
            macro_rules! rounds {
                ($g:expr) => {
                    // SAFETY: K has 64 words; $g < 16.
                    let k = unsafe { _mm_loadu_si128(K[$g * 4..].as_ptr().cast()) };
                    let m: [__m128i; L] = std::array::from_fn(|l| _mm_add_epi32(w[$g % 4][l], k));
                    for l in 0..L {
                        cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], m[l]);
                    }
                    for l in 0..L {
                        abef[l] =
                            _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(m[l], 0x0E));
                    }
                };
            }
            // Groups 0 to 3 are the block's own words.
            macro_rules! load {
                ($($g:literal)*) => {$(
                    for l in 0..L {
                        // SAFETY: a block is 64 bytes, read as four groups of 16.
                        let words = unsafe { _mm_loadu_si128(block[l][$g * 16..].as_ptr().cast()) };
                        w[$g][l] = _mm_shuffle_epi8(words, swap);
                    }
                    rounds!($g);
                )*};
            }
            // Groups 4 to 15 come from the four before them (FIPS 180-4, 6.2.2 step 1).
            macro_rules! next {
                ($($g:literal)*) => {$(
                    for l in 0..L {
                        let w16 = w[$g % 4][l];
                        let w15 = w[($g + 1) % 4][l];
                        let w8 = w[($g + 2) % 4][l];
                        let w4 = w[($g + 3) % 4][l];
                        let sum = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w15), _mm_alignr_epi8(w4, w8, 4));
                        w[$g % 4][l] = _mm_sha256msg2_epu32(sum, w4);
                    }
                    rounds!($g);
                )*};
            }
            // Written out in full: a loop here is not unrolled, and the lanes run no faster
            // than one stream.
            load!(0 1 2 3);
            next!(4 5 6 7 8 9 10 11 12 13 14 15);
            for l in 0..L {
                abef[l] = _mm_add_epi32(abef[l], abef_in[l]);
                cdgh[l] = _mm_add_epi32(cdgh[l], cdgh_in[l]);
            }
        }
        for (l, state) in states.iter_mut().enumerate() {
            let feba = _mm_shuffle_epi32(abef[l], 0x1B);
            let dchg = _mm_shuffle_epi32(cdgh[l], 0xB1);
            let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
            let hgfe = _mm_alignr_epi8(dchg, feba, 8);
            // SAFETY: as for the loads above.
            unsafe {
                _mm_storeu_si128(state.as_mut_ptr().cast(), dcba);
                _mm_storeu_si128(state[4..].as_mut_ptr().cast(), hgfe);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
            .collect()
    }

    /// The digests of `files`, by `digest_all`, against sha2 one file at a time.
    fn check(files: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let want: Vec<String> = files.iter().map(|f| one(f)).collect();
        let lens: Vec<usize> = files.iter().map(Vec::len).collect();
        assert_eq!(digest_all(&refs), want, "lengths {lens:?}");
    }

    #[test]
    fn known_digests() {
        // FIPS 180-2, appendix B.1 and B.2, and the empty message.
        let got = digest_all(&[
            b"abc",
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            b"",
        ]);
        assert_eq!(
            got,
            [
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ]
        );
    }

    #[test]
    fn every_padding_case_and_uneven_groups() {
        // Tails either side of 56 bytes (the length fits in the last block or needs another),
        // whole blocks, and files far longer than the others they are grouped with.
        let lens = [
            0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 100_003,
        ];
        for &x in &lens {
            for &y in &lens {
                check(&[bytes(x, 1), bytes(y, 2)]);
            }
        }
        // Four lanes, then two, then one, as files of different lengths end.
        for n in 1..=9 {
            let files: Vec<Vec<u8>> = (0..n)
                .map(|i| bytes(lens[(i * 5 + n) % lens.len()] + i * 64, i as u8))
                .collect();
            check(&files);
        }
        check(&[]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_interleaved_blocks_run_on_this_machine() {
        // Every other test goes through the fallback on a CPU without the SHA extensions;
        // this one says so rather than pass without exercising the intrinsics.
        if !interleaved::available() {
            eprintln!("no SHA extensions here: only the fallback is tested");
            return;
        }
        let files: Vec<Vec<u8>> = (0..6)
            .map(|i| bytes((1 << 20) + i * 77_777, i as u8))
            .collect();
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let got: Vec<String> = interleaved::digest_all(&refs)
            .into_iter()
            .map(hex::encode)
            .collect();
        let want: Vec<String> = files.iter().map(|f| one(f)).collect();
        assert_eq!(got, want);
    }

    proptest! {
        #[test]
        fn the_same_as_one_file_at_a_time(
            files in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..7),
        ) {
            let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
            let want: Vec<String> = files.iter().map(|f| one(f)).collect();
            prop_assert_eq!(digest_all(&refs), want);
        }
    }
}
