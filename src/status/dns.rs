//! `mraa status`'s view of the custom domain: each health check, and which
//! region the API name answers with.

use std::collections::BTreeMap;

use aws_sdk_route53 as r53;
use r53::types::RrType;

use crate::aws::{Aws, sdk_message};
use crate::plan::RegionRole;
use crate::wire::route53::{GLOBAL, OwnedCheck, api_name, records_named, role_of};

/// `mraa status`: each health check's status, and which region the API
/// name answers with. No checks at all when the app has no custom domain.
/// `owned`: the app's health checks as `owned_checks` listed them; `state`:
/// the application state as read, which says which checks should pass.
pub async fn status_checks(
    aws: &Aws,
    app: &str,
    owned: std::result::Result<Vec<OwnedCheck>, String>,
    state: Option<&str>,
) -> Vec<crate::health::Check> {
    use crate::health::{Check, Health};
    let client = aws.route53_probe();
    let owned = match owned {
        Ok(owned) => owned,
        Err(e) => {
            return vec![Check::link(
                "dns",
                GLOBAL,
                if crate::aws::says_unreachable(&e) {
                    Health::Unreachable
                } else {
                    Health::Degraded
                },
                format!("Route 53 health checks cannot be listed: {e}"),
            )];
        }
    };
    let mut checks = Vec::new();
    let mut healthy_by_region = BTreeMap::new();
    for check in &owned {
        // An earlier version's check, which the state does not move.
        let outdated = if check.outdated() {
            "an earlier version's check, which does not read the state: run `mraa deploy`; "
        } else {
            ""
        };
        let status = client
            .get_health_check_status()
            .health_check_id(&check.id)
            .send()
            .await;
        let (health, detail, healthy) = match status {
            Ok(out) => {
                let observations = out.health_check_observations();
                let ok = observations
                    .iter()
                    .filter(|o| {
                        o.status_report()
                            .and_then(|s| s.status())
                            .is_some_and(|s| s.starts_with("Success"))
                    })
                    .count();
                let text = format!(
                    "{outdated}{ok} of {} checkers report success (health check {})",
                    observations.len(),
                    check.id,
                );
                // Route 53 calls an endpoint healthy above 18% of checkers.
                let up = !observations.is_empty() && ok * 100 > observations.len() * 18;
                // A check that fails where its region should not serve is
                // doing its job: the state decides which one should pass
                // (the routing template's `serving`).
                let should = match state {
                    Some(state) if check.region == aws.primary.region => state != "failover",
                    Some(_) => true,
                    None => up,
                };
                match (check.outdated(), up == should) {
                    (false, true) => (Health::Ok, text, up),
                    (false, false) => (
                        Health::Degraded,
                        format!(
                            "{text}; with the state {} this region should {}",
                            state.unwrap_or_default(),
                            if should { "serve" } else { "not serve" }
                        ),
                        up,
                    ),
                    (true, _) => (Health::Degraded, text, up),
                }
            }
            Err(e) => (
                Health::Degraded,
                format!("health check {}: {}", check.id, sdk_message(&e)),
                false,
            ),
        };
        healthy_by_region.insert(check.region.clone(), healthy);
        checks.push(Check::link("health-check", &check.region, health, detail));
    }
    let Some(first) = owned.first() else {
        return checks;
    };
    let (Some(zone), Some(domain)) = (first.zone.clone(), first.domain.clone()) else {
        return checks;
    };
    let api = api_name(&domain);
    let expected = if healthy_by_region
        .get(&aws.primary.region)
        .copied()
        .unwrap_or(false)
    {
        aws.primary.region.clone()
    } else {
        aws.secondary.region.clone()
    };
    let records = records_named(&client, &zone, &api)
        .await
        .unwrap_or_default();
    // Route 53 answers an alias with the target's addresses: resolve each
    // region's target here to tell which region the answer is.
    let mut addresses: Vec<(String, Vec<String>)> = Vec::new();
    for r in &records {
        let region = match role_of(app, r.set_identifier()) {
            Some(RegionRole::Primary) => aws.primary.region.clone(),
            Some(RegionRole::Secondary) => aws.secondary.region.clone(),
            None => continue,
        };
        let mut values: Vec<String> = r
            .resource_records()
            .iter()
            .map(|rr| rr.value().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        if let Some(alias) = r.alias_target() {
            values.extend(resolve(alias.dns_name()).await);
        }
        addresses.push((region, values));
    }
    let region_of = |value: &str| {
        let value = value.trim_end_matches('.').to_ascii_lowercase();
        addresses
            .iter()
            .find(|(_, values)| values.contains(&value))
            .map(|(region, _)| region.clone())
    };
    let answer = client
        .test_dns_answer()
        .hosted_zone_id(&zone)
        .record_name(&api)
        .record_type(RrType::A)
        .send()
        .await;
    let check = match answer {
        Ok(out) => {
            let data = out.record_data().join(", ");
            match out.record_data().first().and_then(|v| region_of(v)) {
                Some(region) if region == expected => Check::link(
                    "dns-answer",
                    GLOBAL,
                    Health::Ok,
                    format!("{api} answers {region} ({data})"),
                ),
                Some(region) => Check::link(
                    "dns-answer",
                    GLOBAL,
                    Health::Degraded,
                    format!("{api} answers {region} ({data}), the health checks say {expected}"),
                ),
                None => Check::link(
                    "dns-answer",
                    GLOBAL,
                    Health::Degraded,
                    format!("{api} answers {data:?}, which is no record of mraa's"),
                ),
            }
        }
        Err(e) => Check::link(
            "dns-answer",
            GLOBAL,
            if aws.custom_endpoint {
                Health::Unverified
            } else {
                Health::Degraded
            },
            format!(
                "the endpoint cannot say what {api} answers ({}); by the health checks it is {expected}",
                sdk_message(&e)
            ),
        ),
    };
    checks.push(check);
    checks
}

/// The addresses a name resolves to now (none when it does not resolve
/// within a few seconds).
async fn resolve(name: &str) -> Vec<String> {
    let host = name.trim_end_matches('.').to_string();
    match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        tokio::net::lookup_host((host, 443)),
    )
    .await
    {
        Ok(Ok(found)) => found.map(|a| a.ip().to_string()).collect(),
        _ => Vec::new(),
    }
}
