//! The custom domain (`mraa deploy --domain NAME`): a Route 53 health check
//! per region on that region's state endpoint, PRIMARY/SECONDARY failover
//! records for `api.NAME` carrying those checks, and the site record `NAME`
//! (aliases to the CloudFront distribution, when one exists).
//!
//! Which records and checks are mraa's, and their names, live in
//! `wire::dns_identity`; the region marker is described there too.
//!
//! DNS follows the state item by itself: each region's check is a string
//! match on that region's `GET /state/<app>`, which says `"serving": true`
//! only where the region should answer (the primary unless the state is
//! `failover`, the secondary whenever it can read a state). Writing the state
//! is a DynamoDB write in the surviving region; Route 53's health checkers
//! (its data plane) see it and move the answer. No state command calls
//! Route 53, whose control plane lives in us-east-1 only ("Creating Disaster
//! Recovery Mechanisms Using Amazon Route 53", AWS Networking & Content
//! Delivery blog: rely on the data plane, health checks, to fail over).
//!
//! This module holds what every command shares besides identity: zone
//! lookup, listing the app's checks and records, and the health-check
//! specs. Each command's own use lives with it: deploy's wiring in `deploy/dns.rs`,
//! status's view in `status/dns.rs`, teardown's inventory and deletion in
//! `teardown/dns.rs`.
//!
//! The API records are aliases to each region's API Gateway regional custom
//! domain for `api.NAME` (the api-domain unit: an ACM certificate and the
//! domain with its base path mappings, per region), so HTTPS clients get a
//! certificate for the name they asked for from whichever region answers.
//! The site record is an alias to the CloudFront distribution, which serves
//! `NAME` with the site-certificate unit's certificate (us-east-1).

use aws_sdk_route53 as r53;
use r53::types::{
    HealthCheck, HealthCheckConfig, HealthCheckRegion, ResourceRecordSet, RrType, TagResourceType,
};

use crate::aws::{aws_error, sdk_message};
use crate::error::{MraaError, Result};

use super::dns_identity::{
    CHECK_TYPE, CheckOwner, SEARCH_STRING, caller_reference, is_ours, same_name, state_path_suffix,
};

pub const STEP: &str = "dns";
/// The hosted zone of every CloudFront distribution, for alias records.
pub const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";
/// Standard interval: the fast (10 s) one costs extra and the failover
/// decision is bounded by the threshold anyway (3 × 30 s = 90 s).
pub const REQUEST_INTERVAL: i32 = 30;
pub const FAILURE_THRESHOLD: i32 = 3;
/// Where the reported location is "global" (Route 53 has no region).
pub const GLOBAL: &str = "global";

/// What `mraa deploy --domain` asks for.
#[derive(Debug, Clone)]
pub struct DomainRequest {
    pub domain: String,
    pub hosted_zone_id: Option<String>,
    /// The CloudFront distribution's domain, when the edge made one.
    pub distribution_domain: Option<String>,
}

/// The Route 53 checker regions, chosen on purpose: three (the minimum
/// Route 53 accepts), on three continents where possible, and none of them
/// one of the deployment's own regions. A checker inside the region it checks
/// shares that region's fate; checkers elsewhere see what users elsewhere
/// see, and one continent's network trouble cannot decide alone (Route 53
/// calls an endpoint healthy when more than 18% of its checkers do).
pub fn checker_regions(primary: &str, secondary: &str) -> Vec<String> {
    const GROUPS: [&[&str]; 4] = [
        &["us-east-1", "us-west-2", "us-west-1"],
        &["eu-west-1"],
        &["ap-southeast-1", "ap-northeast-1", "ap-southeast-2"],
        &["sa-east-1"],
    ];
    let allowed = |r: &str| r != primary && r != secondary;
    let mut chosen: Vec<String> = GROUPS
        .iter()
        .filter_map(|group| group.iter().find(|r| allowed(r)))
        .map(|r| r.to_string())
        .take(3)
        .collect();
    for region in GROUPS.iter().flat_map(|g| g.iter()) {
        if chosen.len() >= 3 {
            break;
        }
        if allowed(region) && !chosen.iter().any(|c| c == region) {
            chosen.push(region.to_string());
        }
    }
    chosen
}

/// `https://host/path…` → (host, /path…).
/// How many of a health check's checkers report success, and whether
/// Route 53 therefore calls the endpoint healthy: "more than 18% of health
/// checkers" ("How Amazon Route 53 determines whether a health check is
/// healthy", Route 53 Developer Guide).
pub struct CheckerCount {
    pub ok: usize,
    pub total: usize,
}

impl CheckerCount {
    pub fn of(observations: &[r53::types::HealthCheckObservation]) -> CheckerCount {
        let ok = observations
            .iter()
            .filter(|o| {
                o.status_report()
                    .and_then(|s| s.status())
                    .is_some_and(|s| s.starts_with("Success"))
            })
            .count();
        CheckerCount {
            ok,
            total: observations.len(),
        }
    }

    pub fn healthy(&self) -> bool {
        self.total > 0 && self.ok * 100 > self.total * 18
    }
}

pub fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    (!host.is_empty()).then(|| (host.to_string(), format!("/{path}")))
}

/// The health check mraa wants in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredCheck {
    pub region: String,
    pub fqdn: String,
    pub path: String,
    pub regions: Vec<String>,
}

impl DesiredCheck {
    pub fn config(&self) -> std::result::Result<HealthCheckConfig, String> {
        let mut config = HealthCheckConfig::builder()
            .r#type(CHECK_TYPE)
            .search_string(SEARCH_STRING)
            .fully_qualified_domain_name(&self.fqdn)
            .resource_path(&self.path)
            .port(443)
            .request_interval(REQUEST_INTERVAL)
            .failure_threshold(FAILURE_THRESHOLD)
            .enable_sni(true);
        for region in &self.regions {
            config = config.regions(HealthCheckRegion::from(region.as_str()));
        }
        config.build().map_err(|e| e.to_string())
    }

    /// The CallerReference of this check (`dns_identity::caller_reference`).
    pub fn caller_reference(&self, app: &str, deployment: &str) -> String {
        caller_reference(app, &self.region, deployment)
    }

    /// What differs between this and an existing check (empty: nothing).
    pub fn differences(&self, config: Option<&HealthCheckConfig>) -> Vec<&'static str> {
        let Some(config) = config else {
            return vec!["configuration"];
        };
        let mut regions: Vec<&str> = config.regions().iter().map(|r| r.as_str()).collect();
        regions.sort_unstable();
        let mut wanted: Vec<&str> = self.regions.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        let mut diff = Vec::new();
        if config.r#type() != &CHECK_TYPE {
            diff.push("type");
        }
        if config.search_string() != Some(SEARCH_STRING) {
            diff.push("search string");
        }
        if config.inverted() == Some(true) {
            diff.push("inversion");
        }
        if config.fully_qualified_domain_name() != Some(self.fqdn.as_str()) {
            diff.push("endpoint");
        }
        if config.resource_path() != Some(self.path.as_str()) {
            diff.push("path");
        }
        if config.failure_threshold() != Some(FAILURE_THRESHOLD) {
            diff.push("failure threshold");
        }
        if config.port() != Some(443) {
            diff.push("port");
        }
        if config.enable_sni() != Some(true) {
            diff.push("SNI");
        }
        if regions != wanted {
            diff.push("checker regions");
        }
        diff
    }
}

/// A health check mraa made (by its tags).
#[derive(Debug, Clone)]
pub struct OwnedCheck {
    pub id: String,
    pub region: String,
    pub domain: Option<String>,
    pub zone: Option<String>,
    pub check: HealthCheck,
}

impl OwnedCheck {
    /// A check of another type (an earlier version's plain HTTPS check,
    /// possibly inverted): it can only be replaced.
    pub fn outdated(&self) -> bool {
        self.check
            .health_check_config()
            .is_none_or(|c| c.r#type() != &CHECK_TYPE)
    }
}

/// Every health check tagged as this app's.
pub async fn owned_checks(
    client: &r53::Client,
    app: &str,
) -> std::result::Result<Vec<OwnedCheck>, String> {
    let candidates = state_path_checks(client, app).await?;
    owned_among(client, app, &candidates).await
}

/// Every health check on this app's state path, tagged or not (a check
/// whose tagging was interrupted is found here by its CallerReference).
pub async fn state_path_checks(
    client: &r53::Client,
    app: &str,
) -> std::result::Result<Vec<HealthCheck>, String> {
    let suffix = state_path_suffix(app);
    let mut candidates = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_health_checks()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        candidates.extend(
            page.health_checks()
                .iter()
                .filter(|c| {
                    c.health_check_config()
                        .and_then(|c| c.resource_path())
                        .is_some_and(|p| p.ends_with(&suffix))
                })
                .cloned(),
        );
        match page.next_marker().filter(|_| page.is_truncated()) {
            Some(next) => marker = Some(next.to_string()),
            None => break,
        }
    }
    Ok(candidates)
}

/// Those of `candidates` tagged as this app's. Only checks on this app's
/// state path are asked for their tags, so the listing stays cheap in
/// accounts with many health checks.
pub async fn owned_among(
    client: &r53::Client,
    app: &str,
    candidates: &[HealthCheck],
) -> std::result::Result<Vec<OwnedCheck>, String> {
    let mut owned = Vec::new();
    for chunk in candidates.chunks(10) {
        let ids: Vec<String> = chunk.iter().map(|c| c.id().to_string()).collect();
        let tags = client
            .list_tags_for_resources()
            .resource_type(TagResourceType::Healthcheck)
            .set_resource_ids(Some(ids))
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        for set in tags.resource_tag_sets() {
            let tag = |key: &str| {
                set.tags()
                    .iter()
                    .find(|t| t.key() == Some(key))
                    .and_then(|t| t.value())
                    .map(str::to_string)
            };
            let (Some(id), Some(owner)) = (set.resource_id(), CheckOwner::from_tags(app, tag))
            else {
                continue;
            };
            if let Some(check) = chunk.iter().find(|c| c.id() == id) {
                owned.push(OwnedCheck {
                    id: id.to_string(),
                    region: owner.region,
                    domain: owner.domain,
                    zone: owner.zone,
                    check: check.clone(),
                });
            }
        }
    }
    owned.sort_by(|a, b| a.region.cmp(&b.region));
    Ok(owned)
}

/// Deletes a health check; one already gone counts as deleted (a re-run
/// after an interruption).
pub async fn delete_check(client: &r53::Client, id: &str) -> std::result::Result<(), String> {
    match client
        .delete_health_check()
        .health_check_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_health_check()) =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_message(&e)),
    }
}

/// The record sets of one name (every type), read from where that name
/// starts in the zone's order.
pub async fn records_named(
    client: &r53::Client,
    zone: &str,
    name: &str,
) -> std::result::Result<Vec<ResourceRecordSet>, String> {
    let mut found = Vec::new();
    let mut start = Some((name.to_string(), None::<RrType>, None::<String>));
    while let Some((start_name, start_type, start_id)) = start.take() {
        let page = client
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .start_record_name(start_name)
            .set_start_record_type(start_type)
            .set_start_record_identifier(start_id)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        let mut past = false;
        for record in page.resource_record_sets() {
            if same_name(record.name(), name) {
                found.push(record.clone());
            } else if !found.is_empty() {
                // Same-named sets are contiguous: the name is done.
                past = true;
                break;
            }
        }
        if !past
            && page.is_truncated()
            && let Some(next) = page.next_record_name()
        {
            start = Some((
                next.to_string(),
                page.next_record_type().cloned(),
                page.next_record_identifier().map(str::to_string),
            ));
        }
    }
    Ok(found)
}

/// The hosted zone of `domain`: the given one (checked to contain the
/// domain), or the one public zone named as the domain or its closest
/// parent. Read only.
pub async fn find_zone(
    client: &r53::Client,
    domain: &str,
    given: Option<&str>,
) -> Result<(String, String)> {
    let fail = |resource: &str, cause: String| aws_error(STEP, GLOBAL, resource, cause);
    if let Some(id) = given {
        let out = client
            .get_hosted_zone()
            .id(id)
            .send()
            .await
            .map_err(|e| fail(&format!("hosted zone {id}"), sdk_message(&e)))?;
        let zone = out
            .hosted_zone()
            .ok_or_else(|| fail(&format!("hosted zone {id}"), "not returned".into()))?;
        let name = zone.name().trim_end_matches('.').to_ascii_lowercase();
        if !(same_name(&name, domain) || domain.ends_with(&format!(".{name}"))) {
            return Err(fail(
                &format!("hosted zone {id}"),
                format!(
                    "the zone is {name}, which does not contain {domain}; pass the id of the zone of {domain} or one of its parents"
                ),
            ));
        }
        return Ok((bare_zone_id(zone.id()), name));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for skip in 0..labels.len().saturating_sub(1) {
        let candidate = labels[skip..].join(".");
        let out = client
            .list_hosted_zones_by_name()
            .dns_name(&candidate)
            .max_items(20)
            .send()
            .await
            .map_err(|e| fail(&format!("hosted zones named {candidate}"), sdk_message(&e)))?;
        let zones: Vec<String> = out
            .hosted_zones()
            .iter()
            .filter(|z| same_name(z.name(), &candidate))
            .filter(|z| !z.config().is_some_and(|c| c.private_zone()))
            .map(|z| bare_zone_id(z.id()))
            .collect();
        match zones.as_slice() {
            [] => continue,
            [one] => return Ok((one.clone(), candidate)),
            several => {
                return Err(fail(
                    &format!("hosted zones named {candidate}"),
                    format!(
                        "{} public hosted zones are named {candidate} ({}); pass --hosted-zone-id to say which one to use",
                        several.len(),
                        several.join(", ")
                    ),
                ));
            }
        }
    }
    Err(fail(
        &format!("hosted zone for {domain}"),
        format!(
            "no public hosted zone in this account is named {domain} or any parent of it; create one \
             (`aws route53 create-hosted-zone --name {domain} --caller-reference $(date +%s)`) and \
             delegate to it, or pass --hosted-zone-id"
        ),
    ))
}

pub fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// The record sets at `name` that mraa does not own and would collide with.
/// At the API name every type collides (a CNAME stands alone); at the site
/// name only address records do (the apex keeps its NS and SOA).
pub fn foreign(app: &str, records: &[ResourceRecordSet], api: bool) -> Vec<String> {
    records
        .iter()
        .filter(|r| !is_ours(app, r.set_identifier()))
        .filter(|r| api || matches!(r.r#type(), RrType::A | RrType::Aaaa | RrType::Cname))
        .map(|r| {
            format!(
                "{} {}{}",
                r.name().trim_end_matches('.'),
                r.r#type().as_str(),
                r.set_identifier()
                    .map(|id| format!(" (set identifier {id})"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// A failure of this step as the error type commands return.
pub fn error(cause: String) -> MraaError {
    aws_error(STEP, GLOBAL, "Route 53", cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_regions_avoid_the_deployment_and_span_continents() {
        assert_eq!(
            checker_regions("us-east-1", "ap-northeast-1"),
            ["us-west-2", "eu-west-1", "ap-southeast-1"]
        );
        let both_out = checker_regions("eu-west-1", "sa-east-1");
        assert_eq!(both_out, ["us-east-1", "ap-southeast-1", "us-west-2"]);
        for (p, s) in [("us-west-2", "us-east-1"), ("ap-southeast-1", "eu-west-1")] {
            let chosen = checker_regions(p, s);
            assert_eq!(chosen.len(), 3);
            assert!(!chosen.iter().any(|r| r == p || r == s), "{chosen:?}");
        }
    }

    #[test]
    fn urls_split_into_host_and_path() {
        assert_eq!(
            split_url("https://abc.execute-api.us-east-1.amazonaws.com/prod/state/"),
            Some((
                "abc.execute-api.us-east-1.amazonaws.com".into(),
                "/prod/state/".into()
            ))
        );
        assert_eq!(split_url("http://x/"), None);
    }

    #[test]
    fn records_without_mraa_identifiers_are_foreign() {
        let record = |id: Option<&str>, kind: RrType| {
            ResourceRecordSet::builder()
                .name("api.app.example.test.")
                .r#type(kind)
                .set_set_identifier(id.map(str::to_string))
                .build()
                .expect("record")
        };
        let ours = record(Some("mraa-demo-primary"), RrType::Cname);
        let theirs = record(None, RrType::Cname);
        let other_app = record(Some("mraa-other-primary"), RrType::Cname);
        assert!(foreign("demo", std::slice::from_ref(&ours), true).is_empty());
        assert_eq!(foreign("demo", &[theirs, other_app], true).len(), 2);
        // At the site name the apex's NS and SOA are no collision.
        assert!(foreign("demo", &[record(None, RrType::Ns)], false).is_empty());
        assert_eq!(foreign("demo", &[record(None, RrType::A)], false).len(), 1);
    }
}
