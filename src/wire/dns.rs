//! The custom domain's Route 53 objects as a deploy wants them, and which of
//! them differ from what Route 53 holds. `deploy` acts on these decisions
//! (`deploy/dns.rs`, `deploy/health_checks.rs`) and `diff` reports them, so
//! both make the same reads and reach the same answer. Nothing here writes
//! but `delete_records`, shared by deploy's domain change and teardown.

use aws_sdk_route53 as r53;
use r53::types::builders::ResourceRecordSetBuilder;
use r53::types::{
    AliasTarget, ChangeAction, HealthCheck, HealthCheckConfig, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};

use crate::aws::aws_error;
use crate::cfn::stack;
use crate::context::Outputs;
use crate::error::Result;
use crate::names;
use crate::plan::{Mode, Plan, RegionRole, Unit};

use super::dns_identity::{
    RecordId, Routing, api_name, is_ours, marker_value, same_name, site_identifier,
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

/// One region's wanted health check, and where its record points.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub role: RegionRole,
    /// Failover (active-passive) or latency (active-active).
    pub routing: Routing,
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
            let routing = match plan.mode {
                Mode::ActivePassive => Routing::Failover(role),
                Mode::ActiveActive => Routing::Latency(region.clone()),
            };
            Ok(Wanted {
                role,
                routing,
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

/// One region's records at the API name, each carrying `check`: the alias
/// to its API, and the TXT record naming the region (`wire::dns_identity`,
/// the region marker), both failover records in active-passive and latency
/// records in active-active.
pub fn api_records(
    app: &str,
    domain: &str,
    wanted: &Wanted,
    check: &str,
) -> std::result::Result<Vec<ResourceRecordSet>, String> {
    Ok(vec![
        api_record(app, domain, &wanted.routing, &wanted.target, check)?,
        marker_record(app, domain, &wanted.routing, &wanted.check.region, check)?,
    ])
}

/// What both of a region's records at the API name share: the name, the
/// region's routing and its check. A latency record names its Region
/// (Route 53 Developer Guide, "Values specific for latency records",
/// Region; docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-latency.html).
fn routed_record(
    domain: &str,
    kind: RrType,
    identifier: String,
    routing: &Routing,
    check: &str,
) -> ResourceRecordSetBuilder {
    let record = ResourceRecordSet::builder()
        .name(api_name(domain))
        .r#type(kind)
        .set_identifier(identifier)
        .health_check_id(check);
    match routing {
        Routing::Failover(role) => record.failover(match role {
            RegionRole::Primary => ResourceRecordSetFailover::Primary,
            RegionRole::Secondary => ResourceRecordSetFailover::Secondary,
        }),
        Routing::Latency(region) => record.region(ResourceRecordSetRegion::from(region.as_str())),
    }
}

/// One region's marker at the API name: TXT, the same routing and check as
/// its alias, the region as its value.
pub fn marker_record(
    app: &str,
    domain: &str,
    routing: &Routing,
    region: &str,
    check: &str,
) -> std::result::Result<ResourceRecordSet, String> {
    routed_record(
        domain,
        RrType::Txt,
        RecordId::Marker(routing.clone()).identifier(app),
        routing,
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

/// One region's alias at the API name, carrying `check`.
pub fn api_record(
    app: &str,
    domain: &str,
    routing: &Routing,
    target: &ApiTarget,
    check: &str,
) -> std::result::Result<ResourceRecordSet, String> {
    routed_record(
        domain,
        RrType::A,
        RecordId::Alias(routing.clone()).identifier(app),
        routing,
        check,
    )
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
        && a.region() == b.region()
        && a.weight() == b.weight()
        && a.ttl() == b.ttl()
        && a.health_check_id() == b.health_check_id()
        && values(a) == values(b)
        && alias(a) == alias(b)
}

/// The changes that make the zone hold `desired`: each of mraa's records
/// under a wanted identifier but of another type (an earlier version's
/// CNAME) deleted, and each of mraa's records at a wanted name under an
/// identifier no longer wanted (the other mode's failover or latency
/// records: Route 53 takes one routing policy per name and type), in the
/// same atomic batch as the upserts of the wanted records that differ from
/// what is there. Empty: nothing to write.
pub fn record_changes(
    app: &str,
    desired: &[ResourceRecordSet],
    existing: &[&ResourceRecordSet],
) -> Vec<(ChangeAction, ResourceRecordSet)> {
    let deletes = existing.iter().filter(|e| {
        let of_another_type = desired.iter().any(|d| {
            same_name(d.name(), e.name())
                && d.set_identifier() == e.set_identifier()
                && d.r#type() != e.r#type()
                && !desired.iter().any(|o| same_record(o, e))
        });
        let of_another_mode = desired.iter().any(|d| same_name(d.name(), e.name()))
            && !desired
                .iter()
                .any(|d| d.set_identifier() == e.set_identifier());
        is_ours(app, e.set_identifier()) && (of_another_type || of_another_mode)
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
    use crate::wire::dns_identity::set_identifier;

    fn target() -> ApiTarget {
        ApiTarget {
            dns_name: "d-1.execute-api.eu-west-1.amazonaws.com".into(),
            hosted_zone_id: "ZREGIONAL".into(),
        }
    }

    /// The primary's failover alias at `domain`'s API name, carrying `check`.
    fn primary_alias(domain: &str, check: &str) -> ResourceRecordSet {
        api_record(
            "demo",
            domain,
            &Routing::Failover(RegionRole::Primary),
            &target(),
            check,
        )
        .expect("record")
    }

    #[test]
    fn only_records_that_differ_are_written() {
        let domain = "app.example.test";
        let wanted = primary_alias(domain, "hc-1");
        // As Route 53 returns it: a trailing dot, another case.
        let stored = primary_alias("App.Example.Test.", "hc-1");
        assert!(record_changes("demo", std::slice::from_ref(&wanted), &[&stored]).is_empty());

        let moved = primary_alias(domain, "hc-2");
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
            routing: Routing::Failover(RegionRole::Secondary),
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
        let wanted = primary_alias(domain, "hc-1");
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

    #[test]
    fn a_mode_change_swaps_failover_and_latency_records_in_one_batch() {
        let domain = "app.example.test";
        let wanted = |routing: Routing| Wanted {
            role: RegionRole::Primary,
            routing,
            check: DesiredCheck {
                region: "us-east-1".into(),
                fqdn: "x.execute-api.us-east-1.amazonaws.com".into(),
                path: "/prod/state/demo".into(),
                regions: Vec::new(),
            },
            target: target(),
        };
        let failover = api_records(
            "demo",
            domain,
            &wanted(Routing::Failover(RegionRole::Primary)),
            "hc-1",
        )
        .expect("records");
        let latency = api_records(
            "demo",
            domain,
            &wanted(Routing::Latency("us-east-1".into())),
            "hc-1",
        )
        .expect("records");
        assert_eq!(
            latency[0].region(),
            Some(&ResourceRecordSetRegion::UsEast1),
            "a latency record names its Region"
        );
        assert_eq!(latency[1].region(), latency[0].region());
        assert!(latency.iter().all(|r| r.failover().is_none()));
        let existing: Vec<&ResourceRecordSet> = failover.iter().collect();
        let changes = record_changes("demo", &latency, &existing);
        let deleted: Vec<_> = changes
            .iter()
            .filter(|(a, _)| *a == ChangeAction::Delete)
            .map(|(_, r)| r.set_identifier().unwrap_or_default().to_string())
            .collect();
        assert_eq!(deleted, ["mraa-demo-primary", "mraa-demo-primary-marker"]);
        let upserts = changes
            .iter()
            .filter(|(a, _)| *a == ChangeAction::Upsert)
            .count();
        assert_eq!(upserts, 2);
        // Someone else's record at the name is never touched.
        let foreign = ResourceRecordSet::builder()
            .name(api_name(domain))
            .r#type(RrType::Txt)
            .set_identifier("theirs")
            .build()
            .expect("record");
        let changes = record_changes("demo", &latency, &[&foreign]);
        assert!(changes.iter().all(|(a, _)| *a == ChangeAction::Upsert));
    }
}
