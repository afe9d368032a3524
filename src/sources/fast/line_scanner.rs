//! Why: building a `serde_json` value of every record was most of a JSON Lines parse; this cursor is how [`super::record_line`] reads without one.
//! Plain twin: `serde_json`, which the general path parses each line with.
//! Held equal by: the proptest `the_scanner_takes_what_serde_json_takes` below.
//!
//! A cursor over one JSON line for the plain-record reader ([`super::record_line`]): it reads
//! strings borrowed from the line, passes over values checking JSON's grammar as `serde_json`
//! checks what it passes over, and gives up (`None`) on anything it is not sure of, leaving the
//! line to the general path.

use std::borrow::Cow;
use std::cell::Cell;

use super::string_masks;

/// Nesting deeper than this is the general path's (`serde_json` stops at 128).
const MAX_DEPTH: u32 = 64;

/// The string without the white space around it (what the general path reads), borrowed or
/// kept as it came when there is none ([`crate::normalize::trim`] answers the usual case).
fn trim(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(crate::normalize::trim(b)),
        Cow::Owned(o) if crate::normalize::trim(&o).len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

thread_local! {
    /// The masks of the line a scanner of this thread reads (see [`string_masks`]), kept for
    /// the next line.
    static MASKS: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
}

/// A cursor over one line. Every method returns `None` to give up on the line.
pub(super) struct Scanner<'a> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    /// The quotes and backslashes of the line, a bit per byte (see [`string_masks`]): a
    /// string's end is found by a bit search.
    masks: Vec<u64>,
}

impl Drop for Scanner<'_> {
    fn drop(&mut self) {
        MASKS.set(std::mem::take(&mut self.masks));
    }
}

impl<'a> Scanner<'a> {
    /// A scanner over `line`, or `None` when the line is not UTF-8 (checked once, whole, so
    /// that borrowed strings need no check of their own) or holds a control character other
    /// than the white space around it (which a JSON string may not hold, and which the
    /// scanner leaves to `serde_json` rather than checking string by string).
    pub(super) fn new(line: &'a [u8]) -> Option<Scanner<'a>> {
        // Azure's records begin and end with a brace: nothing to trim.
        let inner = match line {
            [b'{', .., b'}'] => line,
            _ => {
                let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
                let start = line.iter().position(|b| !space(b)).unwrap_or(line.len());
                let end = line
                    .iter()
                    .rposition(|b| !space(b))
                    .map_or(start, |i| i + 1);
                &line[start..end]
            }
        };
        let mut masks = MASKS.take();
        let ascii = string_masks::fill(inner, &mut masks);
        let text = match ascii {
            // SAFETY: every byte is below 0x80 (the masks' pass): ASCII is UTF-8.
            Some(true) => Some(unsafe { std::str::from_utf8_unchecked(inner) }),
            Some(false) => simdutf8::basic::from_utf8(inner).ok(),
            None => None,
        };
        let Some(text) = text else {
            MASKS.set(masks);
            return None;
        };
        Some(Scanner {
            text,
            bytes: inner,
            pos: 0,
            masks,
        })
    }

    /// The index of the first `"` or `\\` at or after `at`.
    #[inline(always)]
    fn quote_or_backslash(&self, mut at: usize) -> Option<usize> {
        while at < self.bytes.len() {
            let after = self.masks[at / 64] >> (at % 64);
            if after != 0 {
                return Some(at + after.trailing_zeros() as usize);
            }
            at = (at | 63) + 1;
        }
        None
    }

    /// The next byte past spaces (the only white space left inside the line).
    #[inline(always)]
    pub(super) fn peek(&mut self) -> Option<u8> {
        // Azure writes its records without spaces between tokens (Microsoft's examples have
        // them): one look in the usual case.
        match self.bytes.get(self.pos) {
            Some(b' ') => self.peek_past_spaces(),
            next => next.copied(),
        }
    }

    #[cold]
    fn peek_past_spaces(&mut self) -> Option<u8> {
        while self.bytes.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    pub(super) fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// The string at the cursor (on its opening quote): the byte range of its contents and
    /// whether it holds escapes, which are checked as `serde_json` checks them.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.pos + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            let i = self.quote_or_backslash(at)?;
            if self.bytes[i] == b'"' {
                self.pos = i + 1;
                return Some((start, i, escaped));
            }
            escaped = true;
            at = match *self.bytes.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i + 2,
                // Any four hex digits, as serde_json checks a string it passes over; a string
                // that is read is decoded by serde_json, which refuses a lone surrogate (the
                // line then goes to the general path, which reads it as U+FFFD).
                b'u' if (self.bytes.get(i + 2..i + 6)?.iter()).all(u8::is_ascii_hexdigit) => i + 6,
                _ => return None,
            };
        }
    }

    /// An object key and its colon, borrowed; an escaped key gives up.
    pub(super) fn key(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let (start, end, escaped) = self.string()?;
        self.expect(b':')?;
        (!escaped).then(|| &self.text[start..end])
    }

    /// An object key and its colon, passed over (escapes and all).
    #[inline(always)]
    fn pass_key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        self.expect(b':')
    }

    /// A string (trimmed) or null; any other value gives up.
    pub(super) fn text(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => {
                let (start, end, escaped) = self.string()?;
                let value = if escaped {
                    Cow::Owned(serde_json::from_str(&self.text[start - 1..=end]).ok()?)
                } else {
                    Cow::Borrowed(&self.text[start..end])
                };
                Some(Some(trim(value)))
            }
            b'n' => self.literal(b"null").map(|()| None),
            _ => None,
        }
    }

    /// Null, or an object whose entries `entry` reads (it is given each key with the cursor
    /// on the value, and must move past the value); any other value gives up.
    pub(super) fn object_or_null(
        &mut self,
        mut entry: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<bool> {
        self.entries(|s, _| {
            let key = s.key()?;
            entry(s, key)
        })
    }

    /// Null, or an object whose entries `entry` reads, key and value: it is given each entry's
    /// place in the object (0, 1, ...) with the cursor before the key, and must move past the
    /// value. Any other value gives up.
    pub(super) fn entries(
        &mut self,
        mut entry: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<bool> {
        match self.peek()? {
            b'n' => return self.literal(b"null").map(|()| false),
            b'{' => self.pos += 1,
            _ => return None,
        }
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(true);
        }
        let mut place = 0;
        loop {
            entry(self, place)?;
            place += 1;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(true);
                }
                _ => return None,
            }
        }
    }

    /// Moves past a number, checked against JSON's grammar and, as serde_json checks a
    /// number it reads, against the range of an `f64`: a number too large for one (`1e400`)
    /// gives up wherever it is, so that the general path refuses the record whether or not
    /// anything reads that value, and what a query reads never decides whether it is refused.
    pub(super) fn number(&mut self) -> Option<()> {
        let start = self.pos;
        let digits = |s: &mut Self| {
            let from = s.pos;
            while s.bytes.get(s.pos).is_some_and(u8::is_ascii_digit) {
                s.pos += 1;
            }
            s.pos > from
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        match *self.bytes.get(self.pos)? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return None;
            }
        }
        let mut exponent = false;
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            exponent = true;
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        // Only an exponent or some three hundred digits can pass f64::MAX (about 1.8e308).
        if exponent || self.pos - start > 300 {
            let value: f64 = self.text[start..self.pos].parse().ok()?;
            if !value.is_finite() {
                return None;
            }
        }
        Some(())
    }

    /// Passes over the object's entries at the cursor (on a key) that are a plain string key
    /// and a plain string value, written without spaces (`"aud":"https://..."`): most of an
    /// identity's and of the properties' entries. A tighter loop than the general one in
    /// [`Scanner::skip`] (passing over an identity and the properties was a fifth of a `query`'s
    /// instructions): it moves past each such entry and its comma, and stops at the first
    /// entry that is not one, which it leaves to the general loop (`false`: the cursor on its
    /// key), or after an entry that no comma follows (`true`: a value has ended, the cursor
    /// after it). It checks nothing the general loop would not: a string with an escape, a
    /// space or any other value is left to it.
    #[inline(always)]
    fn plain_entries(&mut self) -> bool {
        loop {
            let key = self.pos;
            if self.bytes.get(key) != Some(&b'"') {
                return false;
            }
            let Some(key_end) = self.plain_string_end(key + 1) else {
                return false;
            };
            if self.bytes.get(key_end + 1..key_end + 3) != Some(b":\"") {
                return false;
            }
            let Some(value_end) = self.plain_string_end(key_end + 3) else {
                return false;
            };
            self.pos = value_end + 1;
            if self.bytes.get(self.pos) != Some(&b',') {
                return true;
            }
            self.pos += 1;
        }
    }

    /// The index of the closing quote of a string whose contents begin at `at`, when no
    /// backslash comes before it.
    #[inline(always)]
    fn plain_string_end(&self, at: usize) -> Option<usize> {
        let i = self.quote_or_backslash(at)?;
        (self.bytes[i] == b'"').then_some(i)
    }

    /// Moves past any value as [`Scanner::skip`] does, a string (most of the values passed
    /// over at the top of a record) without the general loop's set-up.
    #[inline(always)]
    pub(super) fn pass_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            _ => self.skip(),
        }
    }

    /// Moves past any value, checking that it is JSON, without recursion.
    pub(super) fn skip(&mut self) -> Option<()> {
        // One bit per open container, set for an object.
        let mut objects = 0u64;
        let mut depth = 0u32;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                open @ (b'{' | b'[') => {
                    self.pos += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                    } else {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return None;
                        }
                        objects = objects << 1 | u64::from(open == b'{');
                        if open == b'{' && !self.plain_entries() {
                            self.pass_key()?;
                            continue;
                        }
                        if open == b'[' {
                            continue;
                        }
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value has ended: close what it ends, or go on to the next value.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let in_object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if !in_object {
                            break;
                        }
                        if self.plain_entries() {
                            continue;
                        }
                        self.pass_key()?;
                        // Most values in an object are strings: one is passed over here, and
                        // what follows it read as after any value.
                        if self.peek()? != b'"' {
                            break;
                        }
                        self.string()?;
                        continue;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                self.pos += 1;
                objects >>= 1;
                depth -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Scanner;

    /// Whether the scanner takes the line as one JSON value, with nothing after it.
    fn accepts(line: &[u8]) -> bool {
        Scanner::new(line).is_some_and(|mut s| s.skip().is_some() && s.pos == s.bytes.len())
    }

    /// The strings' ends and escapes are found wherever they fall against the 64-byte blocks:
    /// strings that cross one, end on one, or hold an escape at one, in lines shorter and
    /// longer than a block.
    #[test]
    fn strings_are_found_across_the_blocks() {
        for pad in 0..140 {
            for body in [
                "",
                "a",
                "ab\\\"cd",
                "x\\\\",
                "\\u00e9t\\u00e9",
                "\\/\\n",
                "\\\\\\\"",
            ] {
                for repeat in [1, 20] {
                    let content = format!("{}{}", "b".repeat(pad % 70), body.repeat(repeat));
                    let line = format!("[{}\"{content}\",\"z\"]", " ".repeat(pad));
                    let mut s = Scanner::new(line.as_bytes()).expect("a plain line");
                    s.expect(b'[').expect("the bracket");
                    s.peek();
                    let (start, end, escaped) = s.string().expect("a string");
                    assert_eq!(&line[start..end], content, "{line}");
                    assert_eq!(escaped, content.contains('\\'), "{line}");
                    assert_eq!(s.pos, end + 1);
                    s.expect(b',').expect("a comma");
                    let (start, end, _) = s.string().expect("the second string");
                    assert_eq!(&line[start..end], "z");
                    assert_eq!(s.peek(), Some(b']'));
                    s.expect(b']').expect("the closing bracket");
                    assert_eq!(s.pos, line.len());
                }
            }
        }
        // A string that never ends, one whose last quote is escaped, and a control character
        // in the second block.
        for line in [
            format!("\"{}", "a".repeat(200)),
            format!("[\"{}\\\"]", "a".repeat(61)),
            format!("[\"{}\u{1}\"]", "a".repeat(70)),
        ] {
            assert!(!accepts(line.as_bytes()), "{line}");
        }
    }

    /// A line is UTF-8 checked whole unless every byte is ASCII: bytes that are not UTF-8
    /// give up wherever they are, in a block of their own or beside others.
    #[test]
    fn a_line_that_is_not_utf8_gives_up() {
        for pad in [0, 10, 63, 64, 100] {
            let a = "a".repeat(pad);
            assert!(
                accepts(format!("  [\"{a}\u{e9}\u{2603}\"] ").as_bytes()),
                "{pad}"
            );
            for bad in [&[0xffu8][..], &[0xc3], &[0xe2, 0x98], &[0xed, 0xa0, 0x80]] {
                let mut line = format!("[\"{a}").into_bytes();
                line.extend_from_slice(bad);
                line.extend_from_slice(b"\"]");
                assert!(!accepts(&line), "{pad} {bad:?}");
                assert!(Scanner::new(&line).is_none());
            }
        }
    }

    #[test]
    fn numbers_and_literals_end_where_a_token_or_space_begins() {
        for good in [
            "[1,-0.5e+3 ,true]",
            "{\"a\":null}",
            "  0  ",
            "[false]",
            "-12E7",
            "[1e308,-1e-400,123456789012345678901234567890]",
        ] {
            assert!(accepts(good.as_bytes()), "{good}");
        }
        for bad in [
            "[1 2]",
            "[truex]",
            "[01]",
            "[1.]",
            "[-]",
            "[1\"a\"]",
            "[nul]",
            "[1\\\"]",
            "x",
            "[\"a\"b]",
            "{\"a\" \"b\"}",
            "[1,]",
            "{\"a\":1,}",
            "[\"\\x\"]",
            "[\"\\u12\"]",
        ] {
            assert!(!accepts(bad.as_bytes()), "{bad}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(bad).is_err(),
                "{bad}"
            );
        }
        // Out of an f64's range: serde_json passes over such a number but will not read it.
        let digits = format!("[{}]", "9".repeat(400));
        for bad in ["[1e400]", "[-2E+309]", &digits] {
            assert!(!accepts(bad.as_bytes()), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(bad).is_ok(),
                "{bad}"
            );
        }
    }

    /// A JSON value, with the bytes the scanner must tell apart: escapes of every kind,
    /// multi-byte characters, spaces between tokens, and strings long enough to cross blocks.
    fn json() -> impl Strategy<Value = String> {
        // Half of them without an escape (most of Azure's), up to 80 bytes (crossing blocks).
        let string = prop_oneof![
            "\"([a-z\u{e9}\u{2603} :,{}\\[\\]]|\\\\[\"\\\\/bfnrt]|\\\\u00[0-9a-fA-F]{2}){0,40}\"",
            "\"[a-z\u{e9}\u{2603} :,{}\\[\\]]{0,80}\"",
        ];
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?",
            string.clone(),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            let sep = prop_oneof![Just(","), Just(" , "), Just(", ")];
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..6), sep.clone())
                    .prop_map(|(v, sep)| format!("[{}]", v.join(sep))),
                // Entries written as Azure writes them (no spaces: the scanner's tighter loop
                // for plain strings) and with spaces.
                (
                    prop::collection::vec((string.clone(), inner), 0..6),
                    sep,
                    prop_oneof![Just(":"), Just(" : ")],
                )
                    .prop_map(|(kv, sep, colon)| {
                        let entries: Vec<String> =
                            kv.iter().map(|(k, v)| format!("{k}{colon}{v}")).collect();
                        format!("{{{}}}", entries.join(sep))
                    }),
            ]
        })
    }

    /// An object as Azure writes an identity: many entries of plain strings, without spaces
    /// (what [`Scanner::plain_entries`] passes over), now and then another value, and strings
    /// that hold the separators.
    fn azure_like() -> impl Strategy<Value = String> {
        let plain = "\"[a-z:,{}\\[\\] ]{0,30}\"";
        let value = prop_oneof![4 => plain.prop_map(String::from), 1 => json()];
        prop::collection::vec((plain, value), 0..12).prop_map(|kv| {
            let entries: Vec<String> = kv.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", entries.join(","))
        })
    }

    /// A value changed in one place: a byte dropped, a JSON-significant byte put in, or cut
    /// short.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let bytes = prop::sample::select(br#""\/{}[],:-+.0123456789eEtfnu ax"#.to_vec());
        let value = prop_oneof![json(), azure_like()];
        (value, any::<prop::sample::Index>(), 0..4u8, bytes).prop_map(|(v, at, how, byte)| {
            let mut line = v.into_bytes();
            let i = at.index(line.len() + 1);
            match how {
                0 if i < line.len() => {
                    line.remove(i);
                }
                1 => line.insert(i, byte),
                2 => line.truncate(i),
                _ => {}
            }
            line
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The scanner takes exactly what serde_json takes as a value, and ends where the
        /// value does.
        #[test]
        fn the_scanner_takes_what_serde_json_takes(line in mutated()) {
            let serde = serde_json::from_slice::<serde_json::Value>(&line).is_ok();
            prop_assert_eq!(accepts(&line), serde, "{}", String::from_utf8_lossy(&line));
            if serde {
                let mut s = Scanner::new(&line).expect("taken");
                s.skip().expect("taken");
                prop_assert_eq!(s.pos, line.trim_ascii().len());
            }
        }
    }
}
