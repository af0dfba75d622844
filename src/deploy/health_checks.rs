//! `mraa deploy --domain`: each region's health check, made so that no run
//! can orphan or duplicate one, and replaced (never changed in type) when an
//! earlier version made it differently.
//!
//! A check is created with a CallerReference fixed for the deployment, then
//! tagged. A run stopped between the two leaves an untagged check; the next
//! run finds it by that reference among the checks on the app's state path
//! and adopts it (tags it) instead of creating another. On AWS a create
//! retried with the same reference and settings also returns the existing
//! check (API Reference, CreateHealthCheck, CallerReference).
//!
//! A check of another type (the plain HTTPS checks that `mraa failover` used
//! to invert) cannot be changed into a string-matching one: the new check is
//! created, the records move to it in one change batch, and only then is the
//! old one deleted. Each step is found done on a re-run, so an interrupted
//! migration finishes where it stopped.

use aws_sdk_route53 as r53;
use r53::types::{HealthCheckRegion, Tag, TagResourceType};

use crate::aws::{aws_error, sdk_message};
use crate::context::Ctx;
use crate::error::Result;
use crate::wire::Verdict;
use crate::wire::WireOutcome;
use crate::wire::dns::Found;
use crate::wire::dns_identity::{SEARCH_STRING, check_tags};
use crate::wire::route53::{self, DesiredCheck, FAILURE_THRESHOLD, GLOBAL, OwnedCheck, STEP};

/// Creates, adopts or updates one region's health check; returns its id.
pub(super) async fn ensure(
    ctx: &Ctx,
    client: &r53::Client,
    (zone, domain): (&str, &str),
    desired: &DesiredCheck,
    found: &Found<'_>,
    outcome: &mut WireOutcome,
) -> Result<String> {
    let region = desired.region.as_str();
    let fail = |resource: &str, cause: String| aws_error(STEP, region, resource, cause);
    let config = desired.config().map_err(|e| fail("health check", e))?;
    let id = match found.existing() {
        Some((id, _)) => id.to_string(),
        None => {
            ctx.claim("deploy").await?;
            let created = client
                .create_health_check()
                .caller_reference(&found.reference)
                .health_check_config(config)
                .send()
                .await
                .map_err(|e| {
                    let hint = if e
                        .as_service_error()
                        .is_some_and(|s| s.is_health_check_already_exists())
                    {
                        format!(
                            "; the reference {} belongs to a check that was deleted or changed \
                             by hand: Route 53 keeps a deleted check's reference for some days, \
                             so retry later or run `mraa teardown` and deploy anew",
                            found.reference
                        )
                    } else {
                        String::new()
                    };
                    fail("health check", format!("{}{hint}", sdk_message(&e)))
                })?;
            outcome.mark(true);
            created
                .health_check()
                .map(|c| c.id().to_string())
                .ok_or_else(|| fail("health check", "created, but no id returned".into()))?
        }
    };
    // A check just created has the wanted settings: nothing to update.
    if !found.updates(desired).is_empty() {
        ctx.claim("deploy").await?;
        let mut update = client
            .update_health_check()
            .health_check_id(&id)
            .fully_qualified_domain_name(&desired.fqdn)
            .resource_path(&desired.path)
            .search_string(SEARCH_STRING)
            .port(443)
            .failure_threshold(FAILURE_THRESHOLD)
            .enable_sni(true)
            // The state item decides now: an inversion is an earlier
            // version's failover switch, or someone's by hand.
            .inverted(false);
        for r in &desired.regions {
            update = update.regions(HealthCheckRegion::from(r.as_str()));
        }
        update
            .send()
            .await
            .map_err(|e| fail(&format!("health check {id}"), sdk_message(&e)))?;
        outcome.mark(true);
    }
    if !found.tagged(zone, domain) {
        ctx.claim("deploy").await?;
        let tags = check_tags(&ctx.app, region, domain, zone)
            .into_iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        client
            .change_tags_for_resource()
            .resource_type(TagResourceType::Healthcheck)
            .resource_id(&id)
            .set_add_tags(Some(tags))
            .send()
            .await
            .map_err(|e| fail(&format!("tags of health check {id}"), sdk_message(&e)))?;
        outcome.mark(true);
    }
    // Verify: read it back.
    let read = client
        .get_health_check()
        .health_check_id(&id)
        .send()
        .await
        .map_err(|e| fail(&format!("health check {id}"), sdk_message(&e)))?;
    let diff = desired.differences(read.health_check().and_then(|c| c.health_check_config()));
    if !diff.is_empty() {
        return Err(fail(
            &format!("health check {id}"),
            format!("read back with a different {}", diff.join(", ")),
        ));
    }
    outcome.check(region, Verdict::Ok);
    Ok(id)
}

/// Deletes the checks that were replaced, once no record carries them.
/// One already gone counts as deleted (a re-run after an interruption).
pub(super) async fn retire(
    ctx: &Ctx,
    client: &r53::Client,
    replaced: &[OwnedCheck],
    outcome: &mut WireOutcome,
) -> Result<()> {
    for old in replaced {
        ctx.claim("deploy").await?;
        route53::delete_check(client, &old.id).await.map_err(|e| {
            aws_error(
                STEP,
                GLOBAL,
                format!("replaced health check {} ({})", old.id, old.region),
                e,
            )
        })?;
        outcome.mark(true);
    }
    Ok(())
}
