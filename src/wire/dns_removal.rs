//! What removing a custom domain takes from Route 53 (teardown, and deploy
//! --no-domain), found by set identifier and tag (nothing else in the zone),
//! and its deletion.

use aws_sdk_route53::types::ResourceRecordSet;

use super::dns::{delete_records, owned_records};
use super::route53::{self, OwnedCheck, owned_checks};
use crate::aws::Aws;

/// What a teardown removes from Route 53: mraa's records, then its checks.
#[derive(Debug, Clone, Default)]
pub struct DnsInventory {
    pub checks: Vec<OwnedCheck>,
    /// (zone id, record set), only sets with mraa's set identifiers.
    pub records: Vec<(String, ResourceRecordSet)>,
    /// (zone id, domain) searched: the checks' tags and the places given.
    pub places: Vec<(String, String)>,
}

impl DnsInventory {
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.records.is_empty()
    }
}

/// Read only. `known` are (zone id, domain) pairs known otherwise (the
/// domain units' parameters): their records are found even when the health
/// checks whose tags name the place are gone.
pub async fn inventory(
    aws: &Aws,
    app: &str,
    known: &[(String, String)],
) -> std::result::Result<DnsInventory, String> {
    let client = aws.route53();
    let checks = owned_checks(&client, app).await?;
    let mut places: Vec<(String, String)> = checks
        .iter()
        .filter_map(|c| Some((c.zone.clone()?, c.domain.clone()?)))
        .chain(known.iter().cloned())
        .collect();
    places.sort();
    places.dedup();
    let mut records = Vec::new();
    for (zone, domain) in places.clone() {
        for record in owned_records(&client, app, (&zone, &domain)).await? {
            records.push((zone.clone(), record));
        }
    }
    Ok(DnsInventory {
        checks,
        records,
        places,
    })
}

/// Deletes the records (exactly as read), then the health checks, and
/// verifies both are gone. Returns what was deleted, as text.
pub async fn delete(
    aws: &Aws,
    app: &str,
    found: &DnsInventory,
) -> std::result::Result<Vec<String>, String> {
    let client = aws.route53();
    let mut deleted = Vec::new();
    let mut zones: Vec<&str> = found.records.iter().map(|(z, _)| z.as_str()).collect();
    zones.sort_unstable();
    zones.dedup();
    for zone in zones {
        let sets: Vec<&ResourceRecordSet> = found
            .records
            .iter()
            .filter(|(z, _)| z == zone)
            .map(|(_, r)| r)
            .collect();
        delete_records(&client, zone, &sets, &format!("mraa {app}: teardown")).await?;
        for set in sets {
            deleted.push(format!(
                "record {} {} ({})",
                set.name().trim_end_matches('.'),
                set.r#type().as_str(),
                set.set_identifier().unwrap_or_default()
            ));
        }
    }
    for check in &found.checks {
        route53::delete_check(&client, &check.id)
            .await
            .map_err(|e| format!("health check {}: {e}", check.id))?;
        deleted.push(format!("health check {} ({})", check.id, check.region));
    }
    let left = inventory(aws, app, &found.places).await?;
    if !left.is_empty() {
        return Err(format!(
            "still present after deletion: {} health check(s), {} record(s)",
            left.checks.len(),
            left.records.len()
        ));
    }
    Ok(deleted)
}
