//! The state commands' DNS switch: `failover` inverts the primary's health
//! check, `activate` restores it (see `wire::route53`).

use crate::aws::{Aws, sdk_message};
use crate::plan::RegionRole;
use crate::wire::route53::{api_name, owned_checks, records_named, role_of};

/// What a state command did to DNS.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DnsChange {
    pub health_check: String,
    pub region: String,
    pub inverted: bool,
    pub changed: bool,
    /// Which record Route 53 answers with while the checks are as they are.
    pub answers: String,
}

/// Why a state command could not drive DNS.
#[derive(Debug, Clone)]
pub enum DnsError {
    /// Route 53 could not even be asked whether the app has a domain (its
    /// control plane did not answer, or refused the listing).
    NotAnswering(String),
    /// The app has a domain and its health check could not be changed.
    Failed(String),
}

/// `failover`: invert the primary's health check; `activate`: restore it.
/// `Ok(None)`: the deployment has no custom domain. Never called for fence.
pub async fn point_dns(
    aws: &Aws,
    app: &str,
    to_secondary: bool,
) -> std::result::Result<Option<DnsChange>, DnsError> {
    let client = aws.route53_probe();
    let owned = owned_checks(&client, app)
        .await
        .map_err(DnsError::NotAnswering)?;
    let Some(primary) = owned.iter().find(|c| c.region == aws.primary.region) else {
        return Ok(None);
    };
    let changed = primary.inverted() != to_secondary;
    if changed {
        let mut update = client
            .update_health_check()
            .health_check_id(&primary.id)
            .inverted(to_secondary);
        // Restated so that no endpoint resets them with the update.
        for region in primary.regions() {
            update = update.regions(region);
        }
        update.send().await.map_err(|e| {
            DnsError::Failed(format!("health check {}: {}", primary.id, sdk_message(&e)))
        })?;
    }
    let read = client
        .get_health_check()
        .health_check_id(&primary.id)
        .send()
        .await
        .map_err(|e| {
            DnsError::Failed(format!("health check {}: {}", primary.id, sdk_message(&e)))
        })?;
    let inverted = read
        .health_check()
        .and_then(|c| c.health_check_config())
        .and_then(|c| c.inverted())
        .unwrap_or(false);
    if inverted != to_secondary {
        return Err(DnsError::Failed(format!(
            "health check {} reads back Inverted={inverted}, expected {to_secondary}",
            primary.id
        )));
    }
    // The PRIMARY record must carry this check for the inversion to matter.
    if let (Some(zone), Some(domain)) = (&primary.zone, &primary.domain) {
        let records = records_named(&client, zone, &api_name(domain))
            .await
            .map_err(DnsError::Failed)?;
        let carries = records.iter().any(|r| {
            role_of(app, r.set_identifier()) == Some(RegionRole::Primary)
                && r.health_check_id() == Some(primary.id.as_str())
        });
        if !carries {
            return Err(DnsError::Failed(format!(
                "the PRIMARY record of {} does not carry health check {}: run `mraa deploy --domain {domain}`",
                api_name(domain),
                primary.id
            )));
        }
    }
    let answers = if to_secondary {
        &aws.secondary.region
    } else {
        &aws.primary.region
    };
    Ok(Some(DnsChange {
        health_check: primary.id.clone(),
        region: primary.region.clone(),
        inverted,
        changed,
        answers: answers.clone(),
    }))
}
