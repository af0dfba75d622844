//! Each unit in each region: its stack or StackSet instance's status and
//! last update, and the user pools the front end's outputs name.

use crate::health::{Check, Health};

use aws_sdk_cloudformation::types::{Stack, StackInstanceStatus};

use super::{Down, UnitOutputs};
use crate::aws::{Aws, is_not_found, is_unreachable, sdk_message};
use crate::plan::{Kind, Plan, Unit};

/// Every unit × region: stack (or StackSet instance) status and last update.
pub(super) async fn unit_checks(aws: &Aws, plan: &Plan, down: &Down) -> (Vec<Check>, UnitOutputs) {
    let per_unit = futures::future::join_all(plan.units.iter().map(|planned| async move {
        let mut checks = Vec::new();
        let mut outputs = UnitOutputs::new();
        let name = planned.unit.id();
        match planned.kind {
            Kind::Stack => {
                let region = planned.regions.first().unwrap_or(&aws.primary.region);
                if let Some(cause) = down.get(region) {
                    checks.push(unit_check(
                        name,
                        region,
                        Health::Unreachable,
                        cause.clone(),
                        None,
                    ));
                    return (checks, outputs);
                }
                let (check, stack) =
                    stack_check(&aws.cfn_in(region), region, name, &planned.name).await;
                if let Some(stack) = stack {
                    outputs.insert(
                        (planned.unit, region.clone()),
                        crate::cfn::stack::outputs_of(&stack),
                    );
                }
                checks.push(check);
            }
            Kind::StackSet => {
                // With the home region down, each instance stack is still
                // found by name in its own region.
                let listed = match down.contains_key(&aws.primary.region) {
                    false => Some(
                        aws.primary
                            .cfn
                            .list_stack_instances()
                            .stack_set_name(&planned.name)
                            .send()
                            .await,
                    ),
                    true => None,
                };
                let instances = match listed {
                    None => Vec::new(),
                    Some(Ok(out)) => out.summaries().to_vec(),
                    Some(Err(e)) => {
                        let status = if is_unreachable(&e) {
                            Health::Unreachable
                        } else if is_not_found(&e) {
                            Health::Missing
                        } else {
                            Health::Degraded
                        };
                        for region in &planned.regions {
                            checks.push(unit_check(name, region, status, sdk_message(&e), None));
                        }
                        return (checks, outputs);
                    }
                };
                for region in &planned.regions {
                    let clients = aws.region(region);
                    if let Some(cause) = down.get(region) {
                        checks.push(unit_check(
                            name,
                            region,
                            Health::Unreachable,
                            cause.clone(),
                            None,
                        ));
                        continue;
                    }
                    let instance = instances
                        .iter()
                        .find(|i| i.region() == Some(region.as_str()));
                    if instance.is_none() && listed_ok(down, aws) {
                        checks.push(unit_check(
                            name,
                            region,
                            Health::Missing,
                            "no StackSet instance".into(),
                            None,
                        ));
                        continue;
                    }
                    let instance_status = instance.and_then(|i| i.status().cloned());
                    let stack_id = instance.and_then(|i| i.stack_id());
                    let found = crate::cfn::stack_set::stack_in_region(
                        &clients.cfn,
                        &planned.name,
                        stack_id,
                    )
                    .await;
                    let mut check = match found {
                        Ok(Some(stack)) => {
                            outputs.insert(
                                (planned.unit, region.clone()),
                                crate::cfn::stack::outputs_of(&stack),
                            );
                            stack_health(name, region, &stack)
                        }
                        Ok(None) => unit_check(
                            name,
                            region,
                            Health::Missing,
                            "instance has no stack".into(),
                            None,
                        ),
                        Err(e) => unit_check(name, region, Health::Degraded, e, None),
                    };
                    if instance_status
                        .as_ref()
                        .is_some_and(|s| *s != StackInstanceStatus::Current)
                        && check.status == Health::Ok
                    {
                        check.status = Health::Degraded;
                        check.detail = format!(
                            "{}; instance {}",
                            check.detail,
                            instance_status
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default()
                        );
                    }
                    checks.push(check);
                }
            }
        }
        (checks, outputs)
    }))
    .await;
    let mut checks = Vec::new();
    let mut outputs = UnitOutputs::new();
    for (c, o) in per_unit {
        checks.extend(c);
        outputs.extend(o);
    }
    (checks, outputs)
}

/// Each region's Cognito user pool, as the front end's outputs name it. With
/// Cognito's replication the secondary's pool is the primary's replica
/// (same id), asked of Cognito there: it serves a failover only when ACTIVE.
pub(super) async fn user_pool_checks(aws: &Aws, outputs: &UnitOutputs, down: &Down) -> Vec<Check> {
    let output = |region: &str, key: &str| {
        outputs
            .get(&(Unit::Frontend, region.to_string()))
            .and_then(|o| o.get(key))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let mut checks = Vec::new();
    for clients in aws.regions() {
        let region = &clients.region;
        let pool = output(region, "UserPoolId");
        let replica_of = output(&aws.primary.region, "UserPoolId").filter(|_| {
            pool.is_none()
                && *region == aws.secondary.region
                && output(region, "UserReplication").as_deref() == Some("native")
        });
        let (status, detail) = match (down.get(region), pool, replica_of) {
            (Some(cause), _, _) => (Health::Unreachable, cause.clone()),
            (None, Some(id), _) => (Health::Ok, id),
            (None, None, Some(id)) => replica_health(clients, &id).await,
            (None, None, None) => (
                Health::Missing,
                "the front end has no UserPoolId output".into(),
            ),
        };
        checks.push(Check {
            kind: "unit",
            name: "user-pool".into(),
            region: region.clone(),
            status,
            detail,
            updated: None,
        });
    }
    checks
}

/// The replica of `pool_id` in the secondary, as its own region reports it.
async fn replica_health(clients: &crate::aws::RegionClients, pool_id: &str) -> (Health, String) {
    let region = &clients.region;
    match crate::pool_replica::secondary_of(&clients.cognito, pool_id).await {
        Ok(Some(replica)) if replica.region == *region && replica.is_active() => (
            Health::Ok,
            format!("{pool_id} (replica, ACTIVE: users sign in here with their own password)"),
        ),
        Ok(Some(replica)) if replica.region == *region => (
            Health::Degraded,
            format!(
                "{pool_id}: the replica is {}, so it would sign no one in during a failover; \
                 run `mraa deploy` to activate it",
                replica.status
            ),
        ),
        Ok(other) => (
            Health::Missing,
            format!(
                "{pool_id} has no replica in {region}{}; run `mraa deploy` to make it",
                other
                    .map(|r| format!(" (its replica is in {})", r.region))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => (
            if crate::aws::says_unreachable(&e) {
                Health::Unreachable
            } else {
                Health::Degraded
            },
            format!("the replica of {pool_id} cannot be read: {e}"),
        ),
    }
}

/// Whether the StackSet instances could be listed (the home region answers).
pub(super) fn listed_ok(down: &Down, aws: &Aws) -> bool {
    !down.contains_key(&aws.primary.region)
}

pub(super) async fn stack_check(
    cfn: &aws_sdk_cloudformation::Client,
    region: &str,
    unit: &str,
    stack_name: &str,
) -> (Check, Option<Stack>) {
    let missing = || {
        unit_check(
            unit,
            region,
            Health::Missing,
            format!("no stack {stack_name}"),
            None,
        )
    };
    match cfn.describe_stacks().stack_name(stack_name).send().await {
        Ok(out) => match out.stacks().first() {
            Some(stack) => (stack_health(unit, region, stack), Some(stack.clone())),
            None => (missing(), None),
        },
        Err(e) if is_not_found(&e) => (missing(), None),
        Err(e) => {
            let health = if is_unreachable(&e) {
                Health::Unreachable
            } else {
                Health::Degraded
            };
            (
                unit_check(unit, region, health, sdk_message(&e), None),
                None,
            )
        }
    }
}

pub(super) fn stack_health(unit: &str, region: &str, stack: &Stack) -> Check {
    let status = stack
        .stack_status()
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN");
    let health = match status {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" => Health::Ok,
        _ => Health::Degraded,
    };
    let updated = stack
        .last_updated_time()
        .or(stack.creation_time())
        .and_then(|t| {
            t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                .ok()
        });
    unit_check(unit, region, health, status.to_string(), updated)
}

pub(super) fn unit_check(
    unit: &str,
    region: &str,
    status: Health,
    detail: String,
    updated: Option<String>,
) -> Check {
    Check {
        kind: "unit",
        name: unit.to_string(),
        region: region.to_string(),
        status,
        detail,
        updated,
    }
}
