//! The templates and layer files, embedded at build time by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The text of `templates/<file>`, if it exists.
pub fn template(file: &str) -> Option<&'static str> {
    let path = format!("templates/{file}");
    find(TEMPLATES, &path).and_then(|bytes| std::str::from_utf8(bytes).ok())
}

/// The bytes of a layer file, by its path from the repository root
/// (`layers/routing/state_updater.py`).
pub fn layer_file(path: &str) -> Option<&'static [u8]> {
    find(LAYERS, path)
}

/// Every layer file under `prefix` (`layers/frontend/site/`), with its path.
pub fn layer_files_under(prefix: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    LAYERS
        .iter()
        .filter(move |(path, _)| path.starts_with(prefix))
        .map(|(path, bytes)| (*path, *bytes))
}

fn find(table: &'static [(&'static str, &'static [u8])], path: &str) -> Option<&'static [u8]> {
    table
        .iter()
        .find(|(candidate, _)| *candidate == path)
        .map(|(_, bytes)| *bytes)
}
