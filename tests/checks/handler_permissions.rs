//! The StackSet execution role allows every permission that CloudFormation's
//! resource handlers call for what the StackSets deploy, by AWS's own data.
//!
//! For each scenario (`cfn::scenarios`), every resource that a StackSet
//! instance creates in each of its regions (conditions evaluated there) is
//! looked up in the registry schema AWS publishes for that region; each
//! permission of its create, read, update and delete handlers must be allowed
//! by `mraa-<app>-stackset-exec` (templates/bootstrap.yaml):
//!
//! - an action IAM cannot scope (`Policies.json` lists no resource type for
//!   it) only by a statement with `Resource: "*"`;
//! - an action of the resource's own service on the resource's ARN as rendered
//!   (its name, its region, the account), e.g. `logs:PutRetentionPolicy` on
//!   `arn:aws:logs:eu-south-1:…:log-group:/aws/lambda/mraa-demo-photos`;
//! - an action of another service on the ARNs of that service the resource
//!   names (`iam:PassRole` on the function's role), or on some resource when
//!   it names none;
//! - under the statement's conditions, evaluated against the condition keys
//!   the handler's call carries (`call_context.rs`): a grant conditioned on
//!   `iam:PassedToService`, `iam:AWSServiceName`, `kms:ViaService` or
//!   `kms:MultiRegionKeyType` counts only for a call that meets it;
//! - and no Deny statement may match.
//!
//! A permission that applies only with a property the templates do not set is
//! excused in `handler_permissions_excused.txt`, one line each with its
//! reason; the check fails when a template sets that property, and when a
//! line excuses nothing. Names that IAM's action list does not hold
//! (`s3:REST.PUT.OBJECT`) cannot be granted by any policy and are passed.
//!
//! `handler_needs` is the reusable part: given a plan and which instances to
//! look at, it lists every (resource, handler, permission, ARN) — the operator
//! policy's completeness check can take the stacks mraa deploys with the
//! caller's own credentials (`Kind::Stack`) from it.

use std::collections::{BTreeMap, BTreeSet};

use mraa::plan::{Kind, Plan, Unit};
use serde_yaml::Value;

use crate::arns::arn_of;
use crate::aws_data::{self, Action, HANDLERS};
use crate::call_context;
use crate::cfn::{self, Instance, at, field, type_of};
use crate::iam::{self, Context, Statement, wildcard};

const EXCUSED: &str = include_str!("handler_permissions_excused.txt");

/// One permission a handler calls on one resource of one deployed instance.
#[derive(Debug, Clone)]
pub struct Need {
    pub unit: Unit,
    pub region: String,
    pub logical_id: String,
    pub type_name: String,
    pub handler: &'static str,
    pub permission: String,
    pub scope: Scope,
    /// The condition keys the handler's call carries.
    pub context: Context,
}

/// What the granting statement's Resource must admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `Resource: "*"`: IAM cannot scope the action.
    Everything,
    /// Each of these ARNs.
    Arns(Vec<String>),
    /// Any resource: the action belongs to another service and the resource
    /// names nothing of it.
    Any,
    /// Not an IAM action; nothing can grant it.
    NotAnAction,
}

/// Every handler permission of every resource of the instances `select` picks.
pub fn handler_needs(plan: &Plan, select: impl Fn(&Instance) -> bool) -> Vec<Need> {
    let mut needs = Vec::new();
    for t in cfn::instances(plan).iter().filter(|t| select(t)) {
        for (id, resource) in t.resources() {
            let type_name = type_of(resource);
            let own = arn_of(t, id, resource).unwrap_or_else(|| {
                panic!(
                    "{}: {id} is a {type_name}, whose ARN tests/checks/arns.rs does not know yet",
                    t.file()
                )
            });
            for handler in HANDLERS {
                for permission in aws_data::handler_permissions(&t.region, type_name, handler) {
                    let scope = scope(t, resource, &own, &permission);
                    let context = call_context::of(t, resource, type_name, &permission);
                    needs.push(Need {
                        unit: t.unit,
                        region: t.region.clone(),
                        logical_id: id.to_string(),
                        type_name: type_name.to_string(),
                        handler,
                        permission,
                        scope,
                        context,
                    });
                }
            }
        }
    }
    needs
}

fn service_of(text: &str) -> Option<&str> {
    text.split(':').nth(2)
}

fn scope(t: &Instance, resource: &Value, own: &str, permission: &str) -> Scope {
    let service = permission.split(':').next().unwrap_or_default();
    match aws_data::action(permission) {
        Action::Unknown => Scope::NotAnAction,
        Action::Unscoped => Scope::Everything,
        Action::Scoped(_) if service_of(own) == Some(service) => Scope::Arns(vec![own.into()]),
        Action::Scoped(_) => {
            let named: Vec<String> = referenced_strings(t, field(resource, "Properties"))
                .into_iter()
                .filter(|s| s.starts_with("arn:") && service_of(s) == Some(service))
                .collect();
            if named.is_empty() {
                Scope::Any
            } else {
                Scope::Arns(named)
            }
        }
    }
}

/// Every string a resource's properties resolve to, at any depth.
fn referenced_strings(t: &Instance, v: Option<&Value>) -> Vec<String> {
    let Some(v) = v.and_then(|v| t.decide(v)) else {
        return Vec::new();
    };
    if let Some(s) = t.resolve(&v) {
        return vec![s];
    }
    match &v {
        Value::Sequence(items) => items
            .iter()
            .flat_map(|i| referenced_strings(t, Some(i)))
            .collect(),
        Value::Mapping(map) => map
            .values()
            .flat_map(|i| referenced_strings(t, Some(i)))
            .collect(),
        _ => Vec::new(),
    }
}

/// `None` when granted; otherwise why not.
pub fn refusal(policy: &[Statement], need: &Need) -> Option<String> {
    let action = need.permission.as_str();
    let context = &need.context;
    // What a statement that names the action on the resource but does not
    // apply asks of the call, for the message.
    let unmet = |resource: Option<&str>| -> String {
        let asked: Vec<String> = policy
            .iter()
            .filter(|s| s.allow && resource.map_or(s.names(action), |r| s.matches(action, r)))
            .map(|s| format!("{} asks {}", s.sid, s.unmet(context).join(" and ")))
            .collect();
        if asked.is_empty() {
            String::new()
        } else {
            format!(
                " (the call carries {}; {})",
                context.describe(),
                asked.join("; ")
            )
        }
    };
    let on = |resource: &str| match iam::granting_in(policy, action, resource, context) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!(
            "no statement allows it on {resource}{}",
            unmet(Some(resource))
        )),
        Err(deny) => Some(format!("statement {} denies it on {resource}", deny.sid)),
    };
    match &need.scope {
        Scope::NotAnAction => None,
        Scope::Everything => on("*")
            .map(|why| format!("{why} (IAM cannot scope this action: it needs Resource \"*\")")),
        Scope::Arns(arns) => {
            let refused: Vec<String> = arns.iter().filter_map(|a| on(a)).collect();
            (!refused.is_empty()).then(|| refused.join("; "))
        }
        Scope::Any => {
            let allowed = policy
                .iter()
                .any(|s| s.allow && s.names(action) && s.holds(context));
            (!allowed).then(|| format!("no statement allows it on any resource{}", unmet(None)))
        }
    }
}

/// One line of the excused table.
pub struct Excuse {
    pub line: usize,
    pub type_name: String,
    pub permission: String,
    pub property: String,
}

pub fn excuses() -> Vec<Excuse> {
    EXCUSED
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let [type_name, permission, property, reason] = cells[..] else {
                panic!(
                    "handler_permissions_excused.txt:{}: want `type | permission | property | reason`: {l}",
                    n + 1
                )
            };
            assert!(
                reason.len() > 5,
                "handler_permissions_excused.txt:{}: give the reason: {l}",
                n + 1
            );
            Excuse {
                line: n + 1,
                type_name: type_name.into(),
                permission: permission.into(),
                property: property.into(),
            }
        })
        .collect()
}

impl Excuse {
    /// The excused property that `resource` sets, if any: then the excuse
    /// does not hold for it.
    pub fn set_in(&self, t: &Instance, resource: &Value) -> Option<String> {
        let props = at(resource, "Properties").and_then(|p| t.decide(p))?;
        self.property
            .split(',')
            .map(str::trim)
            .filter(|p| *p != "-")
            .find(|p| at(&props, p).is_some())
            .map(str::to_string)
    }

    pub fn covers(&self, need: &Need) -> bool {
        self.type_name == need.type_name
            && wildcard(
                &self.permission.to_ascii_lowercase(),
                &need.permission.to_ascii_lowercase(),
            )
    }
}

/// The execution role's policy, as the bootstrap stack creates it in the
/// primary region.
pub fn execution_role_policy(plan: &Plan) -> Vec<Statement> {
    let planned = plan.unit(Unit::Bootstrap).expect("bootstrap is planned");
    let bootstrap = Instance::new(planned, &plan.primary);
    iam::role_statements(&bootstrap, "ExecutionRole")
}

fn stack_set_needs(plan: &Plan) -> Vec<Need> {
    handler_needs(plan, |t| t.kind == Kind::StackSet)
}

#[test]
fn the_execution_role_allows_every_handler_permission_of_what_the_stack_sets_deploy() {
    let excuses = excuses();
    let mut used = BTreeSet::new();
    // (type, permission) -> handlers and one example of where and why.
    let mut failures: BTreeMap<(String, String), (BTreeSet<&str>, String)> = BTreeMap::new();
    let mut checked = 0;
    for (scenario, plan) in cfn::scenarios() {
        // Lines for the stacks deployed with the caller's credentials are
        // used by the operator policy's check (operator_policy.rs).
        for need in handler_needs(&plan, |t| t.kind == Kind::Stack) {
            if let Some(excuse) = excuses.iter().find(|e| e.covers(&need)) {
                used.insert(excuse.line);
            }
        }
        let policy = execution_role_policy(&plan);
        for need in stack_set_needs(&plan) {
            if let Some(excuse) = excuses.iter().find(|e| e.covers(&need)) {
                used.insert(excuse.line);
                continue;
            }
            checked += 1;
            if let Some(why) = refusal(&policy, &need) {
                let entry = failures
                    .entry((need.type_name.clone(), need.permission.clone()))
                    .or_insert_with(|| {
                        let example = format!(
                            "{scenario}, {} {} in {}: {why}",
                            need.unit, need.logical_id, need.region
                        );
                        (BTreeSet::new(), example)
                    });
                entry.0.insert(need.handler);
            }
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|((type_name, permission), (handlers, example))| {
            let handlers: Vec<&str> = handlers.iter().copied().collect();
            format!(
                "{type_name} {permission} ({}): e.g. {example}",
                handlers.join("/")
            )
        })
        .collect();
    assert!(
        report.is_empty(),
        "templates/bootstrap.yaml ExecutionRole misses {} handler permission(s) \
         (grant them, or excuse one that only applies with a property the templates do not set \
         in tests/checks/handler_permissions_excused.txt):\n{}",
        report.len(),
        report.join("\n")
    );
    assert!(
        checked > 500,
        "only {checked} permissions checked: is the walk broken?"
    );
    let stale: Vec<String> = excuses
        .iter()
        .filter(|e| !used.contains(&e.line))
        .map(|e| format!("line {}: {} {}", e.line, e.type_name, e.permission))
        .collect();
    assert!(
        stale.is_empty(),
        "handler_permissions_excused.txt excuses permissions no handler of a deployed type needs:\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_excused_permission_hangs_on_a_property_no_template_sets() {
    for (scenario, t) in cfn::every_instance() {
        if t.kind != Kind::StackSet {
            continue;
        }
        for (id, resource) in t.resources() {
            for excuse in excuses()
                .iter()
                .filter(|e| e.type_name == type_of(resource))
            {
                if let Some(property) = excuse.set_in(&t, resource) {
                    panic!(
                        "{scenario}: {} {id} sets {property}, so {} (handler_permissions_excused.txt \
                         line {}) is needed: grant it in templates/bootstrap.yaml and drop the line",
                        t.file(),
                        excuse.permission,
                        excuse.line
                    );
                }
            }
        }
    }
}

#[test]
fn the_execution_role_may_run_its_stack_set_instances() {
    // "Your target account always needs full CloudFormation permissions, which
    // include permissions to create, update, delete, and describe stacks."
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html
    const STACK_OPERATIONS: [&str; 10] = [
        "cloudformation:CreateStack",
        "cloudformation:UpdateStack",
        "cloudformation:DeleteStack",
        "cloudformation:DescribeStacks",
        "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStackResources",
        "cloudformation:GetTemplate",
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:SignalResource",
    ];
    for (scenario, plan) in cfn::scenarios() {
        let policy = execution_role_policy(&plan);
        for t in cfn::instances(&plan)
            .iter()
            .filter(|t| t.kind == Kind::StackSet)
        {
            let stack = format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/0a1b2c3d-0000-0000-0000-000000000000",
                cfn::PARTITION,
                t.region,
                cfn::ACCOUNT,
                t.stack_name()
            );
            for action in STACK_OPERATIONS {
                assert!(
                    matches!(iam::granting(&policy, action, &stack), Ok(Some(_))),
                    "{scenario}: the execution role may not {action} on {stack}"
                );
            }
        }
    }
}
