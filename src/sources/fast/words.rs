//! Why: the prefilter's words are matched ASCII-case-insensitively, and a case-insensitive
//! regex of them was a third of `caller`'s read over hourly blobs (issue 26): its literal
//! search (Fat Teddy) ran over 40 case variants of the words' first letters, and the lazy DFA
//! then confirmed each candidate. Lowering the bytes a block at a time and searching the
//! lowered words case-sensitively is an exact literal search (Slim Teddy, or memmem for one
//! word), with nothing to confirm.
//! Plain twin: the same words as one `(?i-u)` regex over the bytes as they are
//! ([`Words::plain`]).
//! Held equal by: `lowered_search_finds_what_the_case_insensitive_regex_does` below.

use std::ops::Range;

use regex::bytes::Regex;

/// ASCII words, found in any ASCII letter case, the first listed preferred where two start
/// at the same byte (as a regex alternation prefers its first branch).
#[derive(Debug, Clone)]
pub struct Words {
    /// The lowered words, as a case-sensitive alternation of literals.
    regex: Regex,
    /// The longest word's length: a match found in a lowered prefix is final only when it
    /// starts at least this far before the prefix's end (see [`Lowered::find`]).
    longest: usize,
}

impl Words {
    /// `words` must be ASCII (the prefilter checks names before it builds words of them).
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Words {
        let words: Vec<String> = words
            .into_iter()
            .map(|w| w.as_ref().to_ascii_lowercase())
            .collect();
        debug_assert!(words.iter().all(|w| w.is_ascii() && !w.is_empty()));
        let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
        Words {
            regex: Regex::new(&format!("(?-u){}", alternation.join("|"))).expect("escaped words"),
            longest: words.iter().map(String::len).max().unwrap_or(0),
        }
    }

    /// Whether `lowered` (bytes already lowered) holds one of the words.
    pub fn is_match(&self, lowered: &[u8]) -> bool {
        self.regex.is_match(lowered)
    }

    /// The case-insensitive regex these words stand for, over bytes as they are.
    #[cfg(test)]
    pub fn plain<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Regex {
        let alternation: Vec<String> = words
            .into_iter()
            .map(|w| regex::escape(w.as_ref()))
            .collect();
        Regex::new(&format!("(?i-u){}", alternation.join("|"))).expect("escaped words")
    }
}

/// Lowers ASCII capitals in `src` into `dst` (other bytes as they are).
fn lower_into(src: &[u8], dst: &mut Vec<u8>) {
    dst.extend(src.iter().map(u8::to_ascii_lowercase));
}

/// Bytes a block of the lowered copy holds: it is searched while still in the core's cache.
const BLOCK: usize = 64 << 10;

/// A buffer's ASCII-lowered copy, made a block at a time as far as the searches reach.
/// The offsets of both are the same.
pub struct Lowered<'a> {
    data: &'a [u8],
    low: Vec<u8>,
    block: usize,
}

impl<'a> Lowered<'a> {
    /// `scratch` is a buffer to reuse (its contents are dropped).
    pub fn new(data: &'a [u8], mut scratch: Vec<u8>) -> Lowered<'a> {
        scratch.clear();
        scratch.reserve(data.len());
        Lowered {
            data,
            low: scratch,
            block: BLOCK,
        }
    }

    /// The buffer back, to reuse.
    pub fn into_scratch(self) -> Vec<u8> {
        self.low
    }

    fn lower_to(&mut self, end: usize) {
        let end = end.min(self.data.len());
        while self.low.len() < end {
            let from = self.low.len();
            let to = (from + self.block).min(self.data.len());
            lower_into(&self.data[from..to], &mut self.low);
        }
    }

    /// The lowered bytes of `range` of the buffer.
    pub fn get(&mut self, range: Range<usize>) -> &[u8] {
        self.lower_to(range.end);
        &self.low[range]
    }

    /// The first match of `words` at or after `at`, as a byte range of the buffer: the match
    /// the case-insensitive regex finds there over the whole buffer.
    pub fn find(&mut self, words: &Words, at: usize) -> Option<Range<usize>> {
        if at > self.data.len() {
            return None;
        }
        self.lower_to(at + self.block);
        let mut from = at;
        loop {
            let end = self.low.len();
            let whole = end == self.data.len();
            match words.regex.find_at(&self.low[..end], from) {
                // A match that starts a word's length before the end of what is lowered is
                // the leftmost of all: any that starts before it (or at it, for an earlier
                // word) would end before that end, and would have been found.
                Some(m) if whole || m.start() + words.longest <= end => return Some(m.range()),
                // Near the end, a longer word may start there or before: look again, further.
                Some(_) => {}
                None if whole => return None,
                // None here: none starts before the last word's length of what is lowered.
                None => from = end.saturating_sub(words.longest).max(from),
            }
            self.lower_to(end + self.block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_matches(
        mut f: impl FnMut(usize) -> Option<Range<usize>>,
        len: usize,
    ) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(m) = f(at) {
            at = m.start + 1;
            found.push(m);
            if at > len {
                break;
            }
        }
        found
    }

    #[test]
    fn words_across_blocks_and_in_any_case_are_found() {
        let words = ["/networksecuritygroups", "bob@contoso.com"];
        let mut data = vec![b'x'; 3 * BLOCK];
        for at in [0, BLOCK - 3, 2 * BLOCK - 21, 3 * BLOCK - 15] {
            data[at..at + 15].copy_from_slice(b"BoB@Contoso.COM");
        }
        data.extend_from_slice(b"/NetworkSecurityGroups");
        let w = Words::new(words);
        let plain = Words::plain(words);
        let mut lowered = Lowered::new(&data, Vec::new());
        let ours = all_matches(|at| lowered.find(&w, at), data.len());
        let theirs = all_matches(|at| plain.find_at(&data, at).map(|m| m.range()), data.len());
        assert_eq!(ours.len(), 5);
        assert_eq!(ours, theirs);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Blocks a few bytes long, so that words cross their boundaries; pieces of the words
        /// in mixed case, and a word that is another's start.
        #[test]
        fn lowered_search_finds_what_the_case_insensitive_regex_does(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/networkSecurityGroups", "/NETWORKSECURITY", "groups", "bob@", "Contoso.com",
                    "BOB@CONTOSO.COM", "/jitNetworkAccessPolicies", "/jit", "x", "\n", "é",
                ]),
                0..60,
            ),
            block in 1usize..40,
        ) {
            let words = ["bob@contoso.com", "/jitnetworkaccesspolicies", "/networksecuritygroups", "/jit"];
            let mut data = Vec::new();
            for p in &pieces {
                data.extend_from_slice(p.as_bytes());
            }
            let w = Words::new(words);
            let plain = Words::plain(words);
            let mut lowered = Lowered { block, ..Lowered::new(&data, Vec::new()) };
            let ours = all_matches(|at| lowered.find(&w, at), data.len());
            let theirs = all_matches(|at| plain.find_at(&data, at).map(|m| m.range()), data.len());
            proptest::prop_assert_eq!(ours, theirs);
            proptest::prop_assert_eq!(lowered.get(0..data.len()), data.to_ascii_lowercase());
        }
    }
}
