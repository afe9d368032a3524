//! Lenient access to Azure's JSON: keys matched case-insensitively, `LocalizableString`
//! objects read through their `value`, JSON held inside strings decoded, nulls and arrays in
//! singular fields tolerated. Also finds the line each element of a document's list starts
//! on, so rejections can say `file:line`.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The value under `key`, matched exactly first and then ignoring ASCII case.
pub fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// Follows a path of keys through nested objects (each matched like [`get`]); an object held
/// as a JSON string on the way is decoded.
pub fn path(obj: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    let (first, rest) = keys.split_first()?;
    let v = get(obj, first)?;
    if rest.is_empty() {
        return Some(v.clone());
    }
    let inner = as_map(v)?;
    path(&inner, rest)
}

/// Text of a scalar: strings as they are (trimmed, empty is absent), numbers and booleans
/// printed, a `LocalizableString` through its `value` (or `localizedValue` when `value` is
/// empty), an array as its items joined with commas.
pub fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().filter_map(text).collect::<Vec<_>>().join(","),
        Value::Object(o) => {
            return get(o, "value")
                .and_then(text)
                .or_else(|| get(o, "localizedValue").and_then(text));
        }
    };
    (!s.is_empty()).then_some(s)
}

/// [`text`] of the value under `key`.
pub fn text_at(obj: &Map<String, Value>, key: &str) -> Option<String> {
    get(obj, key).and_then(text)
}

/// The display form of a `LocalizableString`: `localizedValue`, else `value`.
pub fn localized(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => get(o, "localizedValue")
            .and_then(text)
            .or_else(|| get(o, "value").and_then(text)),
        other => text(other),
    }
}

/// An object, borrowed when it is one and decoded when a string holds one: the read-only
/// form of [`as_object`], which spares a copy of every claims map on the hot path.
pub fn as_map(v: &Value) -> Option<Cow<'_, Map<String, Value>>> {
    match v {
        Value::Object(o) => Some(Cow::Borrowed(o)),
        Value::String(s) => match serde_json::from_str::<Value>(s.trim()) {
            Ok(Value::Object(o)) => Some(Cow::Owned(o)),
            _ => None,
        },
        _ => None,
    }
}

/// An object, or a string holding one (Log Analytics `dynamic` cells, REST `requestbody`).
pub fn as_object(v: &Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(o) => Some(o.clone()),
        Value::String(s) => match serde_json::from_str::<Value>(s.trim()) {
            Ok(Value::Object(o)) => Some(o),
            _ => None,
        },
        _ => None,
    }
}

/// The items of `key` when it is an array of objects (absent, null or otherwise: none).
pub fn objects<'a>(obj: &'a Map<String, Value>, key: &str) -> Vec<&'a Map<String, Value>> {
    match get(obj, key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// The strings under a singular field and its plural twin, e.g. `sourceAddressPrefix` and
/// `sourceAddressPrefixes`. Either may be absent, null, empty, or (against the schema, as the
/// docs' PowerShell does) an array in the singular field.
pub fn singular_and_plural(obj: &Map<String, Value>, singular: &str, plural: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in [singular, plural] {
        match get(obj, key) {
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(text)),
            Some(v) => out.extend(text(v)),
            None => {}
        }
    }
    out.dedup();
    out
}

/// The line (1-based) each element of the document's main list starts on: the top-level
/// array, or the first array directly under the top-level object (`value`, `records`). Empty
/// when the document has no such list. A small scanner, so positions cost no second parse.
pub fn element_lines(data: &[u8]) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut line = 1u64;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut list_depth: Option<usize> = None;
    let mut expect_element = false;
    for &b in data {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if expect_element && !b.is_ascii_whitespace() && b != b']' {
            lines.push(line);
            expect_element = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' => {
                if list_depth.is_none() && depth <= 1 {
                    list_depth = Some(depth + 1);
                    expect_element = true;
                }
                depth += 1;
            }
            b'{' => depth += 1,
            b']' | b'}' => {
                if Some(depth) == list_depth && b == b']' {
                    return lines;
                }
                depth = depth.saturating_sub(1);
            }
            b',' if Some(depth) == list_depth => expect_element = true,
            _ => {}
        }
    }
    lines
}

/// What [`parse_lenient`] says of a text it read only after mending it.
pub const LONE_SURROGATES: &str =
    "lone UTF-16 surrogate escapes (\\ud800 without its pair) read as U+FFFD";

/// What [`parse_lenient`] mended to read a text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mends {
    /// Lone surrogate escapes were read as U+FFFD.
    pub surrogates: bool,
    /// Numbers too large for a double (`1e999`, 400 digits) were read as null.
    pub numbers: usize,
}

impl Mends {
    /// The note a file's report keeps, when anything was mended.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.surrogates {
            parts.push(LONE_SURROGATES.to_string());
        }
        if self.numbers > 0 {
            parts.push(format!(
                "{} number(s) too large for a double read as null",
                self.numbers
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A JSON value from `text`, reading a lone UTF-16 surrogate escape (a `\ud800` without its
/// pair, or the pair's second half alone), which is JSON's grammar but no character, as
/// U+FFFD, and a number too large for a double as null, where `serde_json` refuses the whole
/// text (one such number once lost a whole document); also what it mended. The scanner of
/// plain records (`record_line`) passes over such escapes in the fields nobody reads and gives
/// up on such numbers: so a record is never lost over one, whichever path reads it. On
/// failure, the error of the text as given.
pub fn parse_lenient<T: serde::de::DeserializeOwned>(
    text: &[u8],
) -> Result<(T, Mends), serde_json::Error> {
    let first = match serde_json::from_slice(text) {
        Ok(v) => return Ok((v, Mends::default())),
        Err(e) => e,
    };
    let mut mends = Mends::default();
    let mut mended: Option<Vec<u8>> = None;
    if let Some(m) = mend_lone_surrogates(text) {
        mends.surrogates = true;
        mended = Some(m);
    }
    // Each number out of range is found where serde_json stops, and overwritten in place by
    // `null` and spaces, so the places of the others do not move; a bound on how many keeps a
    // hostile text from costing a parse per number for ever.
    for _ in 0..1000 {
        let current = mended.as_deref().unwrap_or(text);
        match serde_json::from_slice::<T>(current) {
            Ok(v) => {
                return if mended.is_some() {
                    Ok((v, mends))
                } else {
                    Err(first)
                };
            }
            Err(e) if e.to_string().starts_with("number out of range") => {
                let mut owned = mended.take().unwrap_or_else(|| text.to_vec());
                if !null_number_at(&mut owned, e.line(), e.column()) {
                    return Err(first);
                }
                mends.numbers += 1;
                mended = Some(owned);
            }
            Err(_) => return Err(first),
        }
    }
    Err(first)
}

/// Overwrites the number that ends at `line`:`column` (serde_json's place for one out of range)
/// with `null` and spaces; false when there is no number there.
fn null_number_at(text: &mut [u8], line: usize, column: usize) -> bool {
    let mut start_of_line = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &text[start_of_line..]) {
            Some(i) => start_of_line += i + 1,
            None => return false,
        }
    }
    let at = (start_of_line + column).min(text.len());
    let is_number = |b: u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
    let mut start = at;
    while start > start_of_line && is_number(text[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < text.len() && is_number(text[end]) {
        end += 1;
    }
    if end - start < 4 {
        return false;
    }
    text[start..start + 4].copy_from_slice(b"null");
    text[start + 4..end].fill(b' ');
    true
}

/// `text` with each lone surrogate escape written `\ufffd`; `None` when it holds none.
fn mend_lone_surrogates(text: &[u8]) -> Option<Vec<u8>> {
    let unit = |at: usize| -> Option<u16> {
        let hex = text.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let mut out: Option<Vec<u8>> = None;
    let (mut copied, mut i) = (0, 0);
    while let Some(found) = memchr::memchr(b'\\', &text[i..]) {
        let at = i + found;
        i = match unit(at) {
            Some(0xD800..=0xDBFF) if matches!(unit(at + 6), Some(0xDC00..=0xDFFF)) => at + 12,
            Some(0xD800..=0xDFFF) => {
                let o = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
                o.extend_from_slice(&text[copied..at]);
                o.extend_from_slice(b"\\ufffd");
                copied = at + 6;
                at + 6
            }
            Some(_) => at + 6,
            // Any other escape, `\\` included, is two bytes.
            None => at + 2,
        };
        if i >= text.len() {
            break;
        }
    }
    let mut out = out?;
    out.extend_from_slice(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lone_surrogates_are_read_as_the_replacement_character() {
        let read = |t: &str| parse_lenient::<Value>(t.as_bytes()).map_err(|e| e.to_string());
        // A pair is a character; an escaped backslash before `u` is no escape.
        assert_eq!(
            read(r#"["\ud83d\ude00", "\\ud800"]"#),
            Ok((json!(["\u{1f600}", "\\ud800"]), Mends::default()))
        );
        for (text, value) in [
            (r#"["\ud800"]"#, json!(["\u{fffd}"])),
            (
                r#"["a\udc00b", "\ud800\ud800\udc00"]"#,
                json!(["a\u{fffd}b", "\u{fffd}\u{10000}"]),
            ),
            (r#"{"k": "\\\ud800\n"}"#, json!({"k": "\\\u{fffd}\n"})),
        ] {
            let surrogates = Mends {
                surrogates: true,
                numbers: 0,
            };
            assert_eq!(read(text), Ok((value, surrogates)), "{text}");
        }
        // Malformed for another reason: the error of the text as given.
        let text = r#"["\ud800", tru]"#;
        let as_given = serde_json::from_str::<Value>(text).unwrap_err().to_string();
        assert_eq!(read(text).unwrap_err(), as_given);
        assert!(read(r#"["ok", tru]"#).is_err());
    }

    /// Issue 30, smaller: one number too large for a double failed a whole JSON document. It is
    /// read as null, the rest as it is, and counted.
    #[test]
    fn numbers_out_of_range_are_read_as_null() {
        let read = |t: &str| parse_lenient::<Value>(t.as_bytes()).map_err(|e| e.to_string());
        let big = "9".repeat(400);
        let text = format!(
            "{{\"value\": [{{\"a\": 1e999, \"b\": \"x\"}},\n {{\"c\": -{big}, \"d\": 2}}]}}"
        );
        let (value, mends) = read(&text).unwrap();
        assert_eq!(
            value,
            json!({"value": [{"a": null, "b": "x"}, {"c": null, "d": 2}]})
        );
        assert_eq!(mends.numbers, 2);
        assert!(mends.note().unwrap().contains("2 number(s) too large"));
        // Both kinds at once.
        let (value, mends) = read(r#"["\ud800", 1e400]"#).unwrap();
        assert_eq!(value, json!(["\u{fffd}", null]));
        assert!(mends.surrogates && mends.numbers == 1);
        // A number in range is not touched; a text malformed otherwise keeps its error.
        assert!(read("[1e999, tru]").is_err());
    }

    #[test]
    fn keys_match_in_any_case_and_nulls_are_absent() {
        let v = json!({"OperationNameValue": "x", "Caller": null});
        let o = v.as_object().unwrap();
        assert_eq!(text_at(o, "operationnamevalue").as_deref(), Some("x"));
        assert_eq!(text_at(o, "caller"), None);
    }

    #[test]
    fn localizable_strings_and_json_in_strings() {
        let v = json!({"status": {"value": "", "localizedValue": "Succeeded"},
                       "p": "{\"a\": {\"b\": 1}}"});
        let o = v.as_object().unwrap();
        assert_eq!(text_at(o, "status").as_deref(), Some("Succeeded"));
        assert_eq!(path(o, &["p", "a", "b"]), Some(json!(1)));
    }

    #[test]
    fn array_in_a_singular_field() {
        let v = json!({"allowedSourceAddressPrefix": ["*"], "allowedSourceAddressPrefixes": null});
        let o = v.as_object().unwrap();
        assert_eq!(
            singular_and_plural(
                o,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes"
            ),
            vec!["*"]
        );
    }

    #[test]
    fn element_lines_of_lists() {
        let doc =
            b"{\n \"value\": [\n  {\"a\": \"[,]\"},\n  {\"b\": [1,2]}\n ],\n \"nextLink\": null\n}";
        assert_eq!(element_lines(doc), vec![3, 4]);
        assert_eq!(element_lines(b"[{},\n{},\n{}]"), vec![1, 2, 3]);
        assert_eq!(element_lines(b"[]"), Vec::<u64>::new());
        assert_eq!(element_lines(b"{\"id\": 1}"), Vec::<u64>::new());
    }
}
