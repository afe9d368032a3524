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

/// An array, or a string holding one.
pub fn as_array(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::String(s) => match serde_json::from_str::<Value>(s.trim()) {
            Ok(Value::Array(a)) => Some(a),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
