//! `mraa diff`, in order: the regions from the deployment's record, the
//! refusals deploy would make (a move to other regions, kept data in the
//! way: same message, same exit code), the plan a deploy with these inputs
//! would make (the custom domain it would keep, the API logging role it
//! would hold), the changes (`plan::changes`, as deploy computes them),
//! drift, then the view.

use std::io::{IsTerminal, Write};

use crate::aws::Aws;
use crate::cfn::stack::{describe, parameter_map};
use crate::config::{OutputFormat, Settings};
use crate::error::{MraaError, Result};
use crate::names::stack_name;
use crate::plan::api_logging::{bootstrap_holds_role, creates_role, role_arn};
use crate::plan::{Plan, Unit};
use crate::render::render_all;

use crate::plan::changes::report::DiffReport;
use crate::plan::changes::units::fail;
use crate::plan::changes::{self, regions, view};

use super::DiffArgs;
use super::drift;

pub async fn run(settings: &Settings, args: &DiffArgs, out: &mut dyn Write) -> Result<u8> {
    let settings = settings.clone().with_domain_args(&args.custom_domain)?;
    let app = settings.app.clone();
    // The regions come from the deployment's record, as for status; a
    // secondary given is checked against it, as deploy checks it.
    let probe = Aws::new(
        &settings,
        settings.secondary.as_deref().unwrap_or(&settings.primary),
    )
    .await;
    let caller = probe.caller().await?;
    let primary = probe.primary.region.clone();
    let bootstrap_name = stack_name(&app, Unit::Bootstrap.id());
    let bootstrap = describe(&probe.primary.cfn, &bootstrap_name)
        .await
        .map_err(|e| fail(Unit::Bootstrap.id(), &primary, &bootstrap_name, e))?;
    let recorded = bootstrap.as_ref().and_then(regions::from_bootstrap);
    let secondary = match (&settings.secondary, &recorded) {
        (Some(given), _) => given.clone(),
        (None, Some(recorded)) => recorded.secondary.clone(),
        (None, None) => settings.require_secondary()?.to_string(),
    };
    let aws = if probe.secondary.region == secondary {
        probe
    } else {
        Aws::new(&settings, &secondary).await
    };
    // A move is refused exactly as deploy refuses it.
    regions::refuse_if_moved(&aws, &app, (&primary, &secondary), bootstrap.as_ref()).await?;
    let edge_name = stack_name(&app, Unit::Edge.id());
    let edge = describe(&aws.primary.cfn, &edge_name)
        .await
        .map_err(|e| fail(Unit::Edge.id(), &primary, &edge_name, e))?;
    let mut plan = Plan::new(&app, &settings.primary, &secondary)
        .with_allowed_origin(&settings.allowed_origin);
    let users = crate::discover::user_replication(&settings, &secondary, bootstrap.as_ref())?;
    plan = plan
        .with_user_replication(users)
        .with_mode(crate::plan::mode::chosen(
            args.mode.or(settings.mode),
            bootstrap.as_ref(),
        ));
    let kept =
        changes::refusals::refuse_if_kept_data_in_the_way(&aws, &plan, &caller.account).await?;

    // A deployment keeps its custom domain when --domain is not given, as
    // deploy does; `--no-domain` shows its removal.
    let (mut domain, mut zone) = (settings.domain.clone(), settings.hosted_zone_id.clone());
    if domain.is_none()
        && !settings.no_domain
        && let Some((kept, kept_zone, _)) =
            crate::discover::deployed_domain(&aws, &app, edge.as_ref()).await?
    {
        domain = Some(kept);
        zone = Some(kept_zone);
    }
    if let Some(domain) = &domain {
        let zone = match zone {
            Some(zone) => zone,
            None => {
                crate::wire::route53::find_zone(&aws.route53(), domain, None)
                    .await?
                    .0
            }
        };
        plan = plan.with_domain(domain, &zone);
    }
    let logging = crate::discover::api_logging_settings(&aws).await?;
    let holds = bootstrap
        .as_ref()
        .is_some_and(|s| bootstrap_holds_role(&parameter_map(s.parameters())));
    plan = plan.with_api_logging(creates_role(
        holds,
        &logging,
        &role_arn(&caller.arn, &caller.account, &app),
    ));
    let rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;

    let run_id = crate::context::run_id("mraa-diff");
    let changes = changes::compute(&aws, &plan, &rendered, &caller.account, &run_id).await?;
    let drift = match args.drift {
        true => Some(drift::detect(&aws, &plan, &changes.deployed).await?),
        false => None,
    };
    let report = DiffReport::new(
        (&app, &primary, &secondary),
        changes.units,
        changes.wiring,
        drift,
    )
    .with_imports(&kept);
    let text = match settings.output {
        OutputFormat::Json => format!("{}\n", view::json(&report)),
        OutputFormat::Markdown => view::markdown(&report),
        OutputFormat::Text => {
            view::text(&report, settings.color && std::io::stdout().is_terminal())
        }
    };
    out.write_all(text.as_bytes())
        .map_err(|e| MraaError::Io(e.to_string()))?;
    Ok(report.exit_code)
}
