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

/// What a user or a pipeline needs to reach the deployment (camelCase, as
/// the site's config.json it shares fields with).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub(super) site_url: Option<String>,
    /// With a custom domain: the site's and the APIs' custom names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) custom_domain: Option<wire::site::CustomDomain>,
    pub(super) regions: BTreeMap<String, RegionOutputs>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RegionOutputs {
    #[serde(flatten)]
    pub(super) endpoints: wire::site::RegionEndpoints,
    pub(super) object_bucket: String,
    pub(super) website_bucket: String,
    pub(super) tables: Vec<String>,
}

impl Summary {
    pub(super) fn new(
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
}
