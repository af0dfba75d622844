//! `mraa status`: one truthful view of a deployment, found from AWS alone and
//! read from both regions concurrently. Every check is `ok`, `degraded`,
//! `missing`, `unverified` (the endpoint cannot show it) or `unreachable`.

mod dns;
mod report;

use crate::health::links;
use crate::health::{Check, Health};

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_cloudformation::types::{Stack, StackInstanceStatus};
use serde::Serialize;

use crate::app_state::{self, StateRecord};
use crate::aws::{Aws, RegionClients, is_not_found, is_unreachable, sdk_message};
use crate::config::Settings;
use crate::discover::{self, Deployment};
use crate::error::{EXIT_DEGRADED, EXIT_OK, EXIT_UNREACHABLE, MraaError, Result};
use crate::plan::{Kind, Plan, Unit};

/// Bumped when a field changes meaning or disappears; additions keep it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct StateView {
    pub state: Option<String>,
    pub previous_state: Option<String>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Endpoints {
    pub site_url: Option<String>,
    /// With `--domain`: the site's and the APIs' custom names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_domain: Option<crate::wire::site::DomainUrls>,
    pub regions: BTreeMap<String, RegionEndpoints>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct RegionEndpoints {
    pub state_url: Option<String>,
    pub api_url: Option<String>,
}

/// The whole status, as `--output json` prints it (schema in the README).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub schema_version: u32,
    pub app: String,
    pub primary: String,
    pub secondary: String,
    pub mode: String,
    /// `aws`, or `custom` when calls go to another endpoint.
    pub endpoint: &'static str,
    pub overall: Health,
    pub exit_code: u8,
    pub state: Option<StateView>,
    pub endpoints: Endpoints,
    pub checks: Vec<Check>,
}

pub async fn run(settings: &Settings, out: &mut dyn Write) -> Result<u8> {
    let (deployment, aws) = match discover::find(settings).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(MraaError::NotDeployed {
                app: settings.app.clone(),
                region: settings.primary.clone(),
            });
        }
        // The record lives in the primary; with the primary down, the
        // secondary named by flag or config lets the rest be shown.
        Err(MraaError::Unreachable { region, cause }) => {
            let Some(secondary) = settings.secondary.clone() else {
                return Err(MraaError::Unreachable {
                    region,
                    cause: format!("{cause}; pass --secondary to see the other region"),
                });
            };
            let deployment = Deployment {
                app: settings.app.clone(),
                primary: settings.primary.clone(),
                secondary: secondary.clone(),
                mode: "unknown".into(),
                bootstrap_status: "unknown".into(),
            };
            (deployment, Aws::new(settings, &secondary).await)
        }
        Err(err) => return Err(err),
    };
    let report = collect(&aws, &deployment).await;
    report::write(settings, &report, out).map_err(|e| MraaError::Io(e.to_string()))?;
    Ok(report.exit_code)
}

/// Regions that did not answer a probe, with the reason.
type Down = BTreeMap<String, String>;

pub async fn collect(aws: &Aws, deployment: &Deployment) -> StatusReport {
    let app = &deployment.app;
    // The custom domain, if any, is known from the app's health checks: one
    // listing serves both the plan and the DNS checks below.
    let owned = crate::wire::route53::owned_checks(&aws.route53_probe(), app).await;
    let domain = owned.as_ref().ok().and_then(|checks| {
        checks
            .iter()
            .find_map(|c| Some((c.domain.clone()?, c.zone.clone()?)))
    });
    let plan = match &domain {
        Some((name, zone)) => {
            Plan::new(app, &deployment.primary, &deployment.secondary).with_domain(name, zone)
        }
        None => Plan::new(app, &deployment.primary, &deployment.secondary),
    };
    // Each region is probed once; one that does not answer is marked
    // unreachable everywhere instead of being waited on check after check.
    let probes = futures::future::join_all(aws.regions().map(reachable)).await;
    let down: Down = aws
        .regions()
        .iter()
        .zip(probes)
        .filter_map(|(c, p)| p.err().map(|cause| (c.region.clone(), cause)))
        .collect();
    let primary_down = down.get(&aws.primary.region).cloned();
    let answering = if primary_down.is_none() {
        &aws.primary.region
    } else {
        &aws.secondary.region
    };
    let account = aws
        .caller_in(answering)
        .await
        .map(|c| c.account)
        .unwrap_or_default();

    let (units, replication, replicas, state_checks) = futures::future::join4(
        unit_checks(aws, &plan, &down),
        async {
            match &primary_down {
                None => links::s3_replication(aws, app, &account).await,
                Some(cause) => Check::link(
                    "s3-replication",
                    &aws.primary.region,
                    Health::Unreachable,
                    cause.clone(),
                ),
            }
        },
        async {
            match &primary_down {
                None => links::dynamodb_replicas(aws, app).await,
                Some(cause) => vec![Check::link(
                    "dynamodb-replicas",
                    &aws.primary.region,
                    Health::Unreachable,
                    cause.clone(),
                )],
            }
        },
        state_checks(aws, app, &down),
    )
    .await;
    let (mut checks, outputs) = units;
    let distribution_id = outputs
        .get(&(Unit::Edge, aws.primary.region.clone()))
        .and_then(|o| o.get("DistributionId"))
        .cloned();
    checks.push(replication);
    checks.extend(replicas);
    let site_domain = match &primary_down {
        None => {
            let (distribution, domain) =
                links::distribution(aws, app, &account, distribution_id.as_deref()).await;
            checks.push(distribution);
            domain
        }
        Some(cause) => {
            checks.push(Check::link(
                "cloudfront",
                "global",
                Health::Unreachable,
                format!(
                    "the edge stack in {} cannot be read: {cause}",
                    aws.primary.region
                ),
            ));
            None
        }
    };
    if down.is_empty() {
        checks
            .extend(links::website_policies(aws, app, &account, distribution_id.as_deref()).await);
    } else {
        for (region, cause) in &down {
            checks.push(Check::link(
                "website-policy",
                region,
                Health::Unreachable,
                cause.clone(),
            ));
        }
    }
    checks.extend(user_pool_checks(aws, &outputs, &down));
    let (state_view, state_list) = state_checks;
    checks.extend(state_list);
    // With a custom domain: health checks and what the API name answers.
    checks.extend(dns::status_checks(aws, app, owned).await);

    let mut endpoints = Endpoints {
        site_url: site_domain.map(|d| format!("https://{d}")),
        custom_domain: plan
            .domain
            .as_ref()
            .map(|d| crate::wire::site::CustomDomain::new(app, &d.name).for_report()),
        regions: BTreeMap::new(),
    };
    for clients in aws.regions() {
        let get = |unit, key: &str| {
            outputs
                .get(&(unit, clients.region.clone()))
                .and_then(|o| o.get(key))
                .cloned()
        };
        endpoints.regions.insert(
            clients.region.clone(),
            RegionEndpoints {
                state_url: get(Unit::Routing, "StateApiUrl").map(|u| format!("{u}{app}")),
                api_url: get(Unit::Application, "AppApiUrl"),
            },
        );
    }

    let overall = checks.iter().map(|c| c.status).max().unwrap_or(Health::Ok);
    let exit_code = match overall {
        Health::Unreachable => EXIT_UNREACHABLE,
        Health::Missing | Health::Degraded => EXIT_DEGRADED,
        // Unverified is acceptable only where the endpoint cannot show it.
        Health::Unverified if !aws.custom_endpoint => EXIT_DEGRADED,
        _ => EXIT_OK,
    };
    StatusReport {
        schema_version: SCHEMA_VERSION,
        app: app.clone(),
        primary: deployment.primary.clone(),
        secondary: deployment.secondary.clone(),
        mode: deployment.mode.clone(),
        endpoint: if aws.custom_endpoint { "custom" } else { "aws" },
        overall,
        exit_code,
        state: state_view,
        endpoints,
        checks,
    }
}

/// One cheap call that tells whether a region answers at all.
async fn reachable(clients: &RegionClients) -> Result<(), String> {
    match clients
        .cfn
        .describe_stacks()
        .stack_name("mraa-reachability-probe")
        .send()
        .await
    {
        Err(e) if is_unreachable(&e) => Err(sdk_message(&e)),
        _ => Ok(()),
    }
}

type UnitOutputs = BTreeMap<(Unit, String), BTreeMap<String, String>>;

/// Every unit × region: stack (or StackSet instance) status and last update.
async fn unit_checks(aws: &Aws, plan: &Plan, down: &Down) -> (Vec<Check>, UnitOutputs) {
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

/// Each region's Cognito user pool, as the front end's outputs name it.
fn user_pool_checks(aws: &Aws, outputs: &UnitOutputs, down: &Down) -> Vec<Check> {
    aws.regions()
        .iter()
        .map(|clients| {
            let region = &clients.region;
            let pool = outputs
                .get(&(Unit::Frontend, region.clone()))
                .and_then(|o| o.get("UserPoolId"))
                .filter(|id| !id.is_empty());
            let (status, detail) = match (down.get(region), pool) {
                (Some(cause), _) => (Health::Unreachable, cause.clone()),
                (None, Some(id)) => (Health::Ok, id.clone()),
                (None, None) if aws.custom_endpoint => (
                    Health::Unverified,
                    "no UserPoolId output: the endpoint's CloudFormation created no user pool"
                        .into(),
                ),
                (None, None) => (
                    Health::Missing,
                    "the front end has no UserPoolId output".into(),
                ),
            };
            Check {
                kind: "unit",
                name: "user-pool".into(),
                region: region.clone(),
                status,
                detail,
                updated: None,
            }
        })
        .collect()
}

/// Whether the StackSet instances could be listed (the home region answers).
fn listed_ok(down: &Down, aws: &Aws) -> bool {
    !down.contains_key(&aws.primary.region)
}

async fn stack_check(
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

fn stack_health(unit: &str, region: &str, stack: &Stack) -> Check {
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

fn unit_check(
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

/// Marks a read that was not attempted because the region is down.
const UNREACHABLE: &str = "\u{0}unreachable: ";

/// The state item as each region reads it.
async fn state_checks(aws: &Aws, app: &str, down: &Down) -> (Option<StateView>, Vec<Check>) {
    let read = |clients: &RegionClients| {
        let cause = down.get(&clients.region).cloned();
        let dynamodb = clients.dynamodb.clone();
        async move {
            match cause {
                Some(cause) => Err(format!("{UNREACHABLE}{cause}")),
                None => app_state::read(&dynamodb, app).await,
            }
        }
    };
    let (primary, secondary) =
        futures::future::join(read(&aws.primary), read(&aws.secondary)).await;
    let view = |r: &StateRecord| StateView {
        state: r.raw_state.clone(),
        previous_state: r.previous_state.clone(),
        updated_at: r.updated_at.clone(),
        updated_by: r.updated_by.clone(),
        reason: r.reason.clone(),
    };
    let check = |region: &str, status, detail: String| Check {
        kind: "state",
        name: "app-state".into(),
        region: region.to_string(),
        status,
        detail,
        updated: None,
    };
    let mut checks = Vec::new();
    let primary_state = match &primary {
        Ok(Some(record)) => {
            checks.push(check(
                &aws.primary.region,
                Health::Ok,
                record.raw_state.clone().unwrap_or_default(),
            ));
            record.raw_state.clone()
        }
        Ok(None) => {
            checks.push(check(
                &aws.primary.region,
                Health::Missing,
                "no state item".into(),
            ));
            None
        }
        Err(e) if e.starts_with(UNREACHABLE) => {
            checks.push(check(
                &aws.primary.region,
                Health::Unreachable,
                e[UNREACHABLE.len()..].to_string(),
            ));
            None
        }
        Err(e) => {
            checks.push(check(&aws.primary.region, Health::Degraded, e.clone()));
            None
        }
    };
    match &secondary {
        Ok(Some(record)) if primary_state.is_none() || record.raw_state == primary_state => checks
            .push(check(
                &aws.secondary.region,
                Health::Ok,
                record.raw_state.clone().unwrap_or_default(),
            )),
        Ok(Some(record)) => checks.push(check(
            &aws.secondary.region,
            Health::Degraded,
            format!(
                "reads {} while the primary reads {} (replication lag?)",
                record.raw_state.as_deref().unwrap_or("nothing"),
                primary_state.as_deref().unwrap_or("nothing")
            ),
        )),
        Ok(None) => checks.push(check(
            &aws.secondary.region,
            Health::Missing,
            "no state item".into(),
        )),
        Err(e) if e.starts_with(UNREACHABLE) => checks.push(check(
            &aws.secondary.region,
            Health::Unreachable,
            e[UNREACHABLE.len()..].to_string(),
        )),
        Err(e) if aws.custom_endpoint && e.contains("ResourceNotFound") => checks.push(check(
            &aws.secondary.region,
            Health::Unverified,
            "no app-config table replica: the endpoint does not create replicas".into(),
        )),
        Err(e) => checks.push(check(&aws.secondary.region, Health::Missing, e.clone())),
    }
    // Prefer the primary's record; in failover it may not answer.
    let record = match (&primary, &secondary) {
        (Ok(Some(r)), _) => Some(view(r)),
        (_, Ok(Some(r))) => Some(view(r)),
        _ => None,
    };
    (record, checks)
}
