//! `mraa failover`, `mraa fence`, `mraa activate`: a conditional write of the
//! state item, then a read-back in every region that answers (the switch
//! itself is [`crate::switch`], which `drill` shares).
//!
//! `failover` writes through the secondary, so it works while the primary is
//! down; `fence` and `activate` write through the primary and fall back to
//! the secondary (a global table replicates either way). They call nothing
//! but DynamoDB and STS, and failover Cognito in the secondary (its user
//! pool replica must be ACTIVE): with a custom domain, Route 53's health
//! checks read the state and move DNS themselves.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use crate::app_state::AppState;
use crate::config::OutputFormat;
use crate::config::Settings;
use crate::error::{EXIT_OK, EXIT_USAGE, MraaError, Result};
use crate::switch::{self, Located, RegionRead, Written, guard, warn};

#[derive(Debug, Clone, Default, Args)]
pub struct StateArgs {
    /// Why the state changes; recorded with the change
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct Outcome {
    schema_version: u32,
    app: String,
    before: Option<String>,
    after: String,
    changed: bool,
    written_in: Option<String>,
    regions: Vec<RegionRead>,
    /// On failover: the secondary's user pool replica, ready to sign users in.
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<String>,
}

pub async fn run(
    settings: &Settings,
    target: AppState,
    args: &StateArgs,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    // Without a terminal, a state change must be deliberate: refused
    // before any AWS call unless it has a reason or --yes.
    if let Some(refusal) = guard::refuse_without_reason(
        target,
        settings.yes,
        args.reason.as_deref(),
        crate::confirm::terminal(),
    ) {
        let _ = writeln!(messages, "{refusal}");
        return Ok(EXIT_USAGE);
    }
    let located = switch::locate(settings, target, messages).await?;
    // Failover is active-passive's: in active-active both Regions serve, and
    // the primary is taken out by draining it (read through the secondary,
    // which failover writes through).
    if target == AppState::Failover {
        let aws = &located.aws;
        let mode =
            switch::serving::recorded_mode(aws, &settings.app, &aws.secondary.region).await?;
        if mode == crate::plan::Mode::ActiveActive {
            let _ = writeln!(
                messages,
                "error: `mraa failover` is for active-passive deployments, and this one is \
                 active-active: both Regions serve; run `mraa drain {}` to take the primary out; \
                 nothing was changed",
                aws.primary.region
            );
            return Ok(EXIT_USAGE);
        }
    }
    let Some(Written {
        before,
        written_in: written,
    }) = switch::write_through(
        settings,
        &located,
        target,
        args.reason.as_deref(),
        false,
        messages,
    )
    .await?
    else {
        return Ok(EXIT_USAGE);
    };
    let Located {
        aws, primary_down, ..
    } = located;

    let down = primary_down.then(|| aws.primary.region.clone());
    let (regions, users) = futures::future::join(
        switch::read_back(&aws, &settings.app, down.as_deref(), target),
        async {
            match target {
                AppState::Failover => super::users::ready_for_failover(&aws, &settings.app).await,
                _ => None,
            }
        },
    )
    .await;
    let users = users.map(|found| match found {
        Ok(done) => done,
        Err(problem) => {
            warn(
                settings,
                messages,
                &format!("{problem}: users cannot sign in to {} until it is ACTIVE; run `mraa deploy` there when you can", aws.secondary.region),
            );
            problem
        }
    });
    let outcome = Outcome {
        schema_version: 1,
        app: settings.app.clone(),
        changed: written.is_some(),
        before,
        after: target.as_str().to_string(),
        written_in: written,
        regions,
        users,
    };
    report(settings, &outcome, out).map_err(|e| MraaError::Io(e.to_string()))?;
    Ok(EXIT_OK)
}

fn report(settings: &Settings, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    if settings.output == OutputFormat::Json {
        let text = serde_json::to_string(outcome).map_err(std::io::Error::other)?;
        return writeln!(out, "{text}");
    }
    let before = outcome.before.as_deref().unwrap_or("none");
    match &outcome.written_in {
        Some(region) => writeln!(
            out,
            "state of app {}: {before} → {} (written in {region})",
            outcome.app, outcome.after
        )?,
        None => writeln!(
            out,
            "state of app {} is already {}: nothing to change",
            outcome.app, outcome.after
        )?,
    }
    for read in &outcome.regions {
        match (&read.state, &read.error) {
            (Some(state), Some(error)) => {
                writeln!(out, "  {:<15} reads {state}: {error}", read.region)?
            }
            (Some(state), None) => match read.replicated_after_ms {
                // The region written in reads it at once; another region's
                // read shows the replication lag.
                Some(ms) if outcome.written_in.as_deref() != Some(read.region.as_str()) => {
                    writeln!(
                        out,
                        "  {:<15} reads {state} (replicated within {:.1} s)",
                        read.region,
                        ms as f64 / 1000.0
                    )?
                }
                _ => writeln!(out, "  {:<15} reads {state}", read.region)?,
            },
            (None, Some(error)) => {
                writeln!(out, "  {:<15} could not be read: {error}", read.region)?
            }
            (None, None) => writeln!(out, "  {:<15} has no state", read.region)?,
        }
    }
    if let Some(users) = &outcome.users {
        writeln!(out, "  users: {users}")?;
    }
    Ok(())
}
