//! The custom domain's health checks and records a deploy would write, from
//! the reads deploy makes and its own decisions (`wire::dns`). Read only:
//! Route 53 is never changed here.

use aws_sdk_route53::types::{ChangeAction, ResourceRecordSet};

use crate::aws::{Aws, sdk_message};
use crate::context::Outputs;
use crate::error::Result;
use crate::plan::{Plan, Unit};
use crate::wire::dns::{self, Found, api_records, site_alias_records};
use crate::wire::dns_identity::{same_name, served_region};
use crate::wire::route53::{GLOBAL, STEP};

use super::report::WiringDiff;
use super::units::fail;

/// The health check id a record would carry when deploy creates its check:
/// no stored record carries it, so the record counts as one to write.
const NEW_CHECK: &str = "(the new health check)";

pub async fn compare(aws: &Aws, plan: &Plan, outputs: &Outputs) -> Result<Vec<WiringDiff>> {
    let Some(domain) = &plan.domain else {
        return Ok(Vec::new());
    };
    // Without the routing and api-domain units' outputs, a deploy makes
    // those units first: what DNS would point at does not exist yet.
    let Ok(wanted) = dns::checks_wanted(plan, outputs) else {
        return Ok(Vec::new());
    };
    let (app, name, zone) = (
        plan.app.as_str(),
        domain.name.as_str(),
        domain.hosted_zone_id.as_str(),
    );
    let distribution = distribution_domain(aws, outputs).await?;
    let client = aws.route53();
    let read = dns::read(&client, app, name, zone, distribution.is_some()).await?;
    let deployment = dns::deployment_id(&aws.primary.cfn, app, &aws.primary.region).await?;

    let mut found = Vec::new();
    let mut desired = Vec::new();
    for wanted in &wanted {
        let check = &wanted.check;
        let region = check.region.as_str();
        let mut say = |change: String| {
            found.push(WiringDiff {
                step: STEP.into(),
                region: region.into(),
                change,
            })
        };
        let existing = Found::of(check, &read, app, &deployment);
        let outdated: Vec<&str> = existing.outdated.iter().map(|c| c.id.as_str()).collect();
        let id = match existing.existing() {
            None => {
                say(format!(
                    "create the health check on https://{}{}",
                    check.fqdn, check.path
                ));
                NEW_CHECK.to_string()
            }
            Some((id, _)) => {
                let updates = existing.updates(check);
                if !updates.is_empty() {
                    say(format!(
                        "update the health check {id}: {}",
                        updates.join(", ")
                    ));
                }
                if existing.current.is_none() {
                    say(format!("adopt the untagged health check {id}"));
                } else if !existing.tagged(zone, name) {
                    say(format!(
                        "tag the health check {id} with {name} and zone {zone}"
                    ));
                }
                id.to_string()
            }
        };
        if !outdated.is_empty() {
            say(format!(
                "replace the health check {} (of another type): delete it once the record \
                 carries {id}",
                outdated.join(", ")
            ));
        }
        desired
            .extend(api_records(app, name, wanted, &id).map_err(|e| fail(STEP, region, name, e))?);
    }
    if let Some(distribution) = &distribution {
        desired.extend(
            site_alias_records(app, name, distribution).map_err(|e| fail(STEP, GLOBAL, name, e))?,
        );
    }
    let existing: Vec<&ResourceRecordSet> = read
        .api_records
        .iter()
        .chain(read.site_records.iter())
        .collect();
    for (action, record) in dns::record_changes(app, &desired, &existing) {
        let (region, what) = described(plan, &record);
        let change = match action {
            ChangeAction::Delete => format!("delete the record {what} (of an earlier type)"),
            _ => format!(
                "write the record {what}: {}",
                differences(&record, &existing).join(", ")
            ),
        };
        found.push(WiringDiff {
            step: STEP.into(),
            region,
            change,
        });
    }
    // A change of domain: the earlier name's records go once the new ones
    // are written and read back (as `deploy::dns` does).
    for (old_zone, old) in dns::previous_places(&read, name) {
        let sets = dns::owned_records(&client, app, (&old_zone, &old))
            .await
            .map_err(|e| fail(STEP, GLOBAL, &old, e))?;
        for record in sets {
            let (region, what) = described(plan, &record);
            found.push(WiringDiff {
                step: STEP.into(),
                region,
                change: format!(
                    "delete the record {what} of the earlier domain {old}, once {name}'s answer"
                ),
            });
        }
    }
    Ok(found)
}

/// The region a record serves (or global) and how the plan names it.
fn described(plan: &Plan, record: &ResourceRecordSet) -> (String, String) {
    let region = served_region(
        &plan.app,
        record.set_identifier(),
        &plan.primary,
        &plan.secondary,
    )
    .unwrap_or_else(|| GLOBAL.to_string());
    let what = format!(
        "{} {} ({})",
        record.name().trim_end_matches('.'),
        record.r#type().as_str(),
        record.set_identifier().unwrap_or_default()
    );
    (region, what)
}

/// The CloudFront distribution's domain, which the site records alias, as
/// deploy reads it after the edge. `None`: no edge, no site records.
async fn distribution_domain(aws: &Aws, outputs: &Outputs) -> Result<Option<String>> {
    let region = &aws.primary.region;
    let Some(id) = outputs.get(Unit::Edge, region, "DistributionId") else {
        return Ok(None);
    };
    let out = aws
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| fail(STEP, region, &format!("distribution {id}"), sdk_message(&e)))?;
    Ok(out.distribution().map(|d| d.domain_name().to_string()))
}

/// What a record to write changes in the stored one of its name, type and
/// set identifier: its settings, or that there is none yet.
fn differences(record: &ResourceRecordSet, existing: &[&ResourceRecordSet]) -> Vec<String> {
    let Some(stored) = existing.iter().find(|e| {
        same_name(e.name(), record.name())
            && e.r#type() == record.r#type()
            && e.set_identifier() == record.set_identifier()
    }) else {
        return vec!["new".into()];
    };
    let alias = |r: &ResourceRecordSet| {
        r.alias_target().map(|a| {
            (
                a.dns_name().trim_end_matches('.').to_ascii_lowercase(),
                a.hosted_zone_id().to_string(),
            )
        })
    };
    let mut said = Vec::new();
    if stored.health_check_id() != record.health_check_id() {
        said.push(format!(
            "health check {} → {}",
            stored.health_check_id().unwrap_or("none"),
            record.health_check_id().unwrap_or("none")
        ));
    }
    let values = |r: &ResourceRecordSet| -> Vec<String> {
        r.resource_records()
            .iter()
            .map(|v| v.value().to_string())
            .collect()
    };
    if values(stored) != values(record) {
        said.push(format!(
            "value {} → {}",
            values(stored).join(" "),
            values(record).join(" ")
        ));
    }
    if alias(stored) != alias(record) {
        said.push(format!(
            "target {} → {}",
            alias(stored).map(|a| a.0).unwrap_or_else(|| "none".into()),
            alias(record).map(|a| a.0).unwrap_or_else(|| "none".into())
        ));
    }
    if stored.failover() != record.failover() {
        said.push("failover role".into());
    }
    if stored.weight() != record.weight() || stored.ttl() != record.ttl() {
        said.push("weight or TTL".into());
    }
    if said.is_empty() {
        said.push("settings".into());
    }
    said
}
