//! The house plan, checked: imports point down the layers, and no files import each other in
//! a loop. A small reading of the `crate::` and `super::` paths in `src/`, outside what
//! `#[cfg(test)]` marks; `docs/architecture.md` explains the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its layer, lowest first. A module may use only modules
/// of a lower layer; two modules of one layer do not use each other.
const LAYERS: &[(&str, u32)] = &[
    ("bytes", 0),
    ("exit", 0),
    ("severity", 0),
    ("terminal", 0),
    ("secrets", 0),
    ("normalize", 1),
    ("schema", 2),
    ("catalogue", 2),
    ("sql", 2),
    ("state", 2),
    ("window", 2),
    ("config", 3),
    ("queries", 3),
    ("tables", 3),
    ("sources", 4),
    ("azure", 4),
    ("sample", 4),
    ("derive", 5),
    ("pipeline", 6),
    ("enrich", 7),
    ("rules", 8),
    ("summary", 9),
    ("output", 10),
    ("cli", 11),
    ("cmd", 12),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/pipeline/mod.rs` is `["pipeline"]`, `src/tables/coverage.rs`
/// is `["tables", "coverage"]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without what `#[cfg(test)]` marks (a test
/// module, a test-only function): an item is skipped to its `;` or its matching `}`.
fn code(text: &str) -> String {
    let text: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), Some(semi)) if semi < open => semi + 1,
            (Some(open), _) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (i, c) in item[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(semi)) => semi + 1,
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every module path the code names from `crate::` or `super::`, with `use` groups expanded
/// one level (`crate::a::{b, c::d}` names `a::b` and `a::c::d`).
fn paths_named(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(anchor) {
            let start = from + i;
            from = start + anchor.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let mut base: Vec<String> = if anchor == "crate::" {
                Vec::new()
            } else {
                // `super` of `a/b.rs` is `a`; of `a/b/mod.rs` (module a::b) also `a`.
                let mut m = module.to_vec();
                m.pop();
                m
            };
            let rest = &code[from..];
            let simple: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<String> = simple
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if rest[simple.len()..].starts_with('{') {
                let group = &rest[simple.len() + 1..];
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let item = item.trim();
                    if item.is_empty() || item == "self" {
                        let mut p = base.clone();
                        p.extend(segments.iter().cloned());
                        out.push(p);
                        continue;
                    }
                    let mut p = base.clone();
                    p.extend(segments.iter().cloned());
                    p.extend(
                        item.split("::")
                            .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
                            .filter(|s| !s.is_empty() && s != "{"),
                    );
                    out.push(p);
                }
                continue;
            }
            base.append(&mut segments);
            out.push(base);
        }
    }
    out
}

/// The file a module path lands in: the longest prefix that is a file of `src/`.
fn file_of(path: &[String], files: &BTreeMap<Vec<String>, PathBuf>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| files.contains_key(p))
}

struct Tree {
    files: BTreeMap<Vec<String>, PathBuf>,
    /// File to the files it names (a parent's naming of its own children left out: that is
    /// how a module declares and re-exports its parts).
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn tree() -> Tree {
    let mut all = Vec::new();
    rust_files(&src(), &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> =
        all.into_iter().map(|f| (module_of(&f), f)).collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &files {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let named: BTreeSet<Vec<String>> = paths_named(&text, module)
            .iter()
            .filter_map(|p| file_of(p, &files))
            .filter(|target| target != module && !target.starts_with(module))
            .collect();
        edges.insert(module.clone(), named);
    }
    Tree { files, edges }
}

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

#[test]
fn every_top_level_module_has_a_layer() {
    let t = tree();
    let tops: BTreeSet<&str> = t
        .files
        .keys()
        .filter_map(|m| m.first().map(String::as_str))
        .collect();
    for top in tops {
        assert!(
            layer(top).is_some(),
            "src/{top} has no layer in LAYERS (tests/it/architecture.rs) nor docs/architecture.md"
        );
    }
}

#[test]
fn imports_point_down_the_layers() {
    let t = tree();
    let mut wrong = Vec::new();
    for (from, targets) in &t.edges {
        let Some(top) = from.first() else { continue };
        for to in targets {
            let other = &to[0];
            if other == top {
                continue;
            }
            let (a, b) = (layer(top).unwrap_or(99), layer(other).unwrap_or(99));
            if b >= a {
                wrong.push(format!(
                    "{} (layer {a}) uses {} (layer {b})",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_loop() {
    let t = tree();
    // Depth-first search for a cycle, reporting its files.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|n| n == node).unwrap_or(0);
                return Some(stack[at..].to_vec());
            }
            _ => {}
        }
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in t.edges.keys() {
        if let Some(cycle) = visit(node, &t.edges, &mut state, &mut Vec::new()) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("an import loop: {} -> back", names.join(" -> "));
        }
    }
}
