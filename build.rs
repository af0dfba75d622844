//! Embeds `templates/` and `layers/` into the binary, so that a single `mraa`
//! executable renders and deploys without the source tree beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let mut code = String::new();
    for (name, dir) in [("TEMPLATES", "templates"), ("LAYERS", "layers")] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        collect(&root, &root.join(dir), &mut files);
        files.sort();
        writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[").expect("write to string");
        for relative in files {
            let absolute = root.join(&relative);
            writeln!(
                code,
                "    ({:?}, include_bytes!({:?})),",
                relative,
                absolute.display().to_string()
            )
            .expect("write to string");
        }
        writeln!(code, "];").expect("write to string");
    }
    std::fs::write(out.join("assets.rs"), code).expect("OUT_DIR is writable");
}

/// Files under `dir`, as paths relative to `root` with `/` separators. Build
/// and test leftovers are not part of what mraa ships.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || ["__pycache__", "node_modules", "tests"].contains(&name.as_str())
            || name.ends_with(".pyc")
            || name == "README.md"
        {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
}
