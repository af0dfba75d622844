//! `mraa render`: every template rendered and the manifest, offline.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::OutputFormat;
use crate::config::Settings;
use crate::error::{EXIT_OK, InputError, MraaError, Result};
use crate::plan::{Kind, Plan};

use super::manifest::Manifest;
use super::{Rendered, render_all};

/// `mraa render`'s own arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RenderArgs {
    /// Write the rendered templates and manifest.json into this directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Include the custom domain's units (as `mraa deploy --domain NAME`)
    #[arg(long, env = "MRAA_DOMAIN", value_name = "NAME")]
    pub domain: Option<String>,

    /// Route 53 hosted zone for --domain [default: looked up at deploy]
    #[arg(long, env = "MRAA_HOSTED_ZONE_ID", value_name = "ID")]
    pub hosted_zone_id: Option<String>,

    /// How the two Regions serve: active-passive or active-active (as
    /// `mraa deploy --mode`) [default: active-passive]
    #[arg(long, env = "MRAA_MODE", value_name = "MODE")]
    pub mode: Option<crate::plan::Mode>,
}

pub fn run(settings: &Settings, args: &RenderArgs, out: &mut dyn Write) -> Result<u8> {
    let settings = &settings
        .clone()
        .with_domain(args.domain.clone(), args.hosted_zone_id.clone())?
        .with_mode(args.mode);
    let secondary = settings.require_secondary()?;
    let mut plan = Plan::new(&settings.app, &settings.primary, secondary)
        .with_allowed_origin(&settings.allowed_origin);
    if let Some(mode) = settings.user_replication {
        plan = plan.with_user_replication(mode);
    }
    plan = plan.with_mode(settings.mode.unwrap_or_default());
    if let Some(domain) = &settings.domain {
        // Offline: the zone is found by name only when deploying.
        let zone = settings
            .hosted_zone_id
            .as_deref()
            .unwrap_or("(looked up at deploy)");
        plan = plan.with_domain(domain, zone);
    }
    let rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
    let manifest = Manifest::new(&plan);
    let manifest_json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| MraaError::Io(format!("cannot encode the manifest: {e}")))?;

    match (&args.out, settings.output) {
        (Some(dir), format) => {
            write_files(dir, &rendered, &manifest_json)?;
            match format {
                OutputFormat::Json => writeln!(out, "{manifest_json}"),
                OutputFormat::Text | OutputFormat::Markdown => writeln!(
                    out,
                    "wrote {} templates and manifest.json to {}",
                    rendered.len(),
                    dir.display()
                ),
            }
        }
        (None, OutputFormat::Json) => writeln!(out, "{manifest_json}"),
        (None, OutputFormat::Text | OutputFormat::Markdown) => write_summary(out, &plan),
    }
    .map_err(stdout_error)?;
    Ok(EXIT_OK)
}

fn write_files(dir: &Path, rendered: &[Rendered], manifest: &str) -> Result<()> {
    let unwritable = |path: &Path, e: std::io::Error| {
        MraaError::from(InputError::OutputUnwritable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    };
    std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
    for template in rendered {
        let path = dir.join(&template.file);
        std::fs::write(&path, &template.body).map_err(|e| unwritable(&path, e))?;
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, format!("{manifest}\n")).map_err(|e| unwritable(&path, e))
}

fn write_summary(out: &mut dyn Write, plan: &Plan) -> std::io::Result<()> {
    writeln!(
        out,
        "app {}: primary {}, secondary {}",
        plan.app, plan.primary, plan.secondary
    )?;
    writeln!(
        out,
        "{:<5} {:<17} {:<10} {:<30} regions",
        "wave", "unit", "kind", "name"
    )?;
    for wave in plan.waves() {
        for unit in wave {
            let kind = match unit.kind {
                Kind::Stack => "stack",
                Kind::StackSet => "stack set",
            };
            writeln!(
                out,
                "{:<5} {:<17} {:<10} {:<30} {}",
                unit.wave,
                unit.unit.id(),
                kind,
                unit.name,
                unit.regions.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "then: S3 replication, DynamoDB replicas, app state, site upload"
    )?;
    if let Some(domain) = &plan.domain {
        writeln!(
            out,
            "and DNS: health checks, failover records api.{0} and site records {0} (zone {1})",
            domain.name, domain.hosted_zone_id
        )?;
    }
    writeln!(out, "(--out DIR writes the templates and manifest.json)")
}

fn stdout_error(e: std::io::Error) -> MraaError {
    MraaError::Io(format!("cannot write to stdout: {e}"))
}
