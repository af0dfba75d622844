//! `mraa deploy`, in order: settings and plan checked offline, preflight
//! (read what decides the plan, refuse what would fail half-way), the
//! graph of units and wiring steps, the steps after it (admin user, custom
//! domain), then the summary.

use std::io::Write;
use std::sync::Arc;

use crate::aws::Aws;
use crate::config::OutputFormat;
use crate::config::Settings;
use crate::error::{EXIT_OK, EXIT_USAGE, InputError, MraaError, Result};
use crate::plan::{Plan, Unit};
use crate::render::render_all;
use crate::ui::progress::Reporter;
use crate::wire::{self};

use super::DeployArgs;
use super::post_checks::run_after_graph;
use super::preflight::{read_stack, refuse_if_busy, refuse_if_kept_data_in_the_way};
use super::schedule::schedule;
use super::summary::{Deployed, Summary};
use crate::cfn;
use crate::context::{Ctx, Prefetched};

pub async fn run(
    settings: &Settings,
    args: &DeployArgs,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    // Everything that can be checked offline is, before any AWS call.
    let settings = &settings
        .clone()
        .with_admin(crate::config::Admin {
            name: args.admin.admin_name.clone(),
            email: args.admin.admin_email.clone(),
            phone: args.admin.admin_phone.clone(),
        })?
        .with_domain_args(&args.custom_domain)?
        .with_mode(args.mode);
    let secondary = settings.require_secondary()?.to_string();
    let notify = crate::plan::notify::Notify::parse(&args.notify, &settings.primary, &secondary)?;
    let mut plan = Plan::new(&settings.app, &settings.primary, &secondary)
        .with_allowed_origin(&settings.allowed_origin);
    if let Some(mode) = settings.user_replication {
        plan = plan.with_user_replication(mode);
    }
    if let Some(notify) = &notify {
        plan = plan.with_notify(notify);
    }
    // The zone id is known once Route 53 is asked; templates do not depend
    // on it, so everything renders now.
    if let Some(domain) = &settings.domain {
        plan = plan.with_domain(
            domain,
            settings.hosted_zone_id.as_deref().unwrap_or_default(),
        );
    }
    let rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
    if let Some(path) = &args.outputs_file
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(InputError::OutputUnwritable {
            path: path.clone(),
            reason: "its directory does not exist".into(),
        }
        .into());
    }

    let reporter = Arc::new(Reporter::new(settings, Box::new(std::io::stdout())));
    let aws = Aws::new(settings, &secondary).await;
    // The reads that plan the run are independent, and so is the probe of
    // opt-in regions: all asked together. The stacks that decide the plan
    // are reused by their deploy steps.
    let primary = aws.primary.region.clone();
    let name_of = |unit: Unit| (unit, crate::names::stack_name(&settings.app, unit.id()));
    let (disabled, caller, api_logging, bootstrap_stack, edge_stack) = futures::future::join5(
        super::preflight::refuse_if_region_disabled(&aws, &[settings.primary.as_str(), &secondary]),
        aws.caller(),
        super::api_account::settings(&aws),
        read_stack(&aws, &primary, name_of(Unit::Bootstrap)),
        read_stack(&aws, &primary, name_of(Unit::Edge)),
    )
    .await;
    // Errors in the order they would come one by one: a disabled primary
    // rejects the caller check as bad credentials, so it is said first, then
    // credentials.
    disabled?;
    let (caller, api_logging) = (caller?, api_logging?);
    let (bootstrap_stack, edge_stack) = (bootstrap_stack?, edge_stack?);
    let existing = bootstrap_stack.is_some();
    // Without a bootstrap stack the run creates one, so it changes the app
    // once every refusal has passed: the lock is then taken at the end of the
    // preflight rather than at the first stack (an existing deployment takes
    // it at its first change, after approval, so that a run with nothing to
    // change makes no mutating call).
    let lock = crate::lock::LockSlot::default();
    let claim_early = async {
        if existing {
            return Ok(());
        }
        lock.claim(crate::lock::Claim {
            cfn: &aws.primary.cfn,
            region: &primary,
            app: &settings.app,
            operation: "deploy",
            caller_arn: &caller.arn,
        })
        .await
    };
    let busy_checked = plan.units.clone();
    let (moved, busy, kept) = futures::future::join3(
        // A deployment stays in its regions: a move is refused before any change.
        crate::plan::changes::regions::refuse_if_moved(
            &aws,
            &settings.app,
            (&settings.primary, &secondary),
            bootstrap_stack.as_ref(),
        ),
        refuse_if_busy(&aws, &settings.app, &busy_checked),
        refuse_if_kept_data_in_the_way(&aws, &plan, &caller.account),
    )
    .await;
    let rest = async {
        let mut plan = plan;
        let mut rendered = rendered;
        let users =
            crate::discover::user_replication(settings, &secondary, bootstrap_stack.as_ref())?;
        if users != plan.user_replication {
            plan = plan.with_user_replication(users);
            rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
        }
        let mode = crate::plan::mode::chosen(settings.mode, bootstrap_stack.as_ref());
        if mode != plan.mode {
            plan = plan.with_mode(mode);
        }
        reporter.note(&format!(
            "deploying app {} to {} (primary) and {} as {} (account {})",
            settings.app, settings.primary, secondary, caller.arn, caller.account
        ));
        // A custom domain whose zone is missing or whose names someone else
        // holds is refused before the first change of the run.
        let mut hosted_zone_id = settings.hosted_zone_id.clone();
        let mut domain = settings.domain.clone();
        let prefetched = Prefetched::new(api_logging);
        // A deployment that serves a custom domain keeps it when --domain is not
        // given: dropping it would take the name off the distribution while the
        // records still point there. `--no-domain` removes it: the edge drops
        // the alias in the graph, and the records and checks go after it.
        let mut removed = None;
        if domain.is_none()
            && let Some((kept, zone, certificate)) =
                crate::discover::deployed_domain(&aws, &settings.app, edge_stack.as_ref()).await?
        {
            if settings.no_domain {
                reporter.note(&format!(
                    "removing the custom domain {kept} (--no-domain): the distribution drops \
                     its alias, then its records and health checks are deleted; the data stays"
                ));
                removed = Some((zone, kept));
            } else {
                prefetched.put_stack(
                    crate::plan::CERTIFICATE_REGION,
                    &crate::names::stack_name(&settings.app, Unit::SiteCertificate.id()),
                    Some(certificate),
                );
                reporter.note(&format!(
                "keeping the custom domain {kept} (deployed earlier; `--domain` changes it, `mraa teardown` removes it)"
            ));
                plan = plan.with_domain(&kept, &zone);
                rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
                domain = Some(kept);
                hosted_zone_id = Some(zone);
            }
        }
        // Units the kept domain adds were not among those checked above.
        let unchecked: Vec<_> = plan
            .units
            .iter()
            .filter(|u| !busy_checked.iter().any(|c| c.unit == u.unit))
            .cloned()
            .collect();
        refuse_if_busy(&aws, &settings.app, &unchecked).await?;
        if let Some(domain) = &domain {
            let request = wire::route53::DomainRequest {
                domain: domain.clone(),
                hosted_zone_id: hosted_zone_id.clone(),
                distribution_domain: None,
            };
            let zone = super::dns::preflight(&aws, &settings.app, &request).await?;
            plan = plan.with_domain(domain, &zone);
            hosted_zone_id = Some(zone);
        }
        // API Gateway's logging role: made by the bootstrap stack only where an
        // account setting names none (see `api_account`).
        let bootstrap_makes_role = bootstrap_stack.as_ref().is_some_and(|s| {
            crate::deploy::api_account::bootstrap_holds_role(&cfn::stack::parameter_map(
                s.parameters(),
            ))
        });
        plan = plan.with_api_logging(crate::deploy::api_account::creates_role(
            bootstrap_makes_role,
            &prefetched.api_logging,
            &crate::deploy::api_account::role_arn(&caller.arn, &caller.account, &settings.app),
        ));
        Ok::<_, MraaError>((plan, rendered, domain, hosted_zone_id, prefetched, removed))
    };
    let prepared = async {
        // In this order: a move first, a busy app next, then kept data; all
        // before the lock, the run's first mutating call.
        moved?;
        busy?;
        let kept = kept?;
        // The rest of the preflight can still refuse (a custom domain's zone
        // that is missing or not its own): the lock comes after it, so that a
        // refused deploy has made no change at all.
        let rest = rest.await?;
        claim_early.await?;
        Ok((rest, kept))
    }
    .await;
    let ((plan, rendered, domain, hosted_zone_id, mut prefetched, removed), kept) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            lock.release().await;
            return Err(err);
        }
    };
    super::adopt::announce(&reporter, &kept);
    prefetched.kept = kept;
    for (unit, stack) in [(Unit::Bootstrap, bootstrap_stack), (Unit::Edge, edge_stack)] {
        prefetched.put_stack(
            &primary,
            &crate::names::stack_name(&settings.app, unit.id()),
            stack,
        );
    }
    let ctx = Arc::new(Ctx {
        aws,
        account: caller.account,
        caller_arn: caller.arn,
        app: settings.app.clone(),
        plan,
        run_id: crate::context::run_id("mraa"),
        reporter: reporter.clone(),
        lock,
        prefetched,
    });
    if existing && let Some(code) = approve(settings, &ctx, &rendered, messages).await? {
        return Ok(code);
    }

    let (mut results, outputs, site_domain, mut failure) = schedule(&ctx, &rendered).await;
    if failure.is_none() {
        let request = domain.as_ref().map(|domain| wire::route53::DomainRequest {
            domain: domain.clone(),
            hosted_zone_id: hosted_zone_id.clone(),
            distribution_domain: site_domain.clone(),
        });
        failure = run_after_graph(&ctx, settings, &outputs, request, &mut results).await;
    }
    if failure.is_none()
        && let Some(place) = &removed
    {
        failure = match super::dns::remove(&ctx, place).await {
            Ok(()) => super::dns::remove_units(&ctx).await.err(),
            Err(err) => Some(err),
        };
    }
    if failure.is_none() {
        match super::adopt::verify(&ctx).await {
            Ok(Some(result)) => {
                super::schedule::report_result(&ctx, &result);
                results.push(result);
            }
            Ok(None) => {}
            Err(err) => failure = Some(err),
        }
    }
    // Whatever happened, the lock goes once nothing of this run is running.
    ctx.lock.release().await;
    // No row left moving under the summary and the error below it.
    reporter.stop_open_rows("stopped");
    let summary = Summary::new(
        &Deployed::of(&ctx),
        results,
        &outputs,
        site_domain,
        failure.as_ref(),
    );
    if let Some(path) = &args.outputs_file {
        let text = serde_json::to_string_pretty(&summary.endpoints)
            .map_err(|e| MraaError::Io(e.to_string()))?;
        std::fs::write(path, format!("{text}\n")).map_err(|e| {
            MraaError::from(InputError::OutputUnwritable {
                path: path.clone(),
                reason: e.to_string(),
            })
        })?;
    }
    if !reporter.json_summary(&summary) && settings.output != OutputFormat::Json {
        summary
            .write_text(out)
            .map_err(|e| MraaError::Io(e.to_string()))?;
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(EXIT_OK),
    }
    .or_else(|err| {
        if settings.output == OutputFormat::Json {
            crate::ui::report_error(&err, "deploy", messages);
            Ok(err.exit_code())
        } else {
            Err(err)
        }
    })
}

/// The plan of an existing deployment, shown, then approved (see
/// [`super::approval`]). `Some(code)`: not applied; nothing was changed.
async fn approve(
    settings: &Settings,
    ctx: &Ctx,
    rendered: &[crate::render::Rendered],
    messages: &mut dyn Write,
) -> Result<Option<u8>> {
    use super::approval::{Decision, decide, not_applied, question};
    use crate::plan::changes::{self, report::DiffReport, view};
    let found = changes::compute(&ctx.aws, &ctx.plan, rendered, &ctx.account, &ctx.run_id).await?;
    let plan = &ctx.plan;
    let report = DiffReport::new(
        (&plan.app, &plan.primary, &plan.secondary),
        found.units,
        found.wiring,
        None,
    )
    .with_imports(&ctx.prefetched.kept);
    let terminal = crate::confirm::terminal();
    let decision = decide(&report, settings.yes, terminal);
    let quiet = settings.verbosity == crate::config::Verbosity::Quiet;
    // The plan goes to the messages (stderr): stdout keeps the results.
    if report.changes && (decision != Decision::Proceed || !quiet) {
        let _ = write!(
            messages,
            "{}",
            view::text(&report, settings.color && terminal)
        );
    }
    let approved = match decision {
        Decision::Proceed => true,
        Decision::Ask => {
            crate::confirm::ask(&question(&report), &mut std::io::stdin().lock(), messages)
        }
        Decision::Refuse => false,
    };
    if approved {
        return Ok(None);
    }
    let _ = writeln!(messages, "{}", not_applied(&report, decision));
    Ok(Some(EXIT_USAGE))
}
