//! The final account of a deploy, decided from the steps' results alone:
//! what changed, what could not be verified, where the deployment answers.
//! Shown by `view.rs` for people, or serialized as one JSON object.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::MraaError;
use crate::plan::Unit;
use crate::wire::{self, Verdict};

use crate::context::{Change, Ctx, Outputs};

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

pub(super) fn checks_of(outcome: wire::WireOutcome) -> Vec<Check> {
    outcome
        .checks
        .into_iter()
        .map(|(region, verdict)| Check { region, verdict })
        .collect()
}

/// The version of deploy's JSON (its summary and `--outputs-file`): 2 since
/// the endpoints' fields are snake_case like every other command's.
pub const SCHEMA_VERSION: u32 = 2;

/// The final account of a deploy: printed for people, or one JSON object.
#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) schema_version: u32,
    pub(super) result: &'static str,
    pub(super) no_changes: bool,
    pub(super) app: String,
    pub(super) account: String,
    pub(super) primary: String,
    pub(super) secondary: String,
    pub(super) elapsed_s: f64,
    pub(super) steps: Vec<StepResult>,
    pub(super) unverified: Vec<Unverified>,
    pub(super) endpoints: Endpoints,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Unverified {
    pub(super) step: String,
    pub(super) region: String,
    pub(super) reason: String,
}

/// What a user or a pipeline needs to reach the deployment. snake_case, as
/// every JSON object mraa prints (schema version 2; version 1 had these
/// fields in camelCase, the site's config.json keeps that form).
#[derive(Debug, Serialize)]
pub struct Endpoints {
    pub(super) site_url: Option<String>,
    /// With a custom domain: the site's and the APIs' custom names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) custom_domain: Option<wire::site::DomainUrls>,
    pub(super) regions: BTreeMap<String, RegionOutputs>,
}

#[derive(Debug, Serialize)]
pub(super) struct RegionOutputs {
    pub(super) state_url: Option<String>,
    pub(super) api_url: Option<String>,
    pub(super) user_pool_id: Option<String>,
    pub(super) user_pool_client_id: Option<String>,
    pub(super) object_bucket: String,
    pub(super) website_bucket: String,
    pub(super) tables: Vec<String>,
}

/// Which deployment a summary is of, and how long the run took.
pub(super) struct Deployed<'a> {
    pub(super) app: &'a str,
    pub(super) account: &'a str,
    pub(super) primary: &'a str,
    pub(super) secondary: &'a str,
    pub(super) domain: Option<&'a str>,
    pub(super) user_replication: crate::plan::UserReplication,
    pub(super) elapsed_s: f64,
}

impl<'a> Deployed<'a> {
    pub(super) fn of(ctx: &'a Ctx) -> Deployed<'a> {
        Deployed {
            app: &ctx.app,
            account: &ctx.account,
            primary: &ctx.aws.primary.region,
            secondary: &ctx.aws.secondary.region,
            domain: ctx.plan.domain.as_ref().map(|d| d.name.as_str()),
            user_replication: ctx.plan.user_replication,
            elapsed_s: (ctx.reporter.elapsed().as_millis() as f64) / 1000.0,
        }
    }
}

impl Summary {
    /// Decided from the results alone: no call, no output.
    pub(super) fn new(
        run: &Deployed<'_>,
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
        let app = run.app;
        let regions = [run.primary, run.secondary]
            .iter()
            .map(|&region| {
                let endpoints = wire::site::endpoints(app, region, outputs);
                let outputs = RegionOutputs {
                    state_url: endpoints.state_url,
                    api_url: endpoints.api_url,
                    user_pool_id: endpoints.user_pool_id,
                    user_pool_client_id: endpoints.user_pool_client_id,
                    object_bucket: crate::names::bucket_name(app, "objects", run.account, region),
                    website_bucket: crate::names::bucket_name(app, "website", run.account, region),
                    tables: crate::names::global_tables(run.user_replication)
                        .iter()
                        .map(|t| crate::names::table_name(app, t))
                        .collect(),
                };
                (region.to_string(), outputs)
            })
            .collect();
        Summary {
            kind: "summary",
            schema_version: SCHEMA_VERSION,
            result: if failure.is_some() { "failed" } else { "ok" },
            no_changes: failure.is_none() && steps.iter().all(|s| s.change == Change::Unchanged),
            app: app.to_string(),
            account: run.account.to_string(),
            primary: run.primary.to_string(),
            secondary: run.secondary.to_string(),
            elapsed_s: run.elapsed_s,
            steps,
            unverified,
            endpoints: Endpoints {
                site_url: site_domain.map(|d| format!("https://{d}")),
                custom_domain: run
                    .domain
                    .map(|d| wire::site::CustomDomain::new(app, d).for_report()),
                regions,
            },
            error: failure.map(|e| e.to_string()),
        }
    }
}
