//! `mraa deploy`: the command itself — preflight, scheduling, summary.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;

use crate::aws::{Aws, aws_error, sdk_message};
use crate::config::OutputFormat;
use crate::config::Settings;
use crate::error::{EXIT_FAILED, EXIT_OK, InputError, MraaError, Result};
use crate::plan::{Kind, Plan, Unit, WiringStep};
use crate::render::{Rendered, render_all};
use crate::ui::progress::{Reporter, Status};
use crate::wire::{self, Verdict};

use super::DeployArgs;
use super::resolve_parameters;
use super::stack::{self, StackSpec};
use super::stack_set::{self, StackSetSpec};
use crate::cfn;
use crate::cfn::status::is_in_progress;
use crate::context::{Change, Ctx, Outputs, Prefetched};

/// A node of the deploy graph: a unit, or a wiring step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Unit(Unit),
    Wire(WiringStep),
}

impl Node {
    fn name(self) -> String {
        match self {
            Node::Unit(u) => u.id().to_string(),
            Node::Wire(w) => w.id().to_string(),
        }
    }

    fn needs(self) -> Vec<Node> {
        match self {
            Node::Unit(u) => u.depends_on().iter().map(|&d| Node::Unit(d)).collect(),
            Node::Wire(w) => {
                let mut needs: Vec<Node> = w.after().iter().map(|&d| Node::Unit(d)).collect();
                // The state item is written once its table is global, so the
                // secondary's copy exists from the start where AWS shows it.
                if w == WiringStep::AppState {
                    needs.push(Node::Wire(WiringStep::DynamodbReplicas));
                }
                needs
            }
        }
    }
}

/// What one node did.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub step: String,
    pub change: Change,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub region: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

struct NodeDone {
    result: StepResult,
    outputs: Option<BTreeMap<String, BTreeMap<String, String>>>,
    site_domain: Option<String>,
}

pub async fn run(settings: &Settings, args: &DeployArgs, out: &mut dyn Write) -> Result<u8> {
    // Everything that can be checked offline is, before any AWS call.
    let settings = &settings
        .clone()
        .with_admin(crate::config::Admin {
            name: args.admin.admin_name.clone(),
            email: args.admin.admin_email.clone(),
            phone: args.admin.admin_phone.clone(),
        })?
        .with_domain(args.domain.clone(), args.hosted_zone_id.clone())?;
    let secondary = settings.require_secondary()?.to_string();
    let mut plan = Plan::new(&settings.app, &settings.primary, &secondary)
        .with_allowed_origin(&settings.allowed_origin);
    // The zone id is known once Route 53 is asked; templates do not depend
    // on it, so everything renders now.
    if let Some(domain) = &settings.domain {
        plan = plan.with_domain(
            domain,
            settings.hosted_zone_id.as_deref().unwrap_or_default(),
        );
    }
    let mut rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
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
    let caller = aws.caller().await?;
    reporter.note(&format!(
        "deploying app {} to {} (primary) and {} as {} (account {})",
        settings.app, settings.primary, secondary, caller.arn, caller.account
    ));
    // A custom domain whose zone is missing or whose names someone else
    // holds is refused before the first change of the run.
    let mut hosted_zone_id = settings.hosted_zone_id.clone();
    let mut domain = settings.domain.clone();
    let prefetched = Prefetched::new(super::api_account::settings(&aws).await?);
    // The stacks that decide this run's plan; their deploy steps reuse them.
    let primary = aws.primary.region.clone();
    let name_of = |unit: Unit| (unit, crate::names::stack_name(&settings.app, unit.id()));
    let (bootstrap_stack, edge_stack) = futures::future::try_join(
        read_stack(&aws, &primary, name_of(Unit::Bootstrap)),
        read_stack(&aws, &primary, name_of(Unit::Edge)),
    )
    .await?;
    // A deployment that serves a custom domain keeps it when --domain is not
    // given: dropping it would take the name off the distribution while the
    // records still point there. Only `mraa teardown` removes it.
    if domain.is_none()
        && let Some((kept, zone, certificate)) =
            crate::discover::deployed_domain(&aws, &settings.app, edge_stack.as_ref()).await?
    {
        prefetched.put_stack(
            crate::plan::CERTIFICATE_REGION,
            &crate::names::stack_name(&settings.app, Unit::SiteCertificate.id()),
            Some(certificate),
        );
        reporter.note(&format!(
            "keeping the custom domain {kept} (deployed earlier; `mraa teardown` removes it)"
        ));
        plan = plan.with_domain(&kept, &zone);
        rendered = render_all(&plan).map_err(|e| MraaError::Io(e.to_string()))?;
        domain = Some(kept);
        hosted_zone_id = Some(zone);
    }
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
        crate::deploy::api_account::bootstrap_holds_role(&cfn::stack::parameter_map(s.parameters()))
    });
    plan = plan.with_api_logging(crate::deploy::api_account::creates_role(
        bootstrap_makes_role,
        &prefetched.api_logging,
        &crate::deploy::api_account::role_arn(&caller.arn, &caller.account, &settings.app),
    ));
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
        lock: Default::default(),
        prefetched,
    });
    refuse_if_busy(&ctx).await?;
    refuse_if_kept_data_in_the_way(&ctx).await?;

    let (mut results, outputs, site_domain, mut failure) = schedule(&ctx, &rendered).await;
    if failure.is_none() && settings.admin.email.is_some() {
        match wire::admin::wire(&ctx, &outputs, &settings.admin).await {
            Ok(outcome) => results.push(finish_step(&ctx, wire::admin::STEP, outcome)),
            Err(err) => failure = Some(err),
        }
    }
    // The custom domain only when asked for: without it, not one Route 53
    // call is made.
    if failure.is_none()
        && let Some(domain) = &domain
    {
        let request = wire::route53::DomainRequest {
            domain: domain.clone(),
            hosted_zone_id: hosted_zone_id.clone(),
            distribution_domain: site_domain.clone(),
        };
        match super::dns::wire(&ctx, &outputs, &request).await {
            Ok(outcome) => results.push(finish_step(&ctx, wire::route53::STEP, outcome)),
            Err(err) => failure = Some(err),
        }
    }
    // Whatever happened, the lock goes once nothing of this run is running.
    ctx.lock.release().await;
    let summary = Summary::new(&ctx, results, &outputs, site_domain, failure.as_ref());
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
    if !reporter.json_summary(&summary) && settings.output == OutputFormat::Text {
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
            crate::ui::report_error(&err, &mut std::io::stderr());
            Ok(EXIT_FAILED)
        } else {
            Err(err)
        }
    })
}

/// Runs every node as soon as what it needs is done; independent nodes run
/// concurrently. After a failure nothing new starts, running nodes finish.
async fn schedule(
    ctx: &Arc<Ctx>,
    rendered: &[Rendered],
) -> (Vec<StepResult>, Outputs, Option<String>, Option<MraaError>) {
    let mut pending: Vec<Node> = ctx
        .plan
        .units
        .iter()
        .map(|u| Node::Unit(u.unit))
        .chain(WiringStep::ALL.iter().map(|&w| Node::Wire(w)))
        .collect();
    let mut done: HashSet<Node> = HashSet::new();
    let mut outputs = Outputs::default();
    let mut results = Vec::new();
    let mut site_domain = None;
    let mut failure = None;
    let mut running: JoinSet<(Node, Result<NodeDone>)> = JoinSet::new();

    loop {
        if failure.is_none() {
            let ready: Vec<Node> = pending
                .iter()
                .copied()
                .filter(|n| {
                    n.needs().iter().all(|d| match d {
                        // A unit this deployment does not have needs no wait.
                        Node::Unit(u) => done.contains(d) || !ctx.plan.includes(*u),
                        Node::Wire(_) => done.contains(d),
                    })
                })
                .collect();
            for node in ready {
                pending.retain(|n| *n != node);
                let ctx = ctx.clone();
                let snapshot = outputs.clone();
                let body = match node {
                    Node::Unit(u) => rendered
                        .iter()
                        .find(|r| r.file == u.template_file())
                        .map(|r| r.body.clone()),
                    Node::Wire(_) => None,
                };
                running.spawn(async move {
                    let result = run_node(&ctx, node, body, &snapshot).await;
                    (node, result)
                });
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((node, Ok(finished))) => {
                report_result(ctx, &finished.result);
                if let (Node::Unit(unit), Some(unit_outputs)) = (node, finished.outputs) {
                    outputs.insert(unit, unit_outputs);
                }
                if finished.site_domain.is_some() {
                    site_domain = finished.site_domain;
                }
                results.push(finished.result);
                done.insert(node);
            }
            Ok((node, Err(err))) => {
                ctx.reporter
                    .event(&node.name(), None, Status::Failed, Some(err.to_string()));
                failure.get_or_insert(err);
            }
            Err(join_error) => {
                failure.get_or_insert(MraaError::Io(format!("a deploy task failed: {join_error}")));
            }
        }
    }
    (results, outputs, site_domain, failure)
}

async fn run_node(
    ctx: &Ctx,
    node: Node,
    body: Option<String>,
    outputs: &Outputs,
) -> Result<NodeDone> {
    let name = node.name();
    let mut done = NodeDone {
        result: StepResult {
            step: name.clone(),
            change: Change::Unchanged,
            checks: Vec::new(),
        },
        outputs: None,
        site_domain: None,
    };
    let outcome = match node {
        Node::Unit(unit) => {
            let planned = ctx
                .plan
                .unit(unit)
                .ok_or_else(|| MraaError::Io(format!("{unit} is not planned")))?;
            let body = body.ok_or_else(|| MraaError::Io(format!("{unit} was not rendered")))?;
            let parameters = resolve_parameters(&ctx.plan, planned, outputs);
            let outcome = match planned.kind {
                Kind::Stack => {
                    let spec = StackSpec {
                        unit: &name,
                        name: &planned.name,
                        body: &body,
                        parameters: &parameters,
                    };
                    let region = planned.regions.first().unwrap_or(&ctx.plan.primary);
                    stack::deploy(ctx, &ctx.aws.cfn_in(region), &spec).await?
                }
                Kind::StackSet => {
                    let spec = StackSetSpec {
                        unit: &name,
                        name: &planned.name,
                        body: &body,
                        parameters: &parameters,
                        regions: &planned.regions,
                    };
                    let outcome = stack_set::deploy(ctx, &spec).await?;
                    if outcome.change == Change::Updated {
                        crate::deploy::api_stage::redeploy(ctx, unit, &outcome).await?;
                    }
                    outcome
                }
            };
            let mut outcome = outcome;
            let mut notes = Vec::new();
            if unit == Unit::SiteCertificate {
                notes = certificate_from_resources(ctx, planned, &mut outcome).await?;
            }
            done.result.change = outcome.change;
            for region in outcome.outputs.keys() {
                done.result.checks.push(Check {
                    region: region.clone(),
                    verdict: Verdict::Ok,
                });
            }
            done.result.checks.extend(notes);
            let mut merged = outputs.clone();
            merged.insert(unit, outcome.outputs.clone());
            done.outputs = Some(outcome.outputs);
            match unit {
                Unit::Bootstrap => {
                    done.result.checks = crate::deploy::api_account::ensure(ctx).await?;
                }
                Unit::Edge => {
                    let (domain, verdict) =
                        wire::cloudfront::verify_distribution(ctx, &merged).await?;
                    done.site_domain = domain;
                    done.result.checks = vec![Check {
                        region: ctx.aws.primary.region.clone(),
                        verdict,
                    }];
                }
                Unit::Frontend => {
                    for (region, verdict) in
                        wire::cloudfront::verify_website_policies(ctx, &merged).await?
                    {
                        if let Verdict::Unverified(reason) = verdict {
                            done.result.checks.push(Check {
                                region,
                                verdict: Verdict::Unverified(format!(
                                    "website bucket policy: {reason}"
                                )),
                            });
                        }
                    }
                }
                _ => {}
            }
            return Ok(done);
        }
        Node::Wire(WiringStep::S3Replication) => wire::s3::wire(ctx, outputs).await?,
        Node::Wire(WiringStep::DynamodbReplicas) => wire::dynamodb::wire(ctx).await?,
        Node::Wire(WiringStep::AppState) => crate::app_state::seed(ctx).await?,
        Node::Wire(WiringStep::SiteUpload) => wire::site::wire(ctx, outputs).await?,
    };
    done.result.change = outcome.change;
    done.result.checks = checks_of(outcome);
    Ok(done)
}

fn checks_of(outcome: wire::WireOutcome) -> Vec<Check> {
    outcome
        .checks
        .into_iter()
        .map(|(region, verdict)| Check { region, verdict })
        .collect()
}

/// The site certificate's ARN, which the edge needs. An endpoint that
/// reports no outputs for stacks made by change set (the emulator) still
/// lists the stack's resources: the certificate's physical id is its ARN.
/// Said as unverified, because the output itself was not seen.
async fn certificate_from_resources(
    ctx: &Ctx,
    planned: &crate::plan::PlannedUnit,
    outcome: &mut crate::context::UnitOutcome,
) -> Result<Vec<Check>> {
    let mut notes = Vec::new();
    for (region, outputs) in outcome.outputs.iter_mut() {
        if outputs.contains_key("CertificateArn") {
            continue;
        }
        let found = ctx
            .aws
            .cfn_in(region)
            .describe_stack_resource()
            .stack_name(&planned.name)
            .logical_resource_id("SiteCertificate")
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    planned.unit.id(),
                    region,
                    &planned.name,
                    format!(
                        "the stack has no CertificateArn output and its certificate cannot be read: {}",
                        sdk_message(&e)
                    ),
                )
            })?;
        let arn = found
            .stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .filter(|id| id.starts_with("arn:"))
            .ok_or_else(|| {
                aws_error(
                    planned.unit.id(),
                    region,
                    &planned.name,
                    "the stack has no CertificateArn output and no certificate resource",
                )
            })?;
        outputs.insert("CertificateArn".into(), arn.to_string());
        notes.push(Check {
            region: region.clone(),
            verdict: Verdict::Unverified(
                "the endpoint reports no stack outputs; the certificate ARN was read from the \
                 stack's resources"
                    .into(),
            ),
        });
    }
    Ok(notes)
}

/// One of the app's stacks in `region`, read before the run.
async fn read_stack(
    aws: &Aws,
    region: &str,
    (unit, name): (Unit, String),
) -> Result<Option<aws_sdk_cloudformation::types::Stack>> {
    cfn::stack::describe(&aws.cfn_in(region), &name)
        .await
        .map_err(|e| aws_error(unit.id(), region, &name, e))
}

/// A step run after the graph (admin user, DNS): its result, reported.
fn finish_step(ctx: &Ctx, step: &str, outcome: wire::WireOutcome) -> StepResult {
    let result = StepResult {
        step: step.into(),
        change: outcome.change,
        checks: checks_of(outcome),
    };
    report_result(ctx, &result);
    result
}

fn report_result(ctx: &Ctx, result: &StepResult) {
    let status = match result.change {
        Change::Created => Status::Created,
        Change::Updated => Status::Updated,
        Change::Unchanged => Status::Unchanged,
    };
    for check in &result.checks {
        match &check.verdict {
            Verdict::Ok => ctx.report(&result.step, &check.region, status, ""),
            Verdict::Unverified(reason) => {
                ctx.report(&result.step, &check.region, Status::Unverified, reason)
            }
        }
    }
    if result.checks.is_empty() {
        ctx.reporter.event(&result.step, None, status, None);
    }
}

/// Another operation on this app's stacks or StackSets: refuse to start.
async fn refuse_if_busy(ctx: &Ctx) -> Result<()> {
    let cfn = &ctx.aws.primary.cfn;
    let checks = ctx.plan.units.iter().map(|planned| async move {
        let region = &ctx.aws.primary.region;
        match planned.kind {
            Kind::Stack => {
                let stack = cfn::stack::describe(cfn, &planned.name)
                    .await
                    .map_err(|e| aws_error(planned.unit.id(), region, &planned.name, e))?;
                let status = stack.and_then(|s| s.stack_status().cloned());
                match status {
                    Some(s) if is_in_progress(s.as_str()) => Ok(Some(format!(
                        "stack {} is {} in {region}",
                        planned.name,
                        s.as_str()
                    ))),
                    _ => Ok::<_, MraaError>(None),
                }
            }
            Kind::StackSet => {
                let busy = cfn::stack_set::busy_operations(cfn, &planned.name)
                    .await
                    .map_err(|e| aws_error(planned.unit.id(), region, &planned.name, e))?;
                Ok(busy.first().map(|o| {
                    format!(
                        "StackSet {} has {}",
                        planned.name,
                        cfn::stack_set::describe_operation(o)
                    )
                }))
            }
        }
    });
    let busy: Vec<String> = futures::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect();
    if busy.is_empty() {
        Ok(())
    } else {
        Err(MraaError::Busy(format!(
            "another operation on app {} is in progress: {}",
            ctx.app,
            busy.join("; ")
        )))
    }
}

/// Data stores kept by an earlier `teardown` (without `--delete-data`) hold
/// the names the layers would create again; CloudFormation would fail on
/// them half-way. Said up front instead, with the choices.
async fn refuse_if_kept_data_in_the_way(ctx: &Ctx) -> Result<()> {
    let primary = &ctx.aws.primary;
    let mut kept = Vec::new();
    for (unit, tables) in [
        (Unit::KvStore, &["comments"][..]),
        (Unit::Routing, &["app-config"][..]),
        (Unit::Frontend, &["users"][..]),
    ] {
        let set = crate::names::stack_name(&ctx.app, unit.id());
        let exists = cfn::stack_set::describe(&primary.cfn, &set)
            .await
            .map_err(|e| aws_error(unit.id(), &primary.region, &set, e))?
            .is_some();
        if exists {
            continue;
        }
        for table in tables {
            let name = crate::names::table_name(&ctx.app, table);
            if primary
                .dynamodb
                .describe_table()
                .table_name(&name)
                .send()
                .await
                .is_ok()
            {
                kept.push(format!("table {name}"));
            }
        }
    }
    let object_set = crate::names::stack_name(&ctx.app, Unit::ObjectStore.id());
    let objects_deployed = cfn::stack_set::describe(&primary.cfn, &object_set)
        .await
        .map_err(|e| aws_error(Unit::ObjectStore.id(), &primary.region, &object_set, e))?
        .is_some();
    if !objects_deployed {
        for clients in ctx.aws.regions() {
            for kind in ["objects", "logs"] {
                let bucket =
                    crate::names::bucket_name(&ctx.app, kind, &ctx.account, &clients.region);
                if clients
                    .s3
                    .head_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .is_ok()
                {
                    kept.push(format!("bucket {bucket}"));
                }
            }
        }
    }
    if kept.is_empty() {
        return Ok(());
    }
    Err(MraaError::Refused(format!(
        "data kept by an earlier teardown of app {app} is in the way ({}): CloudFormation cannot create stores of the same names; \
         deploy under another --app, or, once the data is backed up, remove it with \
         `mraa teardown --delete-data --yes --app {app} --primary {} --secondary {}`; nothing was changed",
        kept.join(", "),
        ctx.aws.primary.region,
        ctx.aws.secondary.region,
        app = ctx.app,
    )))
}

/// The final account of a deploy: printed for people, or one JSON object.
#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    kind: &'static str,
    schema_version: u32,
    result: &'static str,
    no_changes: bool,
    app: String,
    account: String,
    primary: String,
    secondary: String,
    elapsed_s: f64,
    steps: Vec<StepResult>,
    unverified: Vec<Unverified>,
    endpoints: Endpoints,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct Unverified {
    step: String,
    region: String,
    reason: String,
}

/// What a user or a pipeline needs to reach the deployment (camelCase, as
/// the site's config.json it shares fields with).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    site_url: Option<String>,
    /// With a custom domain: the site's and the APIs' custom names.
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_domain: Option<wire::site::CustomDomain>,
    regions: BTreeMap<String, RegionOutputs>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegionOutputs {
    #[serde(flatten)]
    endpoints: wire::site::RegionEndpoints,
    object_bucket: String,
    website_bucket: String,
    tables: Vec<String>,
}

impl Summary {
    fn new(
        ctx: &Ctx,
        mut steps: Vec<StepResult>,
        outputs: &Outputs,
        site_domain: Option<String>,
        failure: Option<&MraaError>,
    ) -> Summary {
        let order = |s: &StepResult| {
            Unit::ALL
                .iter()
                .position(|u| u.id() == s.step)
                .unwrap_or(Unit::ALL.len())
        };
        steps.sort_by_key(order);
        let unverified = steps
            .iter()
            .flat_map(|s| {
                s.checks.iter().filter_map(|c| match &c.verdict {
                    Verdict::Unverified(reason) => Some(Unverified {
                        step: s.step.clone(),
                        region: c.region.clone(),
                        reason: reason.clone(),
                    }),
                    Verdict::Ok => None,
                })
            })
            .collect();
        let regions = ctx
            .aws
            .regions()
            .iter()
            .map(|c| {
                let region = c.region.clone();
                let outputs = RegionOutputs {
                    endpoints: wire::site::endpoints(&ctx.app, &region, outputs),
                    object_bucket: crate::names::bucket_name(
                        &ctx.app,
                        "objects",
                        &ctx.account,
                        &region,
                    ),
                    website_bucket: crate::names::bucket_name(
                        &ctx.app,
                        "website",
                        &ctx.account,
                        &region,
                    ),
                    tables: crate::names::GLOBAL_TABLES
                        .iter()
                        .map(|t| crate::names::table_name(&ctx.app, t))
                        .collect(),
                };
                (region, outputs)
            })
            .collect();
        Summary {
            kind: "summary",
            schema_version: 1,
            result: if failure.is_some() { "failed" } else { "ok" },
            no_changes: failure.is_none() && steps.iter().all(|s| s.change == Change::Unchanged),
            app: ctx.app.clone(),
            account: ctx.account.clone(),
            primary: ctx.aws.primary.region.clone(),
            secondary: ctx.aws.secondary.region.clone(),
            elapsed_s: (ctx.reporter.elapsed().as_millis() as f64) / 1000.0,
            steps,
            unverified,
            endpoints: Endpoints {
                site_url: site_domain.map(|d| format!("https://{d}")),
                custom_domain: ctx
                    .plan
                    .domain
                    .as_ref()
                    .map(|d| wire::site::CustomDomain::new(&ctx.app, &d.name)),
                regions,
            },
            error: failure.map(|e| e.to_string()),
        }
    }

    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.no_changes {
            writeln!(
                out,
                "no changes: app {} is up to date ({:.1}s)",
                self.app, self.elapsed_s
            )?;
        } else if self.result == "ok" {
            writeln!(
                out,
                "deployed app {} to {} (primary) and {} in {:.1}s",
                self.app, self.primary, self.secondary, self.elapsed_s
            )?;
        } else {
            writeln!(
                out,
                "deploy of app {} FAILED after {:.1}s",
                self.app, self.elapsed_s
            )?;
        }
        for (label, change) in [
            ("created", Change::Created),
            ("updated", Change::Updated),
            ("unchanged", Change::Unchanged),
        ] {
            let steps: Vec<&str> = self
                .steps
                .iter()
                .filter(|s| s.change == change)
                .map(|s| s.step.as_str())
                .collect();
            if !steps.is_empty() {
                writeln!(out, "  {label:<10} {}", steps.join(", "))?;
            }
        }
        for u in &self.unverified {
            writeln!(out, "  unverified {} ({}): {}", u.step, u.region, u.reason)?;
        }
        match &self.endpoints.site_url {
            Some(url) => writeln!(out, "  site       {url}")?,
            None => writeln!(out, "  site       (no CloudFront distribution to show)")?,
        }
        if let Some(custom) = &self.endpoints.custom_domain {
            writeln!(out, "  site       {} (custom domain)", custom.site_url)?;
            writeln!(
                out,
                "  api        {} (Route 53 failover between the regions)",
                custom.api_url
            )?;
        }
        for (region, endpoints) in &self.endpoints.regions {
            if let Some(api) = &endpoints.endpoints.api_url {
                writeln!(out, "  api        {region}: {api}")?;
            }
        }
        Ok(())
    }
}
