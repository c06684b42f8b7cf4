//! The shape of the source, checked: the top-level modules import one
//! another without a circle (lower stages never reach up), every file says
//! what it is for, and none grows past the size where a change stops having
//! one obvious home. (Functions over 100 lines are clippy's
//! `too_many_lines`, set in `clippy.toml`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's text before its unit tests, comment lines dropped.
fn production(text: &str) -> Vec<&str> {
    text.split("\n#[cfg(test)]")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect()
}

/// Top-level module → the top-level modules its production code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = common::root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if ["main", "cli", "bar", "lib"].contains(&top.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let used = graph.entry(top.clone()).or_default();
        for line in production(&text) {
            for part in line.split("crate::").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    used.insert(name);
                }
            }
        }
    }
    graph
}

fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            let mut c = path[i..].to_vec();
            c.push(at.to_string());
            return Some(c);
        }
        if !done.insert(at.to_string()) {
            return None;
        }
        path.push(at.to_string());
        for next in g.get(at).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|k| visit(graph, k, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_without_a_circle() {
    let graph = imports();
    assert!(graph.len() > 15, "{graph:?}");
    assert_eq!(circle(&graph), None);
    // The check finds one when there is one.
    let mut broken = graph.clone();
    broken.get_mut("source").unwrap().insert("report".into());
    broken.get_mut("report").unwrap().insert("source".into());
    assert!(circle(&broken).is_some());
}

#[test]
fn every_file_is_documented_and_none_is_too_long() {
    let mut files = Vec::new();
    sources(&common::root().join("src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} has no module documentation",
            f.display()
        );
        let lines = text.split("\n#[cfg(test)]").next().unwrap().lines().count();
        assert!(lines <= 720, "{}: {lines} production lines", f.display());
    }
}
