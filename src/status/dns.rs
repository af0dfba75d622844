//! `mraa status`'s view of the custom domain: each health check, and which
//! region the API name answers with (`dns_answer`).

use std::collections::BTreeMap;

use crate::aws::{Aws, sdk_message};
use crate::wire::dns_identity::api_name;
use crate::wire::route53::{CheckerCount, GLOBAL, OwnedCheck};

use super::dns_answer::{Regions, answer_check};

/// `mraa status`: each health check's status, and which region the API
/// name answers with. No checks at all when the app has no custom domain.
/// `owned`: the app's health checks as `owned_checks` listed them; `state`:
/// the application state as read, which says which checks should pass.
pub async fn status_checks(
    aws: &Aws,
    app: &str,
    owned: std::result::Result<Vec<OwnedCheck>, String>,
    state: Option<&super::StateView>,
    mode: crate::plan::Mode,
) -> Vec<crate::health::Check> {
    let drained = state.map(|s| s.drained.as_slice()).unwrap_or_default();
    let state = state.and_then(|v| v.state.as_deref());
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
                let count = CheckerCount::of(out.health_check_observations());
                let text = format!(
                    "{outdated}{} of {} checkers report success (health check {})",
                    count.ok, count.total, check.id,
                );
                let up = count.healthy();
                // A check that fails where its region should not serve is
                // doing its job: the state decides which one should pass
                // (the routing template's `serving`).
                // In active-active every Region serves unless drained.
                let should = match state {
                    Some(_) if mode == crate::plan::Mode::ActiveActive => {
                        !drained.contains(&check.region)
                    }
                    Some(state) if check.region == aws.primary.region => state != "failover",
                    Some(_) => true,
                    None => up,
                };
                match (check.outdated(), up == should) {
                    (false, true) => (Health::Ok, text, up),
                    (false, false) => (
                        Health::Degraded,
                        format!(
                            "{text}; with the state {}{} this region should {}",
                            state.unwrap_or_default(),
                            if drained.contains(&check.region) {
                                " (drained)"
                            } else {
                                ""
                            },
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
    let healthy = |region: &str| healthy_by_region.get(region).copied().unwrap_or(false);
    let (primary, secondary) = (&aws.primary.region, &aws.secondary.region);
    // Route 53's failover rule (API Reference, ResourceRecordSet, Failover):
    // the primary while its check passes, the secondary while the primary's
    // fails and its own passes, the primary again when both fail.
    let expected = if healthy(primary) || !healthy(secondary) {
        primary
    } else {
        secondary
    };
    let regions = Regions { primary, secondary };
    if mode == crate::plan::Mode::ActiveActive && healthy(primary) == healthy(secondary) {
        // Latency routing answers the healthy Region nearest the resolver
        // (all of them when none is healthy; Route 53 Developer Guide,
        // "Latency-based routing"): either Region is a right answer, which
        // the marker names.
        let first = answer_check(&client, app, (&zone, &api), &regions, primary).await;
        if first.status == crate::health::Health::Ok {
            checks.push(first);
        } else {
            checks.push(answer_check(&client, app, (&zone, &api), &regions, secondary).await);
        }
        return checks;
    }
    // In active-active with one healthy Region, that one; in active-passive
    // the failover rule above.
    let expected = match mode {
        crate::plan::Mode::ActiveActive if healthy(secondary) => secondary,
        crate::plan::Mode::ActiveActive => primary,
        crate::plan::Mode::ActivePassive => expected,
    };
    checks.push(answer_check(&client, app, (&zone, &api), &regions, expected).await);
    checks
}
