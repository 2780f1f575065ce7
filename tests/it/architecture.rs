//! The crate map of ARCHITECTURE.md, read from the Cargo manifests: which samla crate may
//! depend on which, and which outside crates a layer must not reach for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each crate's directory and the samla crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("config", &[]),
    ("simulator", &[]),
    ("harvester", &["samla-model", "samla-config"]),
    ("store", &["samla-model"]),
    ("indexer", &["samla-model"]),
    ("sparql", &["samla-model", "samla-store"]),
    ("reports", &["samla-model", "samla-store", "samla-indexer"]),
    (
        "pipeline",
        &[
            "samla-model",
            "samla-config",
            "samla-harvester",
            "samla-store",
            "samla-indexer",
        ],
    ),
    (
        "notify",
        &[
            "samla-model",
            "samla-config",
            "samla-harvester",
            "samla-store",
            "samla-indexer",
            "samla-reports",
        ],
    ),
    (
        "api",
        &[
            "samla-model",
            "samla-store",
            "samla-indexer",
            "samla-reports",
            "samla-sparql",
            "samla-notify",
        ],
    ),
];

/// Outside crates a crate must not depend on, and why.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("model", "reqwest", "the model does no I/O"),
    ("model", "rusqlite", "the model does no I/O"),
    ("model", "tokio", "the model does no I/O"),
    ("model", "axum", "the model knows nothing of HTTP"),
    ("config", "oxrdf", "the config knows nothing of RDF"),
    ("config", "reqwest", "the config knows nothing of HTTP"),
    (
        "harvester",
        "tantivy",
        "the harvester knows nothing of the index",
    ),
    (
        "harvester",
        "rusqlite",
        "the harvester knows nothing of the store",
    ),
    ("harvester", "axum", "the harvester serves nothing"),
    ("store", "reqwest", "the store knows nothing of HTTP"),
    ("store", "tantivy", "the store knows nothing of the index"),
    ("store", "axum", "the store knows nothing of HTTP"),
    (
        "indexer",
        "rusqlite",
        "the index knows nothing of the store",
    ),
    ("indexer", "axum", "the index knows nothing of HTTP"),
    (
        "reports",
        "axum",
        "reports are computed, the api serves them",
    ),
    (
        "reports",
        "reqwest",
        "reports read the store, not the network",
    ),
    (
        "sparql",
        "axum",
        "the SPARQL crate takes query text, the api speaks HTTP",
    ),
    (
        "api",
        "reqwest",
        "the api reads the store and the index, never the network",
    ),
    (
        "api",
        "rusqlite",
        "the api reads the store through its interface",
    ),
    (
        "notify",
        "axum",
        "notify delivers; the api serves its pages and endpoints",
    ),
    (
        "notify",
        "rusqlite",
        "notify keeps its state through the store's interface",
    ),
    (
        "simulator",
        "samla-model",
        "the simulator is a region, not samla",
    ),
];

fn dependencies(dir: &Path) -> BTreeSet<String> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let manifest: toml::Table = text.parse().unwrap_or_else(|e| panic!("{path:?}: {e}"));
    manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn crates_depend_on_each_other_as_the_architecture_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut samla_deps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (dir, allowed) in ALLOWED {
        let deps = dependencies(&root.join(dir));
        for dep in deps.iter().filter(|d| d.starts_with("samla-")) {
            if !allowed.contains(&dep.as_str()) {
                broken.push(format!("{dir} depends on {dep}"));
            }
        }
        samla_deps.insert(dir, deps);
    }
    for (dir, dep, why) in FORBIDDEN {
        if samla_deps[dir].contains(*dep) {
            broken.push(format!("{dir} depends on {dep}: {why}"));
        }
    }
    // Every workspace member is in the map.
    let workspace: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("root manifest")
        .parse()
        .expect("root manifest parses");
    let members: Vec<&str> = workspace["workspace"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    for member in &members {
        if !ALLOWED.iter().any(|(dir, _)| dir == member) {
            broken.push(format!("{member} is not in the crate map"));
        }
    }
    // Nothing but the binary depends on the api.
    for (dir, deps) in &samla_deps {
        if deps.contains("samla-api") {
            broken.push(format!("{dir} depends on samla-api"));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_binary_holds_cli_and_wiring_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<String> = std::fs::read_dir(&src)
        .expect("src")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["app.rs", "lib.rs", "main.rs", "progress.rs"]);
}
