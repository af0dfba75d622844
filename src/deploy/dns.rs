//! `mraa deploy --domain`: the refusals before any change, then the health
//! checks and the failover and site records (see `wire::route53` for the
//! ownership rules they follow).

use aws_sdk_route53 as r53;
use r53::types::{
    AliasTarget, Change as RecordChange, ChangeAction, ChangeBatch, HealthCheck, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};

use crate::aws::{Aws, aws_error, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::plan::{RegionRole, Unit};
use crate::wire::route53::{
    CLOUDFRONT_ZONE, DesiredCheck, DomainRequest, GLOBAL, OwnedCheck, STEP, api_name,
    checker_regions, find_zone, foreign, is_ours, owned_among, records_named, same_name,
    set_identifier, site_identifier, split_url, state_path_checks,
};
use crate::wire::{Verdict, WireOutcome};

use super::health_checks;

/// Where one region's API is served under the custom domain: its API
/// Gateway regional custom domain (from the api-domain unit's outputs).
#[derive(Debug, Clone)]
struct ApiTarget {
    dns_name: String,
    hosted_zone_id: String,
}

fn api_record(
    app: &str,
    domain: &str,
    role: RegionRole,
    target: &ApiTarget,
    check: &str,
) -> std::result::Result<ResourceRecordSet, String> {
    ResourceRecordSet::builder()
        .name(api_name(domain))
        .r#type(RrType::A)
        .set_identifier(set_identifier(app, role))
        .failover(match role {
            RegionRole::Primary => ResourceRecordSetFailover::Primary,
            RegionRole::Secondary => ResourceRecordSetFailover::Secondary,
        })
        .health_check_id(check)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&target.hosted_zone_id)
                .dns_name(&target.dns_name)
                // The health check decides; the target's own health is not
                // evaluated (API Gateway reports none).
                .evaluate_target_health(false)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .build()
        .map_err(|e| e.to_string())
}

/// The site name as weighted aliases (weight 100, the only ones), A and
/// AAAA (the distribution serves IPv6): a plain alias cannot carry a set
/// identifier, and the identifier is what marks the record as mraa's.
fn site_alias_records(
    app: &str,
    domain: &str,
    distribution: &str,
) -> std::result::Result<Vec<ResourceRecordSet>, String> {
    [RrType::A, RrType::Aaaa]
        .into_iter()
        .map(|kind| {
            ResourceRecordSet::builder()
                .name(domain)
                .r#type(kind)
                .set_identifier(site_identifier(app))
                .weight(100)
                .alias_target(
                    AliasTarget::builder()
                        .hosted_zone_id(CLOUDFRONT_ZONE)
                        .dns_name(distribution)
                        .evaluate_target_health(false)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Two record sets say the same (names and values compared as DNS does).
fn same_record(a: &ResourceRecordSet, b: &ResourceRecordSet) -> bool {
    let values = |r: &ResourceRecordSet| -> Vec<String> {
        let mut v: Vec<String> = r
            .resource_records()
            .iter()
            .map(|rr| rr.value().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        v.sort();
        v
    };
    let alias = |r: &ResourceRecordSet| {
        r.alias_target().map(|a| {
            (
                a.hosted_zone_id().to_string(),
                a.dns_name().trim_end_matches('.').to_ascii_lowercase(),
                a.evaluate_target_health(),
            )
        })
    };
    same_name(a.name(), b.name())
        && a.r#type() == b.r#type()
        && a.set_identifier() == b.set_identifier()
        && a.failover() == b.failover()
        && a.weight() == b.weight()
        && a.ttl() == b.ttl()
        && a.health_check_id() == b.health_check_id()
        && values(a) == values(b)
        && alias(a) == alias(b)
}

fn checks_wanted(
    ctx: &Ctx,
    outputs: &Outputs,
) -> Result<Vec<(RegionRole, DesiredCheck, ApiTarget)>> {
    let regions = checker_regions(&ctx.aws.primary.region, &ctx.aws.secondary.region);
    [RegionRole::Primary, RegionRole::Secondary]
        .into_iter()
        .map(|role| {
            let region = ctx.plan.region_of(role).to_string();
            let missing = |output: &str| {
                aws_error(
                    STEP,
                    &region,
                    output,
                    "the stack output is missing: the layer that makes it is not deployed",
                )
            };
            let (fqdn, base) = outputs
                .get(Unit::Routing, &region, "StateApiUrl")
                .and_then(split_url)
                .ok_or_else(|| missing("routing StateApiUrl"))?;
            let output = |key: &str| {
                outputs
                    .get(Unit::ApiDomain, &region, key)
                    .map(str::to_string)
                    .ok_or_else(|| missing(&format!("api-domain {key}")))
            };
            let target = ApiTarget {
                dns_name: output("RegionalDomainName")?,
                hosted_zone_id: output("RegionalHostedZoneId")?,
            };
            // The check goes to the region's own state API, not to the
            // custom name: it must see that region whatever DNS answers.
            Ok((
                role,
                DesiredCheck {
                    region,
                    fqdn,
                    path: format!("{base}{}", ctx.app),
                    regions: regions.clone(),
                },
                target,
            ))
        })
        .collect()
}

/// What `refusals` read: the records of the API name and of the site name,
/// the app's health checks, and every check on its state path.
type Read = (
    Vec<ResourceRecordSet>,
    Vec<ResourceRecordSet>,
    Vec<OwnedCheck>,
    Vec<HealthCheck>,
);

/// Refuses before any change: names taken by records mraa does not own, or
/// this app already serving another domain. Returns what it read.
async fn refusals(
    client: &r53::Client,
    app: &str,
    domain: &str,
    (zone, zone_name): (&str, &str),
    check_site: bool,
) -> Result<Read> {
    let fail = |resource: &str, cause: String| aws_error(STEP, GLOBAL, resource, cause);
    let api = api_name(domain);
    let api_records = records_named(client, zone, &api)
        .await
        .map_err(|e| fail(&api, e))?;
    let site_records = match check_site {
        true => records_named(client, zone, domain)
            .await
            .map_err(|e| fail(domain, e))?,
        false => Vec::new(),
    };
    let taken: Vec<String> = foreign(app, &api_records, true)
        .into_iter()
        .chain(foreign(app, &site_records, false))
        .collect();
    if !taken.is_empty() {
        return Err(fail(
            &format!("hosted zone {zone} ({zone_name})"),
            format!(
                "refusing to change DNS: {} already exist{} and {} not mraa's (no set identifier mraa-{app}-primary/-secondary/-site); \
                 nothing was changed: delete or rename {} yourself, or deploy with another --domain",
                taken.join(", "),
                if taken.len() == 1 { "s" } else { "" },
                if taken.len() == 1 { "is" } else { "are" },
                if taken.len() == 1 { "it" } else { "them" },
            ),
        ));
    }
    let candidates = state_path_checks(client, app)
        .await
        .map_err(|e| fail("health checks", e))?;
    let owned = owned_among(client, app, &candidates)
        .await
        .map_err(|e| fail("health checks", e))?;
    if let Some(other) = owned
        .iter()
        .find(|c| c.domain.as_deref().is_some_and(|d| d != domain))
    {
        return Err(fail(
            &format!("health check {}", other.id),
            format!(
                "app {app} already has the custom domain {}; nothing was changed: deploy with --domain {} or run `mraa teardown` first",
                other.domain.as_deref().unwrap_or_default(),
                other.domain.as_deref().unwrap_or_default(),
            ),
        ));
    }
    Ok((api_records, site_records, owned, candidates))
}

/// Before `mraa deploy` changes anything: the zone exists (one), and no
/// name mraa would write is taken by someone else. Read only.
/// Returns the zone's id.
pub async fn preflight(aws: &Aws, app: &str, request: &DomainRequest) -> Result<String> {
    let client = aws.route53();
    let (zone, zone_name) =
        find_zone(&client, &request.domain, request.hosted_zone_id.as_deref()).await?;
    refusals(&client, app, &request.domain, (&zone, &zone_name), true).await?;
    Ok(zone)
}

/// The deploy step. Makes no mutating call when everything matches.
pub async fn wire(ctx: &Ctx, outputs: &Outputs, request: &DomainRequest) -> Result<WireOutcome> {
    let client = ctx.aws.route53();
    let app = &ctx.app;
    let domain = request.domain.as_str();
    let fail = |resource: &str, cause: String| aws_error(STEP, GLOBAL, resource, cause);
    let wanted = checks_wanted(ctx, outputs)?;
    let (zone, zone_name) = find_zone(&client, domain, request.hosted_zone_id.as_deref()).await?;
    let api = api_name(domain);

    let (api_records, site_records, owned, candidates) = refusals(
        &client,
        app,
        domain,
        (&zone, &zone_name),
        request.distribution_domain.is_some(),
    )
    .await?;

    let mut outcome = WireOutcome::new(Change::Unchanged);
    let deployment = health_checks::deployment_id(ctx).await?;
    let mut desired_records = Vec::new();
    let mut replaced = Vec::new();
    for (role, desired, target) in &wanted {
        let found = health_checks::Found::of(desired, &owned, &candidates, app, &deployment);
        let check =
            health_checks::ensure(ctx, &client, (&zone, domain), desired, &found, &mut outcome)
                .await?;
        replaced.extend(found.outdated.into_iter().cloned());
        desired_records
            .push(api_record(app, domain, *role, target, &check).map_err(|e| fail(&api, e))?);
    }

    // The records: UPSERT only those that differ.
    if let Some(distribution) = &request.distribution_domain {
        desired_records
            .extend(site_alias_records(app, domain, distribution).map_err(|e| fail(domain, e))?);
    }
    let existing: Vec<&ResourceRecordSet> = api_records.iter().chain(site_records.iter()).collect();
    let change = |action: ChangeAction, record: &ResourceRecordSet| {
        RecordChange::builder()
            .action(action)
            .resource_record_set(record.clone())
            .build()
            .map_err(|e| fail(&api, e.to_string()))
    };
    let mut changes = Vec::new();
    // One of mraa's records under the same identifier but of another type
    // (an earlier version's CNAME) goes in the same atomic batch.
    for old in existing.iter().filter(|e| {
        is_ours(app, e.set_identifier())
            && desired_records.iter().any(|d| {
                same_name(d.name(), e.name())
                    && d.set_identifier() == e.set_identifier()
                    && d.r#type() != e.r#type()
                    && !desired_records.iter().any(|o| same_record(o, e))
            })
    }) {
        changes.push(change(ChangeAction::Delete, old)?);
    }
    for record in &desired_records {
        if !existing.iter().any(|e| same_record(e, record)) {
            changes.push(change(ChangeAction::Upsert, record)?);
        }
    }
    if !changes.is_empty() {
        ctx.claim("deploy").await?;
        client
            .change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(
                ChangeBatch::builder()
                    .comment(format!("mraa {app}: failover records of {domain}"))
                    .set_changes(Some(changes))
                    .build()
                    .map_err(|e| fail(&api, e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| fail(&format!("records of {api} in zone {zone}"), sdk_message(&e)))?;
        outcome.mark(true);
    }

    // Verify: read every record back.
    let mut after = records_named(&client, &zone, &api)
        .await
        .map_err(|e| fail(&api, e))?;
    if request.distribution_domain.is_some() {
        after.extend(
            records_named(&client, &zone, domain)
                .await
                .map_err(|e| fail(domain, e))?,
        );
    }
    for record in &desired_records {
        if !after.iter().any(|a| same_record(a, record)) {
            return Err(fail(
                &format!(
                    "record {} {}",
                    record.name(),
                    record.set_identifier().unwrap_or_default()
                ),
                "not found as written when read back".into(),
            ));
        }
    }
    // Only now that no record carries them: the checks they replaced.
    health_checks::retire(ctx, &client, &replaced, &mut outcome).await?;
    outcome.check(GLOBAL, Verdict::Ok);
    if request.distribution_domain.is_none() {
        outcome.check(
            GLOBAL,
            Verdict::Unverified(format!(
                "site record {domain} not written: no CloudFront distribution is known (the \
                 endpoint did not create one)"
            )),
        );
    }
    Ok(outcome)
}
