//! The deploy graph: units and wiring steps as nodes, each started as soon
//! as what it needs is done (independent ones concurrently), and each
//! result reported as it lands.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::aws::aws_error;
use crate::error::{MraaError, Result};
use crate::plan::{Kind, Plan, Unit, WiringStep};
use crate::render::Rendered;
use crate::ui::progress::Status;
use crate::wire::{self, Verdict};

use super::stack::{self, StackSpec};
use super::stack_set::{self, StackSetSpec};
use super::summary::{Check, StepResult, checks_of};
use crate::context::{Change, Ctx, Outputs};

/// A node of the deploy graph: a unit, or a wiring step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Node {
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

    /// What must be done before the node starts (`Unit::depends_on` and
    /// `WiringStep::after` give the AWS reason of each).
    fn needs(self, plan: &Plan) -> Vec<Node> {
        match self {
            Node::Unit(u) => u.depends_on().iter().map(|&d| Node::Unit(d)).collect(),
            Node::Wire(w) => {
                let mut needs: Vec<Node> = w
                    .after(plan.user_replication)
                    .iter()
                    .map(|&d| Node::Unit(d))
                    .collect();
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

/// The pending nodes that can start now: everything they need is done (a
/// unit this deployment does not have needs no wait).
fn ready(plan: &Plan, pending: &[Node], done: &HashSet<Node>) -> Vec<Node> {
    pending
        .iter()
        .copied()
        .filter(|n| {
            n.needs(plan).iter().all(|d| match d {
                Node::Unit(u) => done.contains(d) || !plan.includes(*u),
                Node::Wire(_) => done.contains(d),
            })
        })
        .collect()
}

pub(super) struct NodeDone {
    result: StepResult,
    outputs: Option<BTreeMap<String, BTreeMap<String, String>>>,
    site_domain: Option<String>,
}

/// Runs every node as soon as what it needs is done; independent nodes run
/// concurrently. After a failure nothing new starts, running nodes finish.
pub(super) async fn schedule(
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
            for node in ready(&ctx.plan, &pending, &done) {
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

pub(super) async fn run_node(
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
            let parameters = crate::plan::parameters::resolve(&ctx.plan, planned, outputs);
            let outcome = match planned.kind {
                Kind::Stack => {
                    let spec = StackSpec {
                        unit: &name,
                        name: &planned.name,
                        body: &body,
                        parameters: &parameters,
                        role: None,
                    };
                    let region = planned.regions.first().unwrap_or(&ctx.plan.primary);
                    let cfn = ctx.aws.cfn_in(region);
                    if unit == Unit::Bootstrap {
                        super::adopt::bootstrap(ctx, &cfn, &spec).await?;
                    }
                    stack::deploy(ctx, &cfn, &spec).await?
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
            // The edge needs the certificate's ARN: without it, it would
            // serve no custom domain.
            if unit == Unit::SiteCertificate
                && let Some((region, _)) = outcome
                    .outputs
                    .iter()
                    .find(|(_, o)| !o.contains_key("CertificateArn"))
            {
                return Err(aws_error(
                    planned.unit.id(),
                    region,
                    &planned.name,
                    "the stack has no CertificateArn output",
                ));
            }
            done.result.change = outcome.change;
            for region in outcome.outputs.keys() {
                done.result.checks.push(Check {
                    region: region.clone(),
                    verdict: Verdict::Ok,
                });
            }
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
                Unit::WebsitePolicy => {
                    wire::cloudfront::verify_website_policies(ctx, &merged).await?;
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

/// A step run after the graph (admin user, DNS): its result, reported.
pub(super) fn finish_step(ctx: &Ctx, step: &str, outcome: wire::WireOutcome) -> StepResult {
    let result = StepResult {
        step: step.into(),
        change: outcome.change,
        checks: checks_of(outcome),
    };
    report_result(ctx, &result);
    result
}

pub(super) fn report_result(ctx: &Ctx, result: &StepResult) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::UserReplication;

    fn all(plan: &Plan) -> Vec<Node> {
        plan.units
            .iter()
            .map(|u| Node::Unit(u.unit))
            .chain(WiringStep::ALL.iter().map(|&w| Node::Wire(w)))
            .collect()
    }

    /// The nodes that start once `done` are, in this order, finished.
    fn starts_after(plan: &Plan, done: &[Node]) -> Vec<Node> {
        let done: HashSet<Node> = done.iter().copied().collect();
        let pending: Vec<Node> = all(plan)
            .into_iter()
            .filter(|n| !done.contains(n))
            .collect();
        ready(plan, &pending, &done)
    }

    const TABLES_MADE: [Node; 4] = [
        Node::Unit(Unit::Bootstrap),
        Node::Unit(Unit::ObjectStore),
        Node::Unit(Unit::KvStore),
        Node::Unit(Unit::Routing),
    ];

    #[test]
    fn replicas_start_when_their_tables_exist_not_after_the_front_end() {
        let plan = Plan::new("demo", "us-east-1", "ap-northeast-1");
        assert_eq!(plan.user_replication, UserReplication::Native);
        // The front end (the pool, its replica) is still being deployed.
        let started = starts_after(&plan, &TABLES_MADE);
        assert!(started.contains(&Node::Unit(Unit::Frontend)), "{started:?}");
        assert!(
            started.contains(&Node::Wire(WiringStep::DynamodbReplicas)),
            "the replicas wait for a unit that holds none of their tables: {started:?}"
        );
        // With import, the users table is the front end's: its replica waits.
        let import = plan.with_user_replication(UserReplication::Import);
        let started = starts_after(&import, &TABLES_MADE);
        assert!(!started.contains(&Node::Wire(WiringStep::DynamodbReplicas)));
    }

    #[test]
    fn the_front_end_and_what_follows_do_not_wait_for_the_distribution() {
        let plan = Plan::new("demo", "us-east-1", "ap-northeast-1");
        let mut done = TABLES_MADE.to_vec();
        assert!(starts_after(&plan, &done).contains(&Node::Unit(Unit::Frontend)));
        done.push(Node::Unit(Unit::Frontend));
        let started = starts_after(&plan, &done);
        // The edge is still deploying: the application starts, the policy
        // that names the distribution waits for it.
        assert!(
            started.contains(&Node::Unit(Unit::Application)),
            "{started:?}"
        );
        assert!(!started.contains(&Node::Unit(Unit::WebsitePolicy)));
        done.push(Node::Unit(Unit::Application));
        let started = starts_after(&plan, &done);
        assert!(
            started.contains(&Node::Wire(WiringStep::SiteUpload)),
            "{started:?}"
        );
        done.push(Node::Unit(Unit::Edge));
        assert!(starts_after(&plan, &done).contains(&Node::Unit(Unit::WebsitePolicy)));
    }
}
