//! Templates → rendered templates: Lambda sources from `layers/` are brought
//! into the templates, and the plan becomes a manifest of what deploys where.

pub mod assets;
mod command;
pub mod manifest;

pub use command::{RenderArgs, run};

use thiserror::Error;

use crate::plan::{Plan, PlannedUnit};

/// The marker a template uses to inline a layer file as Lambda `ZipFile` code.
const INCLUDE_MARKER: &str = "# mraa:include ";

/// CloudFormation's limit on inline (`ZipFile`) Lambda source.
pub const ZIPFILE_LIMIT: usize = 4096;

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("template {0} is not built into this mraa binary")]
    MissingTemplate(String),
    #[error("template {template} includes {path}, which is not built into this mraa binary")]
    MissingInclude { template: String, path: String },
    #[error(
        "{path} is {len} characters once inlined into {template}; CloudFormation allows {ZIPFILE_LIMIT}"
    )]
    IncludeTooLarge {
        template: String,
        path: String,
        len: usize,
    },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

/// One rendered template, ready to hand to CloudFormation.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub file: String,
    pub body: String,
}

pub fn render_unit(unit: &PlannedUnit) -> Result<Rendered, RenderError> {
    let source = assets::template(&unit.template)
        .ok_or_else(|| RenderError::MissingTemplate(unit.template.clone()))?;
    Ok(Rendered {
        file: unit.template.clone(),
        body: expand_includes(&unit.template, source)?,
    })
}

pub fn render_all(plan: &Plan) -> Result<Vec<Rendered>, RenderError> {
    plan.units.iter().map(render_unit).collect()
}

/// Replaces each `# mraa:include <path>` line by the file's lines at the same
/// indentation, which keeps a YAML block scalar (`ZipFile: |`) intact.
fn expand_includes(template: &str, source: &str) -> Result<String, RenderError> {
    let mut out = String::with_capacity(source.len() * 2);
    for line in source.lines() {
        let trimmed = line.trim_start();
        let Some(path) = trimmed.strip_prefix(INCLUDE_MARKER) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let path = path.trim();
        let bytes = assets::layer_file(path).ok_or_else(|| RenderError::MissingInclude {
            template: template.to_string(),
            path: path.to_string(),
        })?;
        let text = std::str::from_utf8(bytes).map_err(|_| RenderError::NotText {
            path: path.to_string(),
        })?;
        if text.len() > ZIPFILE_LIMIT {
            return Err(RenderError::IncludeTooLarge {
                template: template.to_string(),
                path: path.to_string(),
                len: text.len(),
            });
        }
        let indent = &line[..line.len() - trimmed.len()];
        for code_line in text.lines() {
            if !code_line.is_empty() {
                out.push_str(indent);
                out.push_str(code_line);
            }
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_keep_the_block_indentation() {
        let (path, _) = assets::LAYERS
            .iter()
            .find(|(p, _)| p.ends_with(".py"))
            .expect("layers hold Lambda sources");
        let template = format!("Code:\n  ZipFile: |\n    # mraa:include {path}\nNext: 1\n");
        let out = expand_includes("t.yaml", &template).expect("known include");
        assert!(!out.contains("mraa:include"));
        assert!(out.ends_with("Next: 1\n"));
        for line in out.lines().skip(2).take_while(|l| !l.starts_with("Next")) {
            assert!(line.is_empty() || line.starts_with("    "), "{line:?}");
        }
    }

    #[test]
    fn an_unknown_include_is_an_error() {
        let err =
            expand_includes("t.yaml", "  # mraa:include layers/nope.py\n").expect_err("missing");
        assert!(matches!(err, RenderError::MissingInclude { .. }));
    }
}
