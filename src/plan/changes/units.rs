//! Each planned unit against what is deployed, region by region: the
//! template (GetTemplate) and parameters compared first, so that an
//! unchanged unit costs no mutating call; otherwise a change set made on the
//! unit's stack (for a StackSet, on each instance's stack, which StackSets
//! themselves cannot preview) says what CloudFormation would do, and is
//! deleted again.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{ChangeSetType, Stack, StackStatus};

use crate::aws::{Aws, aws_error, says_unreachable, sdk_message};
use crate::cfn::change_set::{self, ChangeSetSpec};
use crate::cfn::stack::{describe, outputs_of, parameter_map};
use crate::cfn::stack_set;
use crate::context::Outputs;
use crate::error::{MraaError, Result};
use crate::plan::{Kind, Plan};
use crate::render::Rendered;

use super::report::{ParameterChange, ResourceChange, UnitChange, UnitDiff};

/// A deployed stack of the deployment: where drift detection looks.
#[derive(Debug, Clone)]
pub struct DeployedStack {
    pub unit: String,
    pub region: String,
    pub stack: String,
}

/// An AWS failure at a place; a region that did not answer is said so.
pub fn fail(unit: &str, region: &str, resource: &str, cause: String) -> MraaError {
    if says_unreachable(&cause) {
        return MraaError::Unreachable {
            region: region.into(),
            cause,
        };
    }
    aws_error(unit, region, resource, cause)
}

/// Every planned unit in dependency order, so that each one's parameters
/// are resolved from the deployed outputs of those before it.
pub async fn compare(
    aws: &Aws,
    plan: &Plan,
    rendered: &[Rendered],
    run_id: &str,
    app: &str,
) -> Result<(Vec<UnitDiff>, Vec<DeployedStack>, Outputs)> {
    let mut outputs = Outputs::default();
    let mut diffs = Vec::new();
    let mut deployed = Vec::new();
    for planned in &plan.units {
        let unit = planned.unit.id();
        let body = rendered
            .iter()
            .find(|r| r.file == planned.unit.template_file())
            .map(|r| r.body.as_str())
            .ok_or_else(|| MraaError::Io(format!("{unit} was not rendered")))?;
        let parameters = crate::plan::parameters::resolve(plan, planned, &outputs);
        let home = planned.regions.first().unwrap_or(&plan.primary);
        // The stack of each region: a stack's own, or a StackSet instance's.
        let mut stacks: Vec<(String, Option<Stack>)> = Vec::new();
        match planned.kind {
            Kind::Stack => {
                let found = describe(&aws.cfn_in(home), &planned.name)
                    .await
                    .map_err(|e| fail(unit, home, &planned.name, e))?;
                stacks.push((home.clone(), found));
            }
            Kind::StackSet => {
                let primary = &aws.primary.cfn;
                let set = stack_set::describe(primary, &planned.name)
                    .await
                    .map_err(|e| fail(unit, &plan.primary, &planned.name, e))?;
                for region in &planned.regions {
                    let found = match set {
                        None => None,
                        Some(_) => stack_set::instance_stack(
                            primary,
                            &aws.cfn_in(region),
                            &planned.name,
                            region,
                        )
                        .await
                        .map_err(|e| fail(unit, region, &planned.name, e))?,
                    };
                    stacks.push((region.clone(), found));
                }
            }
        }
        let mut unit_outputs = BTreeMap::new();
        for (region, stack) in stacks {
            let stack = stack.filter(|s| s.stack_status() != Some(&StackStatus::ReviewInProgress));
            let mut diff = UnitDiff {
                unit: unit.to_string(),
                region: region.clone(),
                stack: planned.name.clone(),
                change: UnitChange::Created,
                parameters: parameter_changes(&BTreeMap::new(), &parameters),
                resources: Vec::new(),
            };
            if let Some(stack) = &stack {
                let name = stack.stack_name().unwrap_or(&planned.name).to_string();
                unit_outputs.insert(region.clone(), outputs_of(stack));
                deployed.push(DeployedStack {
                    unit: unit.to_string(),
                    region: region.clone(),
                    stack: name.clone(),
                });
                diff.stack = name.clone();
                let cfn = aws.cfn_in(&region);
                let target = Target {
                    cfn: &cfn,
                    stack: &name,
                    body,
                    parameters: &parameters,
                    custom_endpoint: aws.custom_endpoint,
                };
                let (change, resources) = compare_stack(&target, stack, run_id, app)
                    .await
                    .map_err(|e| fail(unit, &region, &name, e))?;
                diff.change = change;
                diff.resources = resources;
                diff.parameters =
                    parameter_changes(&parameter_map(stack.parameters()), &parameters);
            }
            diffs.push(diff);
        }
        outputs.insert(planned.unit, unit_outputs);
    }
    Ok((diffs, deployed, outputs))
}

struct Target<'a> {
    cfn: &'a Client,
    stack: &'a str,
    body: &'a str,
    parameters: &'a BTreeMap<String, String>,
    custom_endpoint: bool,
}

async fn compare_stack(
    target: &Target<'_>,
    stack: &Stack,
    run_id: &str,
    app: &str,
) -> Result<(UnitChange, Vec<ResourceChange>), String> {
    // A deployed parameter a deploy does not pass keeps its template default
    // (the stack lists it all the same): only the parameters passed count.
    if parameter_changes(&parameter_map(stack.parameters()), target.parameters).is_empty() {
        let deployed = target
            .cfn
            .get_template()
            .stack_name(target.stack)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        if deployed.template_body() == Some(target.body) {
            return Ok((UnitChange::Unchanged, Vec::new()));
        }
    }
    let name = format!("{run_id}-diff");
    let spec = ChangeSetSpec {
        stack: target.stack,
        name: &name,
        kind: ChangeSetType::Update,
        body: target.body,
        parameters: target.parameters,
        app,
        role: None,
    };
    if let Err(e) = change_set::create(target.cfn, &spec).await {
        // CloudFormation refuses a change set that changes nothing.
        if e.contains("No updates") {
            return Ok((UnitChange::Unchanged, Vec::new()));
        }
        return Err(e);
    }
    // Deleted whatever the outcome: diff leaves nothing behind.
    let read = read_change_set(target, &name).await;
    change_set::delete(target.cfn, target.stack, &name).await;
    let resources = read?;
    Ok(match resources {
        None => (UnitChange::Unchanged, Vec::new()),
        Some(resources) => (UnitChange::Updated, resources),
    })
}

/// The change set's resource changes; `None` when it holds none.
async fn read_change_set(
    target: &Target<'_>,
    name: &str,
) -> Result<Option<Vec<ResourceChange>>, String> {
    if !change_set::wait_ready(target.cfn, target.custom_endpoint, target.stack, name).await? {
        return Ok(None);
    }
    let mut resources = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = target
            .cfn
            .describe_change_set()
            .stack_name(target.stack)
            .change_set_name(name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        for change in page.changes() {
            let Some(r) = change.resource_change() else {
                continue;
            };
            let resource_type = r.resource_type().unwrap_or_default().to_string();
            let replacement = r.replacement().map(|x| x.as_str().to_ascii_lowercase());
            let action = r
                .action()
                .map(|a| a.as_str().to_ascii_lowercase())
                .unwrap_or_default();
            resources.push(ResourceChange {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                danger: ResourceChange::is_danger(&resource_type, &action, replacement.as_deref()),
                resource_type,
                action,
                replacement,
                properties: r
                    .details()
                    .iter()
                    .filter_map(|d| d.target()?.name().map(str::to_string))
                    .collect(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // Dangers first, then by logical id: the order a reviewer reads.
    resources.sort_by(|a, b| (!a.danger, &a.logical_id).cmp(&(!b.danger, &b.logical_id)));
    Ok(Some(resources))
}

/// The parameters whose values differ, by key.
pub fn parameter_changes(
    deployed: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Vec<ParameterChange> {
    let keys: std::collections::BTreeSet<&String> = deployed.keys().chain(wanted.keys()).collect();
    keys.into_iter()
        // A deployed parameter a deploy does not pass keeps its template
        // default: not a change.
        .filter(|k| wanted.contains_key(*k) && deployed.get(*k) != wanted.get(*k))
        .map(|k| ParameterChange {
            key: k.clone(),
            from: deployed.get(k).cloned(),
            to: wanted.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parameters_that_differ_are_listed() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let changes = parameter_changes(
            &map(&[("A", "1"), ("B", "2"), ("Old", "x")]),
            &map(&[("A", "1"), ("B", "3"), ("New", "y")]),
        );
        let keys: Vec<_> = changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["B", "New"]);
        assert_eq!(changes[1].from, None);
    }
}
