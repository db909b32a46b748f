//! The backend's layout as ARCHITECTURE.md describes it: folders along the data path, each
//! using only the folders before it (and the crate root), no import cycle between modules, and
//! every module named in ARCHITECTURE.md. Reads the sources; builds nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders in data-path order: each may use those before it, never those after.
const FOLDERS: [&str; 8] = [
    "platform", "clients", "access", "project", "runs", "triggers", "engine", "live",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file under `src/`, as its path relative to it.
fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(src()).expect("under src").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &mut out);
    out.sort();
    out
}

/// The module a file is: `triggers::inbox` for `triggers/inbox.rs`, `engine` for
/// `engine/mod.rs`; `None` for the crate root's own files (lib.rs, error.rs).
fn module_of(file: &Path) -> Option<String> {
    let parts: Vec<String> = file
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    match parts.first().map(String::as_str) {
        None | Some("lib" | "error") => None,
        _ => Some(parts.join("::")),
    }
}

/// The code of a file without its unit tests (they may reach anything).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(src().join(file)).expect("read");
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The crate paths a file names: `crate::a::b::…` and the items of `use crate::{…}` groups,
/// nested groups flattened (`crate::{platform::{db, keys}, Backend}` names
/// `platform::db`, `platform::keys` and `Backend`).
fn paths_named(code: &str) -> Vec<Vec<String>> {
    fn flatten(prefix: &[String], group: &str, out: &mut Vec<Vec<String>>) {
        let mut depth = 0;
        let mut start = 0;
        let bytes: Vec<char> = group.chars().collect();
        let mut items = Vec::new();
        for (i, c) in bytes.iter().enumerate() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(bytes[start..i].iter().collect::<String>());
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(bytes[start..].iter().collect::<String>());
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if let Some(open) = item.find('{') {
                let head: Vec<String> = item[..open]
                    .split("::")
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().to_owned())
                    .collect();
                let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
                let mut p = prefix.to_vec();
                p.extend(head);
                flatten(&p, inner, out);
            } else {
                let mut p = prefix.to_vec();
                p.extend(
                    item.split(" as ")
                        .next()
                        .unwrap_or_default()
                        .split("::")
                        .map(|s| s.trim().to_owned()),
                );
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let head: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        if let Some(group) = after[head.len()..].strip_prefix('{') {
            let prefix: Vec<String> = head
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            flatten(&prefix, &group[..end], &mut out);
            rest = &group[end..];
        } else {
            out.push(
                head.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
            rest = after;
        }
    }
    out
}

/// The module a crate path lands in: the longest prefix that is a module.
fn target(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn folder(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let files = files();
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut uses = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let mut to = BTreeSet::new();
        for path in paths_named(&code(file)) {
            if let Some(t) = target(&path, &modules) {
                if t != module {
                    to.insert(t);
                }
            }
        }
        uses.insert(module, to);
    }
    uses
}

#[test]
fn every_folder_uses_only_the_folders_before_it() {
    let rank = |m: &str| {
        FOLDERS
            .iter()
            .position(|f| *f == folder(m))
            .unwrap_or_else(|| panic!("{m} is in no folder of the layout: add it to FOLDERS"))
    };
    let mut wrong = Vec::new();
    for (module, to) in uses() {
        for t in to {
            if rank(&t) > rank(&module) {
                wrong.push(format!("{module} uses {t}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a folder reaches a later one (order: {FOLDERS:?}):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_modules_use_each_other_even_through_others() {
    let uses = uses();
    // a module's folder (its mod.rs) declares its files: that is not a use
    let edges = |m: &String| -> Vec<String> {
        uses.get(m)
            .map(|to| {
                to.iter()
                    .filter(|t| !t.starts_with(&format!("{m}::")))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut cycles = Vec::new();
    for start in uses.keys() {
        // depth-first from `start`, looking for a way back to it
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((m, trail)) = stack.pop() {
            for next in edges(&m) {
                if &next == start {
                    let mut c = trail.clone();
                    c.push(next.clone());
                    cycles.push(c.join(" → "));
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next, t));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn architecture_md_names_every_folder_and_module() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    let missing: Vec<String> = files()
        .iter()
        .filter(|f| !f.starts_with("platform/entities/") || f.ends_with("mod.rs"))
        .map(|f| {
            let p = f.to_string_lossy().replace('\\', "/");
            p.strip_suffix("/mod.rs")
                .map(|d| format!("{d}/"))
                .unwrap_or(p)
        })
        .filter(|name| !doc.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name these backend modules (as `path`): {missing:?}"
    );
}

#[test]
fn the_reader_sees_groups_and_paths() {
    let named = paths_named(
        "use crate::platform::{db, entities::{users, sessions as s}};\nuse crate::{Backend, access::projects::authorize};\nlet x = crate::runs::executions::start(1);",
    );
    let joined: Vec<String> = named.iter().map(|p| p.join("::")).collect();
    assert!(joined.contains(&"platform::db".to_owned()), "{joined:?}");
    assert!(
        joined.contains(&"platform::entities::sessions".to_owned()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"access::projects::authorize".to_owned()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"runs::executions::start".to_owned()),
        "{joined:?}"
    );
}

/// The product's source folders, each crate's `src/` (tests and test support apart; entities
/// are generated).
fn product_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("entities") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    for krate in [
        "domain",
        "migrations",
        "backend",
        "app",
        "server",
        "frontend",
    ] {
        walk(&root.join(krate).join("src"), &mut out);
    }
    out.sort();
    out
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = product_sources()
        .into_iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(&p).ok()?.lines().count();
            (n > 600).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by job: {long:#?}");
}

/// Every function of `text` (before its unit tests) longer than `max` lines, by name.
fn long_functions(text: &str, max: usize) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect();
    let name_of = |line: &str| -> Option<String> {
        let mut rest = line.trim_start();
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        for prefix in ["async ", "unsafe "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        let name = rest.strip_prefix("fn ")?;
        Some(
            name.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect(),
        )
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = name_of(lines[i]) else {
            i += 1;
            continue;
        };
        let (mut depth, mut opened, mut j) = (0i32, false, i);
        while j < lines.len() {
            // char literals of braces and quotes are not code, nor is a comment ("//" outside
            // a string: a URL in a string is not one)
            let code = lines[j]
                .replace("'{'", "' '")
                .replace("'}'", "' '")
                .replace("'\"'", "' '");
            let mut in_str = false;
            let mut prev = ' ';
            let mut kept = String::new();
            for c in code.chars() {
                match c {
                    '"' if prev != '\\' => in_str = !in_str,
                    '/' if !in_str && prev == '/' => {
                        kept.pop();
                        break;
                    }
                    '{' if !in_str => {
                        depth += 1;
                        opened = true;
                    }
                    '}' if !in_str => depth -= 1,
                    _ => {}
                }
                kept.push(c);
                prev = c;
            }
            if (opened && depth <= 0) || (!opened && kept.trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        if opened && j - i + 1 > max {
            out.push(name);
        }
        i = if opened { j + 1 } else { i + 1 };
    }
    out
}

#[test]
fn no_function_is_over_80_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for path in product_sources() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        for name in long_functions(&text, 80) {
            found.push(format!("{rel} {name}"));
        }
    }
    assert!(
        found.is_empty(),
        "functions over 80 lines: split them into steps: {found:#?}"
    );
}

#[test]
fn the_length_reader_counts_a_function_from_its_line_to_its_brace() {
    let short = "fn a() {\n    let x = \"{\";\n    let y = '}';\n}\n";
    assert!(long_functions(short, 4).is_empty());
    assert_eq!(long_functions(short, 3), vec!["a".to_owned()]);
    // a URL in a string is not a comment; a comment's braces are not code
    let url = "fn b() {\n    let u = if x { \"https://a\" } else { \"\" };\n    // {\n}\n";
    assert!(long_functions(url, 4).is_empty());
    assert_eq!(long_functions(url, 3), vec!["b".to_owned()]);
    // a declaration without a body, a comment after it, is not taken for the next function
    let decl = "fn c(); // {\nfn d() {\n}\n";
    assert_eq!(long_functions(decl, 1), vec!["d".to_owned()]);
    let long = format!("pub async fn b() {{\n{}}}\n", "    x();\n".repeat(90));
    assert_eq!(long_functions(&long, 80), vec!["b".to_owned()]);
}
