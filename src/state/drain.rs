//! `mraa drain <region>` and `mraa return <region>` (active-active): a
//! Region taken out of serving and put back, on the data plane only (see
//! [`crate::switch::serving`]). Guarded like `failover`: a question on a
//! terminal, `--reason` or `--yes` without one.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use crate::config::{OutputFormat, Settings};
use crate::error::{EXIT_OK, EXIT_USAGE, MraaError, Result};
use crate::switch::serving::{self, DrainedRead, Serving, Wrote};
use crate::switch::{self, guard};

#[derive(Debug, Clone, Default, Args)]
pub struct ServingArgs {
    /// The Region to take out of serving (drain) or put back (return)
    #[arg(value_name = "REGION")]
    pub region: String,

    /// Why; recorded with the change
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct Outcome {
    schema_version: u32,
    app: String,
    change: Serving,
    region: String,
    changed: bool,
    written_in: Option<String>,
    regions: Vec<DrainedRead>,
}

pub async fn run(
    settings: &Settings,
    change: Serving,
    args: &ServingArgs,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    let verb = change.verb();
    let region = args.region.trim().to_ascii_lowercase();
    // Bad input and an undeliberate change are refused before any AWS call.
    if !crate::regions::is_known(&region) {
        let _ = writeln!(
            messages,
            "error: `{region}` is not an AWS Region code; nothing was changed: run `mraa {verb} REGION` with one of the deployment's Regions (`mraa status` lists them)"
        );
        return Ok(EXIT_USAGE);
    }
    let terminal = crate::confirm::terminal();
    if let Some(refusal) = guard::refuse(verb, settings.yes, args.reason.as_deref(), terminal) {
        let _ = writeln!(messages, "{refusal}");
        return Ok(EXIT_USAGE);
    }
    let located = switch::locate_for(settings, verb, messages).await?;
    let aws = &located.aws;
    let regions = (aws.primary.region.as_str(), aws.secondary.region.as_str());
    if let Some(refusal) =
        serving::refuse(change, &region, regions, crate::plan::Mode::ActiveActive)
    {
        let _ = writeln!(messages, "{refusal}");
        return Ok(EXIT_USAGE);
    }
    // Written and read through the Region that stays serving, which also
    // holds the mode (the deployment record replicates to both).
    let through = serving::stays(&region, regions);
    let mode = serving::recorded_mode(aws, &settings.app, through).await?;
    if let Some(refusal) = serving::refuse(change, &region, regions, mode) {
        let _ = writeln!(messages, "{refusal}");
        return Ok(EXIT_USAGE);
    }
    if !settings.yes && terminal {
        let what = match change {
            Serving::Drain => format!(
                "{region} stops serving: its health check fails, DNS answers {through} for every \
                 user, and its APIs refuse writes naming {through}"
            ),
            Serving::Return => format!(
                "{region} serves again beside {through}: users near it are answered by it once its \
                 health check passes"
            ),
        };
        let question = format!(
            "app {}: {verb} {region}: {what}.\n{verb} {region}? [y/N] ",
            settings.app
        );
        if !crate::confirm::ask(&question, &mut std::io::stdin().lock(), messages) {
            let _ = writeln!(messages, "{verb} cancelled: nothing was changed");
            return Ok(EXIT_USAGE);
        }
    }
    let wrote = serving::write(
        aws,
        &settings.app,
        change,
        &region,
        through,
        args.reason.as_deref(),
    )
    .await?;
    let reads = serving::read_back(aws, &settings.app, change, &region).await;
    let outcome = Outcome {
        schema_version: 1,
        app: settings.app.clone(),
        change,
        region: region.clone(),
        changed: matches!(wrote, Wrote::Changed(_)),
        written_in: matches!(wrote, Wrote::Changed(_)).then(|| through.to_string()),
        regions: reads,
    };
    report(settings, &outcome, out).map_err(|e| MraaError::Io(e.to_string()))?;
    Ok(EXIT_OK)
}

fn report(settings: &Settings, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    if settings.output == OutputFormat::Json {
        let text = serde_json::to_string(outcome).map_err(std::io::Error::other)?;
        return writeln!(out, "{text}");
    }
    let (app, region) = (&outcome.app, &outcome.region);
    let after = match outcome.change {
        Serving::Drain => "drained",
        Serving::Return => "serving",
    };
    match &outcome.written_in {
        Some(through) => writeln!(out, "app {app}: {region} is {after} (written in {through})")?,
        None => writeln!(
            out,
            "app {app}: {region} is already {after}: nothing to change"
        )?,
    }
    for read in &outcome.regions {
        let drained = if read.drained.is_empty() {
            "none".to_string()
        } else {
            read.drained.join(", ")
        };
        match (&read.error, read.replicated_after_ms) {
            (Some(error), _) => writeln!(out, "  {:<15} {error}", read.region)?,
            (None, Some(ms)) => writeln!(
                out,
                "  {:<15} reads drained: {drained} (within {:.1} s)",
                read.region,
                ms as f64 / 1000.0
            )?,
            (None, None) => writeln!(out, "  {:<15} reads drained: {drained}", read.region)?,
        }
    }
    Ok(())
}
