//! Binding `:name` parameters in SQL text to literals, quoted properly, never by pasting
//! raw text: a string becomes `'...'` with quotes doubled, a number its digits. Placeholders
//! inside string literals, quoted identifiers and comments are left alone.

use std::collections::BTreeMap;

use thiserror::Error;

/// A value bound to a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Literal {
    fn sql(&self) -> String {
        match self {
            Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => format!("{f:?}"),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BindError {
    #[error("the query uses :{0} but no value was given for it (--param {0}=VALUE)")]
    Missing(String),
}

/// Replaces each `:name` outside literals and comments with its bound value.
pub fn bind(sql: &str, params: &BTreeMap<String, Literal>) -> Result<String, BindError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                // Copy the literal or quoted identifier whole ('' and "" escape themselves).
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            out.push(c);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            ':' if chars.get(i + 1) == Some(&':') => {
                // `::type` casts.
                out.push_str("::");
                i += 2;
            }
            ':' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                let value = params
                    .get(&name)
                    .ok_or_else(|| BindError::Missing(name.clone()))?;
                out.push_str(&value.sql());
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Splits SQL text into statements at `;` outside literals, quoted identifiers and comments;
/// empty statements (and ones that are only comments) are dropped.
pub fn statements(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                current.push(c);
                i += 1;
                while i < chars.len() {
                    current.push(chars[i]);
                    i += 1;
                    if chars[i - 1] == c {
                        break;
                    }
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    current.push(chars[i]);
                    i += 1;
                }
            }
            ';' => {
                out.push(std::mem::take(&mut current));
                i += 1;
            }
            _ => {
                current.push(c);
                i += 1;
            }
        }
    }
    out.push(current);
    out.into_iter()
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"))
        })
        .map(|s| s.trim().to_string())
        .collect()
}

/// The `:name` parameters a query uses, in order of first use.
pub fn parameters(sql: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut probe = BTreeMap::new();
    // Bind repeatedly, learning each missing name, until the query binds.
    while let Err(BindError::Missing(name)) = bind(sql, &probe) {
        probe.insert(name.clone(), Literal::Int(0));
        seen.push(name);
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, Literal)]) -> BTreeMap<String, Literal> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn strings_are_quoted_and_escaped() {
        let p = params(&[
            (
                "caller",
                Literal::Str("o'brien@contoso.com' OR 1=1 --".into()),
            ),
            ("n", Literal::Int(3)),
        ]);
        let sql = bind("SELECT * FROM t WHERE caller = :caller AND n > :n", &p).unwrap();
        assert_eq!(
            sql,
            "SELECT * FROM t WHERE caller = 'o''brien@contoso.com'' OR 1=1 --' AND n > 3"
        );
    }

    #[test]
    fn parameters_in_literals_and_comments_are_left_alone() {
        let p = params(&[("x", Literal::Int(1))]);
        let sql = bind(
            "SELECT ':x', \"a:x\" -- :y\nFROM t WHERE a = :x AND b::int = 2",
            &p,
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT ':x', \"a:x\" -- :y\nFROM t WHERE a = 1 AND b::int = 2"
        );
    }

    #[test]
    fn statements_split_outside_literals_and_comments() {
        let sql = "-- setup; not a split\nCREATE TABLE x AS SELECT ';' AS a FROM t;\n\nSELECT * FROM x; -- trailing\n";
        assert_eq!(
            statements(sql),
            vec![
                "-- setup; not a split\nCREATE TABLE x AS SELECT ';' AS a FROM t",
                "SELECT * FROM x"
            ]
        );
    }

    #[test]
    fn a_missing_value_is_named() {
        assert_eq!(
            bind("SELECT :who", &BTreeMap::new()),
            Err(BindError::Missing("who".into()))
        );
        assert_eq!(parameters("SELECT :a, :b, :a"), vec!["a", "b"]);
    }
}
