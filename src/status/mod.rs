//! `mraa status`: one truthful view of a deployment, found from AWS alone and
//! read from both regions concurrently. Every check is `ok`, `degraded`,
//! `missing`, `unverified` (the endpoint cannot show it) or `unreachable`.

mod alarms;
mod dns;
mod dns_answer;
mod lag;
mod modes;
mod moves;
mod objects;
mod promises;
mod replicas;
mod report;
mod state;
mod units;

use state::state_checks;
use units::{unit_checks, user_pool_checks};

use crate::health::links;
use crate::health::{Check, Health};

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::aws::{Aws, RegionClients, is_unreachable, probe_budget, sdk_message};
use crate::config::Settings;
use crate::discover::{self, Deployment};
use crate::error::{EXIT_DEGRADED, EXIT_OK, EXIT_UNREACHABLE, MraaError, Result};
use crate::plan::{Plan, Unit};

/// Bumped when a field changes meaning or disappears; additions keep it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct StateView {
    pub state: Option<String>,
    pub previous_state: Option<String>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
    pub reason: Option<String>,
    /// Active-active: the Regions drained (not serving).
    pub drained: Vec<String>,
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

pub async fn run(settings: &Settings, out: &mut dyn Write, messages: &mut dyn Write) -> Result<u8> {
    let mut known_down = Down::new();
    let (deployment, aws) = match discover::find(settings).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(MraaError::NotDeployed {
                app: settings.app.clone(),
                region: settings.primary.clone(),
            });
        }
        // The bootstrap lives in the primary; with the primary down, the
        // secondary named by flag or config, or by the deployment record in
        // another region, lets the rest be shown.
        Err(MraaError::Unreachable { region, cause }) => {
            let Some(aws) = discover::without_primary(settings, messages).await else {
                return Err(MraaError::Unreachable {
                    region,
                    cause: format!(
                        "{cause}; {}; to see the other region, {}",
                        discover::RECORD_NOT_FOUND,
                        discover::SECONDARY_SOURCES
                    ),
                });
            };
            // The mode, from the deployment record's replica in the
            // secondary (see `app_state`): status judges serving rows and
            // DNS by it.
            let mode =
                match crate::app_state::read_record(&aws.secondary.dynamodb, &settings.app).await {
                    Ok(Some(record)) => record.mode.map_or("unknown", |m| m.id()),
                    Ok(None) | Err(_) => "unknown",
                };
            // Known down already: not probed a second time.
            known_down.insert(region, cause);
            let deployment = Deployment {
                app: settings.app.clone(),
                primary: settings.primary.clone(),
                secondary: aws.secondary.region.clone(),
                mode: mode.into(),
                bootstrap_status: "unknown".into(),
                user_replication: None,
            };
            (deployment, aws)
        }
        Err(err) => return Err(err),
    };
    let report = collect(&aws, &deployment, known_down).await;
    report::write(settings, &report, out).map_err(|e| MraaError::Io(e.to_string()))?;
    Ok(report.exit_code)
}

/// Regions that did not answer a probe, with the reason.
pub type Down = BTreeMap<String, String>;

/// `known_down`: regions already found not to answer (not probed again).
pub async fn collect(aws: &Aws, deployment: &Deployment, known_down: Down) -> StatusReport {
    let app = &deployment.app;
    // Each region is probed once; one that does not answer is marked
    // unreachable everywhere instead of being waited on check after check.
    // The custom domain, if any, is known from the app's health checks (one
    // listing serves both the plan and the DNS checks below), asked at the
    // same time: Route 53's control plane is in us-east-1, which may be the
    // region that is down, and then each costs one bounded probe, not two.
    let route53 = aws.route53_probe();
    let (owned, probes) = futures::future::join(
        crate::wire::route53::owned_checks(&route53, app),
        futures::future::join_all(aws.regions().map(|c| {
            let known = known_down.get(&c.region).cloned();
            async move {
                match known {
                    Some(cause) => Err(cause),
                    None => reachable(c).await,
                }
            }
        })),
    )
    .await;
    let domain = owned.as_ref().ok().and_then(|checks| {
        checks
            .iter()
            .find_map(|c| Some((c.domain.clone()?, c.zone.clone()?)))
    });
    let mode = crate::plan::Mode::from_recorded(Some(&deployment.mode)).unwrap_or_default();
    let plan = match &domain {
        Some((name, zone)) => {
            Plan::new(app, &deployment.primary, &deployment.secondary).with_domain(name, zone)
        }
        None => Plan::new(app, &deployment.primary, &deployment.secondary),
    }
    .with_mode(mode);
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
                // The record is read whenever the primary answers.
                None => {
                    let tables = (deployment.user_replication)
                        .map_or(crate::names::ALL_GLOBAL_TABLES, crate::names::global_tables);
                    let (rows, settings) = futures::future::join(
                        links::dynamodb_replicas(aws, app, tables),
                        replicas::settings(aws, app, tables, &down),
                    )
                    .await;
                    replicas::merge(rows, settings)
                }
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
    if !down.contains_key(&aws.secondary.region) {
        checks.extend(modes::reverse_replication(aws, app, &account, mode).await);
        if primary_down.is_none() {
            checks.extend(objects::secondary_writes(aws, app, &account, mode).await);
        }
    }
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
    checks.extend(user_pool_checks(aws, &outputs, &down).await);
    checks.extend(promises::checks(aws, &plan, &outputs, &account, &down).await);
    checks.extend(moves::stray_instances(aws, &plan, &down).await);
    let tables = (deployment.user_replication)
        .map_or(crate::names::ALL_GLOBAL_TABLES, crate::names::global_tables);
    checks.extend(lag::lag_checks(aws, app, &account, tables, &down).await);
    checks.extend(alarms::alarm_checks(aws, app, &down).await);
    let (state_view, state_list) = state_checks;
    checks.extend(state_list);
    checks.extend(modes::serving_rows(mode, state_view.as_ref(), aws));
    // With a custom domain: health checks and what the API name answers.
    checks.extend(dns::status_checks(aws, app, owned, state_view.as_ref(), mode).await);

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
pub(super) async fn reachable(clients: &RegionClients) -> Result<(), String> {
    match clients
        .cfn
        .describe_stacks()
        .stack_name("mraa-reachability-probe")
        .customize()
        .config_override(probe_budget())
        .send()
        .await
    {
        Err(e) if is_unreachable(&e) => Err(sdk_message(&e)),
        _ => Ok(()),
    }
}

pub(super) type UnitOutputs = BTreeMap<(Unit, String), BTreeMap<String, String>>;
