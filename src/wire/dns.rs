//! The custom domain's Route 53 objects as a deploy wants them, and which of
//! them differ from what Route 53 holds. `deploy` acts on these decisions
//! (`deploy/dns.rs`, `deploy/health_checks.rs`) and `diff` reports them, so
//! both make the same reads and reach the same answer. Nothing here writes
//! but `delete_records`, shared by deploy's domain change and teardown.

use aws_sdk_route53 as r53;
use r53::types::builders::ResourceRecordSetBuilder;
use r53::types::{
    AliasTarget, ChangeAction, HealthCheck, HealthCheckConfig, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};

use crate::aws::aws_error;
use crate::cfn::stack;
use crate::context::Outputs;
use crate::error::Result;
use crate::names;
use crate::plan::{Plan, RegionRole, Unit};

use super::dns_identity::{
    api_name, is_ours, marker_identifier, marker_value, same_name, set_identifier, site_identifier,
};
use super::route53::{
    CLOUDFRONT_ZONE, DesiredCheck, GLOBAL, OwnedCheck, STEP, checker_regions, owned_among,
    records_named, split_url, state_path_checks,
};

/// The region marker's TTL: Route 53 recommends 60 seconds or less for a
/// record with a health check, so that clients see a change of health soon
/// (Developer Guide, "Values specific for failover records", TTL). Alias
/// records take their target's TTL.
pub const MARKER_TTL: i64 = 60;

/// Where one region's API is served under the custom domain: its API
/// Gateway regional custom domain (from the api-domain unit's outputs).
#[derive(Debug, Clone)]
pub struct ApiTarget {
    pub dns_name: String,
    pub hosted_zone_id: String,
}

/// One region's wanted health check, and where its failover record points.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub role: RegionRole,
    pub check: DesiredCheck,
    pub target: ApiTarget,
}

/// The health check and record target each region wants, from the routing
/// and api-domain units' outputs. An output missing means that unit is not
/// deployed.
pub fn checks_wanted(plan: &Plan, outputs: &Outputs) -> Result<Vec<Wanted>> {
    let regions = checker_regions(&plan.primary, &plan.secondary);
    [RegionRole::Primary, RegionRole::Secondary]
        .into_iter()
        .map(|role| {
            let region = plan.region_of(role).to_string();
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
            Ok(Wanted {
                role,
                check: DesiredCheck {
                    region,
                    fqdn,
                    path: format!("{base}{}", plan.app),
                    regions: regions.clone(),
                },
                target,
            })
        })
        .collect()
}

/// What deploy reads before deciding: the records of the API name and of
/// the site name, the app's health checks, and every check on its state
/// path.
pub struct ZoneRead {
    pub api_records: Vec<ResourceRecordSet>,
    pub site_records: Vec<ResourceRecordSet>,
    pub owned: Vec<OwnedCheck>,
    pub candidates: Vec<HealthCheck>,
}

/// The records mraa would write, as they are now, and the checks. The site
/// name is read only when a site record would be written. Read only.
pub async fn read(
    client: &r53::Client,
    app: &str,
    domain: &str,
    zone: &str,
    with_site: bool,
) -> Result<ZoneRead> {
    let fail = |resource: &str, cause: String| aws_error(STEP, GLOBAL, resource, cause);
    let api = api_name(domain);
    let api_records = records_named(client, zone, &api)
        .await
        .map_err(|e| fail(&api, e))?;
    let site_records = match with_site {
        true => records_named(client, zone, domain)
            .await
            .map_err(|e| fail(domain, e))?,
        false => Vec::new(),
    };
    let candidates = state_path_checks(client, app)
        .await
        .map_err(|e| fail("health checks", e))?;
    let owned = owned_among(client, app, &candidates)
        .await
        .map_err(|e| fail("health checks", e))?;
    Ok(ZoneRead {
        api_records,
        site_records,
        owned,
        candidates,
    })
}

/// What identifies this deployment's lifetime: the bootstrap stack's id,
/// which a teardown and a new deploy change (so that a reference of a
/// deleted check is never asked for again).
pub async fn deployment_id(
    cfn: &aws_sdk_cloudformation::Client,
    app: &str,
    region: &str,
) -> Result<String> {
    let name = names::stack_name(app, "bootstrap");
    let found = stack::describe(cfn, &name)
        .await
        .map_err(|e| aws_error(STEP, region, &name, e))?;
    found
        .and_then(|s| s.stack_id().map(str::to_string))
        .ok_or_else(|| aws_error(STEP, region, &name, "the bootstrap stack has no id"))
}

/// One region's checks as found: the one to keep (tagged, of the current
/// type), one to adopt (made by an interrupted run, untagged), and the
/// outdated ones that the records leave.
pub struct Found<'a> {
    pub current: Option<&'a OwnedCheck>,
    pub adoptable: Option<&'a HealthCheck>,
    pub outdated: Vec<&'a OwnedCheck>,
    pub reference: String,
}

impl<'a> Found<'a> {
    pub fn of(desired: &DesiredCheck, read: &'a ZoneRead, app: &str, deployment: &str) -> Self {
        let reference = desired.caller_reference(app, deployment);
        let mine: Vec<&OwnedCheck> = read
            .owned
            .iter()
            .filter(|c| c.region == desired.region)
            .collect();
        let current = mine.iter().copied().find(|c| !c.outdated());
        let outdated = mine
            .iter()
            .copied()
            .filter(|c| Some(c.id.as_str()) != current.map(|k| k.id.as_str()))
            .collect();
        let adoptable = match current {
            Some(_) => None,
            None => read
                .candidates
                .iter()
                .find(|c| c.caller_reference() == reference),
        };
        Found {
            current,
            adoptable,
            outdated,
            reference,
        }
    }

    /// The check deploy would keep (its id and settings); `None`: it
    /// creates one.
    pub fn existing(&self) -> Option<(&str, Option<&HealthCheckConfig>)> {
        match (self.current, self.adoptable) {
            (Some(current), _) => Some((&current.id, current.check.health_check_config())),
            (None, Some(adopted)) => Some((adopted.id(), adopted.health_check_config())),
            (None, None) => None,
        }
    }

    /// The settings deploy would update on the kept check (empty: none).
    pub fn updates(&self, desired: &DesiredCheck) -> Vec<&'static str> {
        match self.existing() {
            Some((_, Some(config))) => desired.differences(Some(config)),
            _ => Vec::new(),
        }
    }

    /// Whether the kept check already carries this domain's and zone's tags.
    pub fn tagged(&self, zone: &str, domain: &str) -> bool {
        self.current
            .is_some_and(|c| c.domain.as_deref() == Some(domain) && c.zone.as_deref() == Some(zone))
    }
}

/// One region's records at the API name, each carrying `check`: the
/// failover alias to its API, and the failover TXT record naming the region
/// (`wire::dns_identity`, the region marker).
pub fn api_records(
    app: &str,
    domain: &str,
    wanted: &Wanted,
    check: &str,
) -> std::result::Result<Vec<ResourceRecordSet>, String> {
    Ok(vec![
        api_record(app, domain, wanted.role, &wanted.target, check)?,
        marker_record(app, domain, wanted.role, &wanted.check.region, check)?,
    ])
}

/// What both of a region's records at the API name share: the name, the
/// region's failover role and its check.
fn failover_record(
    domain: &str,
    kind: RrType,
    identifier: String,
    role: RegionRole,
    check: &str,
) -> ResourceRecordSetBuilder {
    ResourceRecordSet::builder()
        .name(api_name(domain))
        .r#type(kind)
        .set_identifier(identifier)
        .failover(match role {
            RegionRole::Primary => ResourceRecordSetFailover::Primary,
            RegionRole::Secondary => ResourceRecordSetFailover::Secondary,
        })
        .health_check_id(check)
}

/// One region's marker at the API name: TXT, the same failover role and
/// check as its alias, the region as its value.
pub fn marker_record(
    app: &str,
    domain: &str,
    role: RegionRole,
    region: &str,
    check: &str,
) -> std::result::Result<ResourceRecordSet, String> {
    failover_record(
        domain,
        RrType::Txt,
        marker_identifier(app, role),
        role,
        check,
    )
    .ttl(MARKER_TTL)
    .resource_records(
        ResourceRecord::builder()
            .value(marker_value(app, region))
            .build()
            .map_err(|e| e.to_string())?,
    )
    .build()
    .map_err(|e| e.to_string())
}

/// One region's failover record at the API name, carrying `check`.
pub fn api_record(
    app: &str,
    domain: &str,
    role: RegionRole,
    target: &ApiTarget,
    check: &str,
) -> std::result::Result<ResourceRecordSet, String> {
    failover_record(domain, RrType::A, set_identifier(app, role), role, check)
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
pub fn site_alias_records(
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
pub fn same_record(a: &ResourceRecordSet, b: &ResourceRecordSet) -> bool {
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

/// The changes that make the zone hold `desired`: each of mraa's records
/// under a wanted identifier but of another type (an earlier version's
/// CNAME) deleted, in the same atomic batch as the upserts of the wanted
/// records that differ from what is there. Empty: nothing to write.
pub fn record_changes(
    app: &str,
    desired: &[ResourceRecordSet],
    existing: &[&ResourceRecordSet],
) -> Vec<(ChangeAction, ResourceRecordSet)> {
    let deletes = existing.iter().filter(|e| {
        is_ours(app, e.set_identifier())
            && desired.iter().any(|d| {
                same_name(d.name(), e.name())
                    && d.set_identifier() == e.set_identifier()
                    && d.r#type() != e.r#type()
                    && !desired.iter().any(|o| same_record(o, e))
            })
    });
    let upserts = desired
        .iter()
        .filter(|d| !existing.iter().any(|e| same_record(e, d)));
    deletes
        .map(|r| (ChangeAction::Delete, (*r).clone()))
        .chain(upserts.map(|r| (ChangeAction::Upsert, r.clone())))
        .collect()
}

/// The domains this app served before `domain`, as its checks' tags name
/// them: (zone id, domain). A domain change leaves their records to delete.
pub fn previous_places(read: &ZoneRead, domain: &str) -> Vec<(String, String)> {
    let mut places: Vec<(String, String)> = read
        .owned
        .iter()
        .filter_map(|c| Some((c.zone.clone()?, c.domain.clone()?)))
        .filter(|(_, d)| d != domain)
        .collect();
    places.sort();
    places.dedup();
    places
}

/// The app's record sets of one domain (its API name and its site name),
/// found by set identifier: nothing else in the zone. Read only.
pub async fn owned_records(
    client: &r53::Client,
    app: &str,
    (zone, domain): (&str, &str),
) -> std::result::Result<Vec<ResourceRecordSet>, String> {
    let mut found = Vec::new();
    for name in [api_name(domain), domain.to_string()] {
        for record in records_named(client, zone, &name).await? {
            if is_ours(app, record.set_identifier()) {
                found.push(record);
            }
        }
    }
    Ok(found)
}

/// Deletes the record sets, exactly as read, in one change batch of the
/// zone (all or none, Route 53 API Reference, ChangeResourceRecordSets).
/// Sets already gone (a re-run) are left to the caller's read-back.
pub async fn delete_records(
    client: &r53::Client,
    zone: &str,
    sets: &[&ResourceRecordSet],
    comment: &str,
) -> std::result::Result<(), String> {
    if sets.is_empty() {
        return Ok(());
    }
    let changes = sets
        .iter()
        .map(|set| {
            r53::types::Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set((*set).clone())
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let batch = r53::types::ChangeBatch::builder()
        .comment(comment)
        .set_changes(Some(changes))
        .build()
        .map_err(|e| e.to_string())?;
    let result = client
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.as_service_error(), Some(s) if s.is_invalid_change_batch()) => Ok(()),
        Err(e) => Err(format!(
            "records in zone {zone}: {}",
            crate::aws::sdk_message(&e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ApiTarget {
        ApiTarget {
            dns_name: "d-1.execute-api.eu-west-1.amazonaws.com".into(),
            hosted_zone_id: "ZREGIONAL".into(),
        }
    }

    #[test]
    fn only_records_that_differ_are_written() {
        let domain = "app.example.test";
        let wanted =
            api_record("demo", domain, RegionRole::Primary, &target(), "hc-1").expect("record");
        // As Route 53 returns it: a trailing dot, another case.
        let stored = api_record(
            "demo",
            "App.Example.Test.",
            RegionRole::Primary,
            &target(),
            "hc-1",
        )
        .expect("record");
        assert!(record_changes("demo", std::slice::from_ref(&wanted), &[&stored]).is_empty());

        let moved =
            api_record("demo", domain, RegionRole::Primary, &target(), "hc-2").expect("record");
        let changes = record_changes("demo", std::slice::from_ref(&wanted), &[&moved]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, ChangeAction::Upsert);
        assert_eq!(changes[0].1.health_check_id(), Some("hc-1"));
    }

    #[test]
    fn a_deployment_without_markers_gets_them_and_keeps_its_aliases() {
        let domain = "app.example.test";
        let wanted = Wanted {
            role: RegionRole::Secondary,
            check: DesiredCheck {
                region: "ap-northeast-1".into(),
                fqdn: "x.execute-api.ap-northeast-1.amazonaws.com".into(),
                path: "/prod/state/demo".into(),
                regions: Vec::new(),
            },
            target: target(),
        };
        let desired = api_records("demo", domain, &wanted, "hc-2").expect("records");
        let alias = &desired[0];
        let marker = &desired[1];
        assert_eq!(marker.r#type(), &RrType::Txt);
        assert_eq!(marker.failover(), alias.failover());
        assert_eq!(marker.health_check_id(), Some("hc-2"));
        assert_ne!(marker.set_identifier(), alias.set_identifier());
        assert_eq!(
            marker.resource_records()[0].value(),
            "\"mraa-demo region=ap-northeast-1\""
        );
        // Only the alias is there: the marker alone is written, nothing deleted.
        let changes = record_changes("demo", &desired, &[alias]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, ChangeAction::Upsert);
        assert_eq!(changes[0].1.r#type(), &RrType::Txt);
    }

    #[test]
    fn an_old_record_of_another_type_goes_in_the_same_batch() {
        let domain = "app.example.test";
        let wanted =
            api_record("demo", domain, RegionRole::Primary, &target(), "hc-1").expect("record");
        let old = ResourceRecordSet::builder()
            .name(api_name(domain))
            .r#type(RrType::Cname)
            .set_identifier(set_identifier("demo", RegionRole::Primary))
            .build()
            .expect("record");
        let changes = record_changes("demo", std::slice::from_ref(&wanted), &[&old]);
        let actions: Vec<ChangeAction> = changes.into_iter().map(|(a, _)| a).collect();
        assert_eq!(actions, [ChangeAction::Delete, ChangeAction::Upsert]);
    }
}
