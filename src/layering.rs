//! The layering rule of the README's "Layout", checked on the sources: the
//! core imports no command, and no command imports another. Only the top
//! (`lib.rs`, `main.rs`, `cli.rs`) puts the commands together.

use std::path::{Path, PathBuf};

/// The commands, by their module under `src/`. `render`'s command is its
/// `command.rs`; the rest of `render/` is the template engine, core.
const COMMANDS: &[&str] = &[
    "deploy",
    "status",
    "state",
    "teardown",
    "permissions",
    "diff",
    "drill",
    "cli",
];
/// Not checked: the top, and this file (which names the commands).
const TOP: &[&str] = &["lib.rs", "main.rs", "cli.rs", "layering.rs"];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The command a file belongs to, `None` for the core.
fn owner(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.trim_end_matches(".rs");
    if COMMANDS.contains(&module) {
        return Some(module.to_string());
    }
    (relative == Path::new("render/command.rs")).then(|| "render".to_string())
}

/// The commands a source names through `crate::<command>`.
fn commands_named(text: &str) -> Vec<&str> {
    text.match_indices("crate::")
        .filter_map(|(at, prefix)| {
            let rest = &text[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            COMMANDS.iter().copied().find(|c| *c == &rest[..end])
        })
        .collect()
}

/// Every import that breaks the rule, as `file: crate::<command>`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut found = Vec::new();
    for path in files {
        let Ok(relative) = path.strip_prefix(src) else {
            continue;
        };
        if TOP.iter().any(|top| relative == Path::new(top)) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let owner = owner(relative);
        for command in commands_named(&text) {
            if owner.as_deref() != Some(command) {
                found.push(format!("{}: crate::{command}", relative.display()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_core_imports_no_command_and_no_command_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "imports against the layering: {found:#?}");
}

#[test]
fn an_import_across_the_layers_is_found() {
    assert_eq!(
        commands_named("use crate::deploy::Ctx;\nuse crate::cfn::stack;\ncrate::state::x()"),
        ["deploy", "state"]
    );
    assert_eq!(commands_named("use crate::statement;"), Vec::<&str>::new());
    assert_eq!(owner(Path::new("wire/route53.rs")), None);
    assert_eq!(
        owner(Path::new("teardown/inventory/mod.rs")).as_deref(),
        Some("teardown")
    );
    assert_eq!(
        owner(Path::new("render/command.rs")).as_deref(),
        Some("render")
    );
    assert_eq!(owner(Path::new("render/mod.rs")), None);
}
