//! The one SQL engine under the rules and `query`: frames registered by name ([`Engine`]),
//! `:name` parameters bound to literals, several statements in one text (the last one's result
//! is the answer), and an error that says which statement failed and what the tables hold.
//!
//! Parameters are bound quoted, never by pasting raw text: a string becomes `'...'` with
//! quotes doubled, a number its digits. Placeholders inside string literals, quoted
//! identifiers and comments are left alone.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use polars::prelude::{DataFrame, LazyFrame, len};
use polars::sql::SQLContext;
use thiserror::Error;

/// Polars SQL over named frames.
#[derive(Default)]
pub struct Engine {
    ctx: SQLContext,
    /// What was registered, in order, to describe the tables when a statement fails.
    frames: Vec<(String, LazyFrame)>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            ctx: SQLContext::new(),
            frames: Vec::new(),
        }
    }

    /// Makes `frame` readable as the table `name`.
    pub fn register(&mut self, name: &str, frame: LazyFrame) {
        self.ctx.register(name, frame.clone());
        self.frames.push((name.to_string(), frame));
    }

    /// Runs every statement of `sql`, with `params` bound, in this engine's context (a
    /// statement sees the tables an earlier one created); returns the last one's result.
    pub fn run(&mut self, sql: &str, params: &BTreeMap<String, Literal>) -> Result<DataFrame> {
        let stmts = statements(sql);
        if stmts.is_empty() {
            bail!("the query has no statement");
        }
        let mut last = DataFrame::default();
        for (i, stmt) in stmts.iter().enumerate() {
            let bound = bind(stmt, params)?;
            match self.ctx.execute(&bound).and_then(LazyFrame::collect) {
                Ok(df) => last = df,
                Err(e) => bail!(
                    "statement {} of {}: {e}\n\n{}",
                    i + 1,
                    stmts.len(),
                    self.describe()
                ),
            }
        }
        Ok(last)
    }

    /// [`Engine::run`] for a caller that only needs to know whether the statements run.
    pub fn runs(&mut self, sql: &str, params: &BTreeMap<String, Literal>) -> bool {
        statements(sql).iter().all(|stmt| {
            bind(stmt, params)
                .ok()
                .and_then(|bound| self.ctx.execute(&bound).and_then(LazyFrame::collect).ok())
                .is_some()
        })
    }

    /// The registered tables with their rows and columns, for an error message.
    fn describe(&self) -> String {
        let mut s = String::from("Tables (see docs/tables.md):\n");
        for (name, lf) in &self.frames {
            let mut lf = lf.clone();
            let cols: Vec<String> = match lf.collect_schema() {
                Ok(schema) => schema.iter_names().map(|c| c.to_string()).collect(),
                Err(_) => Vec::new(),
            };
            let rows = lf
                .select([len()])
                .collect()
                .ok()
                .and_then(|df| df.column("len").ok()?.u32().ok()?.get(0))
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".to_string());
            s.push_str(&format!("  {name} ({rows} rows): {}\n", cols.join(", ")));
        }
        s
    }
}

/// A value bound to a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
}

impl Literal {
    fn sql(&self) -> String {
        match self {
            Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Int(i) => i.to_string(),
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
#[cfg(test)]
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
