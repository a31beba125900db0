//! The module graph, checked from the source: the top-level modules of `src/` are listed
//! in `lib.rs` in layers, bottom to top, and each may use only modules of the layers
//! below its own; inside a
//! folder module (`hash/`, `metrics/`, `tool/`) the files import each other without a
//! cycle; and `ARCHITECTURE.md` lists the modules in the order the code has them.
//!
//! Read as text, like a reviewer would: `crate::name` and `use crate::{a, b}` in code
//! (comments and `#[cfg(test)]` modules left out, since tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Code without comments and without anything from the first `#[cfg(test)]` on.
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules as `lib.rs` declares them: in layers, bottom to top, each a
/// group of `mod` lines between blank lines (rustfmt sorts within a group only).
fn layers() -> Vec<Vec<String>> {
    let mut layers = vec![Vec::new()];
    for line in code_of(&src().join("lib.rs")).lines() {
        let line = line.trim();
        if line.is_empty() {
            layers.push(Vec::new());
            continue;
        }
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(module) = declared {
            layers.last_mut().unwrap().push(module.to_owned());
        }
    }
    layers.retain(|layer| !layer.is_empty());
    layers
}

/// The top-level modules in the order `lib.rs` declares them.
fn declared_modules() -> Vec<String> {
    layers().into_iter().flatten().collect()
}

/// Every `.rs` file of a top-level module: `name.rs` and everything under `name/`.
fn files_of(module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = src().join(format!("{module}.rs"));
    if file.exists() {
        files.push(file);
    }
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "module {module} has no source file");
    // Files declared `#[cfg(test)] mod name;` are tests, which may reach anywhere.
    let test_only: BTreeSet<String> = files
        .iter()
        .flat_map(|file| test_modules(&fs::read_to_string(file).unwrap_or_default()))
        .collect();
    files.retain(|file| {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        !test_only.contains(stem)
    });
    files
}

/// The names of the modules `text` declares as `#[cfg(test)] mod name;`.
fn test_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("#[cfg(test)]") {
        let rest = text[at + "#[cfg(test)]".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("mod ") else {
            continue;
        };
        if let Some(name) = rest.split_whitespace().next() {
            if let Some(name) = name.strip_suffix(';') {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The names that follow `prefix` in `code`: `crate::a::b` gives `a`, and
/// `crate::{a, b::c}` gives `a` and `b`.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// Names re-exported at the crate root (`pub use module::{A, B}`), by the module they
/// come from: code that says `crate::AgentLayer` depends on `layer`.
fn root_reexports() -> BTreeMap<String, String> {
    let lib = code_of(&src().join("lib.rs"));
    let mut map = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.split(" as ").last().unwrap_or_default().trim();
            let name = name.rsplit("::").next().unwrap_or_default();
            if !name.is_empty() {
                map.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    map
}

#[test]
fn each_module_uses_only_the_modules_below_it() {
    let layers = layers();
    assert!(layers.len() > 8, "lib.rs declares {layers:?}");
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (m.as_str(), i)))
        .collect();
    let order = declared_modules();
    let reexports = root_reexports();
    let mut violations = Vec::new();
    for module in &order {
        for file in files_of(module) {
            let code = code_of(&file);
            for name in names_after(&code, "crate::") {
                let target = if rank.contains_key(name.as_str()) {
                    name.clone()
                } else if let Some(from) = reexports.get(&name) {
                    from.clone()
                } else {
                    continue;
                };
                if target != *module && rank[target.as_str()] >= rank[module.as_str()] {
                    violations.push(format!(
                        "{} uses `{target}`, which is not in a layer below `{module}` in lib.rs",
                        file.strip_prefix(src()).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// A cycle among `graph`'s nodes, if any (depth-first search for a back edge).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_folder_module_has_a_cycle_inside() {
    let mut folders = 0;
    for module in declared_modules() {
        let dir = src().join(&module);
        if !dir.is_dir() {
            continue;
        }
        folders += 1;
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let children: BTreeSet<String> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.unwrap().path();
                let stem = path.file_stem()?.to_str()?.to_owned();
                (stem != "mod").then_some(stem)
            })
            .collect();
        for child in &children {
            let file = dir.join(format!("{child}.rs"));
            let code = code_of(&file);
            let mut uses = names_after(&code, "super::");
            uses.extend(names_after(&code, &format!("crate::{module}::")));
            uses.retain(|name| children.contains(name) && name != child);
            graph.insert(child.clone(), uses);
        }
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{module}/ has an import cycle: {}", cycle.join(" -> "));
        }
    }
    assert!(folders >= 3, "expected hash/, metrics/ and tool/");
}

/// The module map lists every module, in the order lib.rs declares them, as lines
/// starting with "- `name`" under its "## Modules" heading.
#[test]
fn architecture_md_lists_the_modules_in_the_codes_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md");
    let text = fs::read_to_string(&path).expect("ARCHITECTURE.md at the repository root");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Modules"))
        .expect("a `## Modules` section");
    let listed: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| rest.split('`').next())
        .map(|name| name.trim_end_matches('/').to_owned())
        .collect();
    assert_eq!(listed, declared_modules(), "ARCHITECTURE.md's module map");
}
