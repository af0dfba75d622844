//! `mraa deploy --domain`: the refusals before any change, then the health
//! checks and the failover and site records (see `wire::dns_identity` for the
//! ownership rules they follow). A change of domain writes the new name's
//! records first and only then deletes the old name's.

use aws_sdk_route53 as r53;
use r53::types::{Change as RecordChange, ChangeBatch};

use crate::aws::{Aws, aws_error, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::wire::dns::{self, Found, ZoneRead, api_records, same_record, site_alias_records};
use crate::wire::dns_identity::api_name;
use crate::wire::route53::{DomainRequest, GLOBAL, STEP, find_zone, foreign, records_named};
use crate::wire::{Verdict, WireOutcome};

use super::health_checks;

/// Refuses before any change names taken by records mraa does not own.
/// Another domain this app served is no refusal: a change of domain moves
/// the records (see [`wire`]). Returns what it read.
async fn refusals(
    client: &r53::Client,
    app: &str,
    domain: &str,
    (zone, zone_name): (&str, &str),
    check_site: bool,
) -> Result<ZoneRead> {
    let fail = |resource: &str, cause: String| aws_error(STEP, GLOBAL, resource, cause);
    let read = dns::read(client, app, domain, zone, check_site).await?;
    let taken: Vec<String> = foreign(app, &read.api_records, true)
        .into_iter()
        .chain(foreign(app, &read.site_records, false))
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
    Ok(read)
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
    let wanted = dns::checks_wanted(&ctx.plan, outputs)?;
    let (zone, zone_name) = find_zone(&client, domain, request.hosted_zone_id.as_deref()).await?;
    let api = api_name(domain);

    let read = refusals(
        &client,
        app,
        domain,
        (&zone, &zone_name),
        request.distribution_domain.is_some(),
    )
    .await?;

    let mut outcome = WireOutcome::new(Change::Unchanged);
    let deployment = dns::deployment_id(&ctx.aws.primary.cfn, app, &ctx.aws.primary.region).await?;
    let mut desired_records = Vec::new();
    let mut replaced = Vec::new();
    for wanted in &wanted {
        let found = Found::of(&wanted.check, &read, app, &deployment);
        let check = health_checks::ensure(
            ctx,
            &client,
            (&zone, domain),
            &wanted.check,
            &found,
            &mut outcome,
        )
        .await?;
        replaced.extend(found.outdated.into_iter().cloned());
        desired_records
            .extend(api_records(app, domain, wanted, &check).map_err(|e| fail(&api, e))?);
    }

    // The records: UPSERT only those that differ.
    if let Some(distribution) = &request.distribution_domain {
        desired_records
            .extend(site_alias_records(app, domain, distribution).map_err(|e| fail(domain, e))?);
    }
    let existing: Vec<&r53::types::ResourceRecordSet> = read
        .api_records
        .iter()
        .chain(read.site_records.iter())
        .collect();
    let changes = dns::record_changes(app, &desired_records, &existing)
        .into_iter()
        .map(|(action, record)| {
            RecordChange::builder()
                .action(action)
                .resource_record_set(record)
                .build()
                .map_err(|e| fail(&api, e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
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
    // A domain change: the new name answers (read back above), so the old
    // name's records go. The checks stay: they watch each region's own state
    // API, not a name, and `ensure` retagged them for the new domain.
    for (old_zone, old) in dns::previous_places(&read, domain) {
        let sets = dns::owned_records(&client, app, (&old_zone, &old))
            .await
            .map_err(|e| fail(&old, e))?;
        if sets.is_empty() {
            continue;
        }
        ctx.claim("deploy").await?;
        let sets: Vec<_> = sets.iter().collect();
        dns::delete_records(
            &client,
            &old_zone,
            &sets,
            &format!("mraa {app}: {old} replaced by {domain}"),
        )
        .await
        .map_err(|e| fail(&old, e))?;
        outcome.mark(true);
        let left = dns::owned_records(&client, app, (&old_zone, &old))
            .await
            .map_err(|e| fail(&old, e))?;
        if !left.is_empty() {
            return Err(fail(
                &format!("records of {old} in zone {old_zone}"),
                format!(
                    "{} still present after deletion; run `mraa deploy --domain {domain}` again",
                    left.len()
                ),
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

/// `mraa deploy --no-domain`, once the edge no longer carries the name: the
/// app's records of the domain, then its health checks (records first, as
/// Route 53 refuses to delete a check a record still uses), read back gone.
pub async fn remove(ctx: &Ctx, (zone, domain): &(String, String)) -> Result<()> {
    let fail = |cause: String| {
        aws_error(
            STEP,
            GLOBAL,
            format!("custom domain {domain} in zone {zone}"),
            format!("{cause}; run `mraa deploy --no-domain` again"),
        )
    };
    let place = [(zone.clone(), domain.clone())];
    let found = crate::wire::dns_removal::inventory(&ctx.aws, &ctx.app, &place)
        .await
        .map_err(fail)?;
    if found.is_empty() {
        return Ok(());
    }
    ctx.claim("deploy").await?;
    let deleted = crate::wire::dns_removal::delete(&ctx.aws, &ctx.app, &found)
        .await
        .map_err(fail)?;
    ctx.reporter.note(&format!(
        "custom domain {domain} removed: {}",
        deleted.join(", ")
    ));
    Ok(())
}

/// `mraa deploy --no-domain`, once no record and no alias uses them: the
/// api-domain StackSet (its instances in each Region, then the set), then
/// the site-certificate stack in us-east-1, each read back gone. A
/// certificate still attached answers `ResourceInUseException` (ACM API
/// Reference, DeleteCertificate), hence the edge update and the records
/// before them.
pub async fn remove_units(ctx: &Ctx) -> Result<()> {
    use crate::cfn::{stack, stack_set};
    use crate::plan::{CERTIFICATE_REGION, Unit};
    let cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    let set = crate::names::stack_name(&ctx.app, Unit::ApiDomain.id());
    let again = "; run `mraa deploy --no-domain` again";
    let fail_set =
        |cause: String| aws_error(Unit::ApiDomain.id(), home, &set, format!("{cause}{again}"));
    if stack_set::describe(cfn, &set)
        .await
        .map_err(fail_set)?
        .is_some()
    {
        ctx.claim("deploy").await?;
        let regions: Vec<String> = ctx.aws.regions().iter().map(|r| r.region.clone()).collect();
        let operation = ctx.operation_id(Unit::ApiDomain.id(), "remove");
        let sent = cfn
            .delete_stack_instances()
            .stack_set_name(&set)
            .accounts(&ctx.account)
            .set_regions(Some(regions))
            .retain_stacks(false)
            .operation_id(&operation)
            .send()
            .await
            .map_err(|e| fail_set(sdk_message(&e)))?;
        let operation = sent.operation_id().unwrap_or(&operation).to_string();
        stack_set::await_operation(cfn, ctx.aws.custom_endpoint, &set, &operation)
            .await
            .map_err(|end| match end {
                stack_set::OperationEnd::Failed => fail_set(format!(
                    "deleting its instances (operation {operation}) failed"
                )),
                stack_set::OperationEnd::Other(cause) => fail_set(cause),
            })?;
        cfn.delete_stack_set()
            .stack_set_name(&set)
            .send()
            .await
            .map_err(|e| fail_set(sdk_message(&e)))?;
        if stack_set::describe(cfn, &set)
            .await
            .map_err(fail_set)?
            .is_some()
        {
            return Err(fail_set("still listed after deleting it".into()));
        }
    }
    let name = crate::names::stack_name(&ctx.app, Unit::SiteCertificate.id());
    let fail_stack = |cause: String| {
        aws_error(
            Unit::SiteCertificate.id(),
            CERTIFICATE_REGION,
            &name,
            format!("{cause}{again}"),
        )
    };
    let certificates = &ctx.aws.cfn_in(CERTIFICATE_REGION);
    if let Some(found) = stack::describe(certificates, &name)
        .await
        .map_err(fail_stack)?
    {
        ctx.claim("deploy").await?;
        // By id: this very stack, even if another of that name appears.
        let id = found.stack_id().unwrap_or(&name).to_string();
        certificates
            .delete_stack()
            .stack_name(&id)
            .send()
            .await
            .map_err(|e| fail_stack(sdk_message(&e)))?;
        if let Some(status) = stack::wait_for(certificates, ctx.aws.custom_endpoint, &id)
            .await
            .map_err(fail_stack)?
        {
            let cause = stack::root_cause(certificates, &id).await;
            return Err(fail_stack(format!(
                "stack ended {}: {cause}",
                status.as_str()
            )));
        }
    }
    ctx.reporter.note(&format!(
        "custom domain units removed: StackSet {set} and stack {name} ({CERTIFICATE_REGION})"
    ));
    Ok(())
}
