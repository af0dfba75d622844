//! The steps after the graph, each only when asked for: the admin user,
//! then the custom domain's records and health checks. Each is run, checked
//! through the service's own API, and reported.

use crate::config::Settings;
use crate::error::MraaError;
use crate::wire::{self};

use super::schedule::finish_step;
use super::summary::StepResult;
use crate::context::{Ctx, Outputs};

/// Runs the post-graph steps unless the graph failed; the first failure
/// stops them.
pub(super) async fn run_after_graph(
    ctx: &Ctx,
    settings: &Settings,
    outputs: &Outputs,
    domain: Option<crate::wire::route53::DomainRequest>,
    results: &mut Vec<StepResult>,
) -> Option<MraaError> {
    if settings.admin.email.is_some() {
        match wire::admin::wire(ctx, outputs, &settings.admin).await {
            Ok(outcome) => results.push(finish_step(ctx, wire::admin::STEP, outcome)),
            Err(err) => return Some(err),
        }
    }
    // The custom domain only when asked for: without it, not one Route 53
    // call is made.
    if let Some(request) = domain {
        match super::dns::wire(ctx, outputs, &request).await {
            Ok(outcome) => results.push(finish_step(ctx, wire::route53::STEP, outcome)),
            Err(err) => return Some(err),
        }
    }
    None
}
