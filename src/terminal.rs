//! Text from the inputs made safe for a terminal. A caller name or a justification can hold an
//! escape sequence (colours, a window title, a hidden hyperlink, a cleared screen), a bell, or a
//! bidirectional override that shows a line in another order than its bytes; printed raw, the
//! data would drive the analyst's terminal. Every terminal output shows such characters
//! escaped; CSV, JSON and the HTML keep the data exact.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with control characters written `\x1b` and bidirectional and invisible format
/// characters written `\u202e`; tabs and line ends become spaces, so a value stays on its line.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_care) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x100 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_format(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_care(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// Characters that change how the text around them is shown without being seen: the
/// bidirectional marks, embeddings, overrides and isolates, and the zero-width ones.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn escapes_bells_osc_and_bidi_overrides_and_keeps_the_rest() {
        assert_eq!(clean("alice@contoso.com"), "alice@contoso.com");
        assert_eq!(clean("Zoë 東京"), "Zoë 東京");
        assert_eq!(clean("a\u{1b}[31mred"), "a\\x1b[31mred");
        assert_eq!(clean("\u{1b}]0;pwned\u{7}title"), "\\x1b]0;pwned\\x07title");
        assert_eq!(clean("evil\u{202e}txt.exe"), "evil\\u202etxt.exe");
        assert_eq!(clean("x\u{9b}2J"), "x\\x9b2J");
        assert_eq!(clean("line\nnext\ttab"), "line next tab");
        assert_eq!(clean("del\u{7f}"), "del\\x7f");
    }
}
