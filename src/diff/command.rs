//! `mraa diff`, in order: the plan a deploy with these inputs would make
//! (the custom domain it would keep, the API logging role it would hold),
//! each unit against what is deployed, the wiring, drift, then the view.

use std::io::{IsTerminal, Write};

use crate::aws::Aws;
use crate::cfn::stack::{describe, parameter_map};
use crate::config::{OutputFormat, Settings};
use crate::error::{MraaError, Result};
use crate::names::stack_name;
use crate::plan::api_logging::{bootstrap_holds_role, creates_role, role_arn};
use crate::plan::{Plan, Unit};
use crate::render::render_all;

use super::DiffArgs;
use super::report::DiffReport;
use super::units::fail;
use super::{drift, units, view, wiring};

pub async fn run(settings: &Settings, args: &DiffArgs, out: &mut dyn Write) -> Result<u8> {
    let settings = settings.clone().with_domain(
        args.custom_domain.domain.clone(),
        args.custom_domain.hosted_zone_id.clone(),
    )?;
    let secondary = settings.require_secondary()?.to_string();
    let app = settings.app.clone();
    let mut plan = Plan::new(&app, &settings.primary, &secondary)
        .with_allowed_origin(&settings.allowed_origin);
    if let Some(mode) = settings.user_replication {
        plan = plan.with_user_replication(mode);
    }
    let aws = Aws::new(&settings, &secondary).await;
    let caller = aws.caller().await?;
    let primary = aws.primary.region.clone();
    let read = |unit: Unit| {
        let cfn = aws.primary.cfn.clone();
        let name = stack_name(&app, unit.id());
        let region = primary.clone();
        async move {
            describe(&cfn, &name)
                .await
                .map_err(|e| fail(unit.id(), &region, &name, e))
        }
    };
    let (bootstrap, edge) =
        futures::future::try_join(read(Unit::Bootstrap), read(Unit::Edge)).await?;
    let users = crate::discover::user_replication(&settings, &secondary, bootstrap.as_ref())?;
    plan = plan.with_user_replication(users);

    // A deployment keeps its custom domain when --domain is not given, as
    // deploy does.
    let (mut domain, mut zone) = (settings.domain.clone(), settings.hosted_zone_id.clone());
    if domain.is_none()
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
    let (unit_diffs, deployed, outputs) =
        units::compare(&aws, &plan, &rendered, &run_id, &app).await?;
    let wiring = wiring::compare(&aws, &plan, &caller.account, &outputs).await?;
    let drift = match args.drift {
        true => Some(drift::detect(&aws, &plan, &deployed).await?),
        false => None,
    };
    let report = DiffReport::new((&app, &primary, &secondary), unit_diffs, wiring, drift);
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
