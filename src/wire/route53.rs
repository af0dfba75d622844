//! The custom domain (`mraa deploy --domain NAME`): a Route 53 health check
//! per region on that region's state endpoint, PRIMARY/SECONDARY failover
//! records for `api.NAME` carrying those checks, and the site record `NAME`
//! (aliases to the CloudFront distribution, when one exists).
//!
//! Ownership is explicit, because a hosted zone is shared with whatever else
//! the user keeps there: the health checks carry the tags `mraa:app`,
//! `mraa:region`, `mraa:domain` and `mraa:zone`; the records mraa writes carry
//! the set identifiers `mraa-<app>-primary`, `mraa-<app>-secondary` and
//! `mraa-<app>-site`. A record of a name mraa would write without one of
//! those identifiers belongs to someone else: deploy refuses before any
//! change, and teardown never touches it.
//!
//! The state commands drive DNS through the primary's health check: `mraa
//! failover` inverts it (Route 53 then treats the primary as unhealthy and
//! answers with the SECONDARY record), `mraa activate` restores normal
//! evaluation, `mraa fence` leaves DNS alone.
//!
//! The API records are aliases to each region's API Gateway regional custom
//! domain for `api.NAME` (the api-domain unit: an ACM certificate and the
//! domain with its base path mappings, per region), so HTTPS clients get a
//! certificate for the name they asked for from whichever region answers.
//! The site record is an alias to the CloudFront distribution, which serves
//! `NAME` with the site-certificate unit's certificate (us-east-1).

use std::collections::BTreeMap;

use aws_sdk_route53 as r53;
use r53::types::{
    AliasTarget, Change as RecordChange, ChangeAction, ChangeBatch, HealthCheck, HealthCheckConfig,
    HealthCheckRegion, HealthCheckType, ResourceRecordSet, ResourceRecordSetFailover, RrType, Tag,
    TagResourceType,
};

use crate::aws::{Aws, aws_error, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::{MraaError, Result};
use crate::names::APP_TAG;
use crate::plan::{RegionRole, Unit};

use super::{Verdict, WireOutcome};

pub const STEP: &str = "dns";
pub const REGION_TAG: &str = "mraa:region";
pub const DOMAIN_TAG: &str = "mraa:domain";
pub const ZONE_TAG: &str = "mraa:zone";
/// The hosted zone of every CloudFront distribution, for alias records.
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";
/// Standard interval: the fast (10 s) one costs extra and the failover
/// decision is bounded by the threshold anyway (3 × 30 s = 90 s).
const REQUEST_INTERVAL: i32 = 30;
const FAILURE_THRESHOLD: i32 = 3;
/// Where the reported location is "global" (Route 53 has no region).
const GLOBAL: &str = "global";

/// What `mraa deploy --domain` asks for.
#[derive(Debug, Clone)]
pub struct DomainRequest {
    pub domain: String,
    pub hosted_zone_id: Option<String>,
    /// The CloudFront distribution's domain, when the edge made one.
    pub distribution_domain: Option<String>,
}

pub fn api_name(domain: &str) -> String {
    format!("api.{domain}")
}

pub fn set_identifier(app: &str, role: RegionRole) -> String {
    match role {
        RegionRole::Primary => format!("mraa-{app}-primary"),
        RegionRole::Secondary => format!("mraa-{app}-secondary"),
    }
}

pub fn site_identifier(app: &str) -> String {
    format!("mraa-{app}-site")
}

/// Which region's failover record a set identifier marks, if any.
fn role_of(app: &str, identifier: Option<&str>) -> Option<RegionRole> {
    [RegionRole::Primary, RegionRole::Secondary]
        .into_iter()
        .find(|&role| identifier == Some(set_identifier(app, role).as_str()))
}

fn is_ours(app: &str, identifier: Option<&str>) -> bool {
    role_of(app, identifier).is_some() || identifier == Some(site_identifier(app).as_str())
}

/// Names as Route 53 returns them end with a dot and may differ in case.
fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
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
fn split_url(url: &str) -> Option<(String, String)> {
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
    fn config(&self) -> std::result::Result<HealthCheckConfig, String> {
        let mut config = HealthCheckConfig::builder()
            .r#type(HealthCheckType::Https)
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

    /// What differs between this and an existing check (empty: nothing).
    fn differences(&self, config: Option<&HealthCheckConfig>) -> Vec<&'static str> {
        let Some(config) = config else {
            return vec!["configuration"];
        };
        let mut regions: Vec<&str> = config.regions().iter().map(|r| r.as_str()).collect();
        regions.sort_unstable();
        let mut wanted: Vec<&str> = self.regions.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        let mut diff = Vec::new();
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
    pub fn inverted(&self) -> bool {
        self.check
            .health_check_config()
            .and_then(|c| c.inverted())
            .unwrap_or(false)
    }

    fn regions(&self) -> Vec<HealthCheckRegion> {
        self.check
            .health_check_config()
            .map(|c| c.regions().to_vec())
            .unwrap_or_default()
    }
}

/// Every health check tagged as this app's. Only checks on this app's state
/// path are asked for their tags, so the listing stays cheap in accounts
/// with many health checks.
pub async fn owned_checks(
    client: &r53::Client,
    app: &str,
) -> std::result::Result<Vec<OwnedCheck>, String> {
    let suffix = format!("/state/{app}");
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
            if tag(APP_TAG).as_deref() != Some(app) {
                continue;
            }
            let (Some(id), Some(region)) = (set.resource_id(), tag(REGION_TAG)) else {
                continue;
            };
            if let Some(check) = chunk.iter().find(|c| c.id() == id) {
                owned.push(OwnedCheck {
                    id: id.to_string(),
                    region,
                    domain: tag(DOMAIN_TAG),
                    zone: tag(ZONE_TAG),
                    check: check.clone(),
                });
            }
        }
    }
    owned.sort_by(|a, b| a.region.cmp(&b.region));
    Ok(owned)
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

fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// The record sets at `name` that mraa does not own and would collide with.
/// At the API name every type collides (a CNAME stands alone); at the site
/// name only address records do (the apex keeps its NS and SOA).
fn foreign(app: &str, records: &[ResourceRecordSet], api: bool) -> Vec<String> {
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

/// Refuses before any change: names taken by records mraa does not own, or
/// this app already serving another domain. Returns what it read: the
/// records of the API name, of the site name, and the app's health checks.
async fn refusals(
    client: &r53::Client,
    app: &str,
    domain: &str,
    (zone, zone_name): (&str, &str),
    check_site: bool,
) -> Result<(
    Vec<ResourceRecordSet>,
    Vec<ResourceRecordSet>,
    Vec<OwnedCheck>,
)> {
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
    let owned = owned_checks(client, app)
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
    Ok((api_records, site_records, owned))
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

    let (api_records, site_records, owned) = refusals(
        &client,
        app,
        domain,
        (&zone, &zone_name),
        request.distribution_domain.is_some(),
    )
    .await?;

    let mut outcome = WireOutcome::new(Change::Unchanged);
    let mut desired_records = Vec::new();
    for (role, desired, target) in &wanted {
        let existing = owned.iter().find(|c| c.region == desired.region);
        let check =
            ensure_check(ctx, &client, &zone, domain, desired, existing, &mut outcome).await?;
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

/// Creates or updates one region's health check; returns its id. The
/// `Inverted` flag is the state commands' and is left as it is.
async fn ensure_check(
    ctx: &Ctx,
    client: &r53::Client,
    zone: &str,
    domain: &str,
    desired: &DesiredCheck,
    existing: Option<&OwnedCheck>,
    outcome: &mut WireOutcome,
) -> Result<String> {
    let region = desired.region.as_str();
    let fail = |resource: &str, cause: String| aws_error(STEP, region, resource, cause);
    let config = desired.config().map_err(|e| fail("health check", e))?;
    let id = match existing {
        None => {
            ctx.claim("deploy").await?;
            let created = client
                .create_health_check()
                .caller_reference(format!("{}-{region}", ctx.run_id))
                .health_check_config(config)
                .send()
                .await
                .map_err(|e| fail("health check", sdk_message(&e)))?;
            outcome.mark(true);
            created
                .health_check()
                .map(|c| c.id().to_string())
                .ok_or_else(|| fail("health check", "created, but no id returned".into()))?
        }
        Some(found) => {
            let diff = desired.differences(found.check.health_check_config());
            if !diff.is_empty() {
                ctx.claim("deploy").await?;
                let mut update = client
                    .update_health_check()
                    .health_check_id(&found.id)
                    .fully_qualified_domain_name(&desired.fqdn)
                    .resource_path(&desired.path)
                    .port(443)
                    .failure_threshold(FAILURE_THRESHOLD)
                    .enable_sni(true)
                    .inverted(found.inverted());
                for r in &desired.regions {
                    update = update.regions(HealthCheckRegion::from(r.as_str()));
                }
                update
                    .send()
                    .await
                    .map_err(|e| fail(&format!("health check {}", found.id), sdk_message(&e)))?;
                outcome.mark(true);
            }
            found.id.clone()
        }
    };
    let tags_ok = existing
        .is_some_and(|c| c.domain.as_deref() == Some(domain) && c.zone.as_deref() == Some(zone));
    if !tags_ok {
        ctx.claim("deploy").await?;
        client
            .change_tags_for_resource()
            .resource_type(TagResourceType::Healthcheck)
            .resource_id(&id)
            .add_tags(Tag::builder().key(APP_TAG).value(&ctx.app).build())
            .add_tags(Tag::builder().key(REGION_TAG).value(region).build())
            .add_tags(Tag::builder().key(DOMAIN_TAG).value(domain).build())
            .add_tags(Tag::builder().key(ZONE_TAG).value(zone).build())
            .add_tags(
                Tag::builder()
                    .key("Name")
                    .value(format!("mraa-{}-{region}-state", ctx.app))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| fail(&format!("tags of health check {id}"), sdk_message(&e)))?;
        outcome.mark(true);
    }
    // Verify: read it back.
    let read = client
        .get_health_check()
        .health_check_id(&id)
        .send()
        .await
        .map_err(|e| fail(&format!("health check {id}"), sdk_message(&e)))?;
    let diff = desired.differences(read.health_check().and_then(|c| c.health_check_config()));
    if !diff.is_empty() {
        return Err(fail(
            &format!("health check {id}"),
            format!("read back with a different {}", diff.join(", ")),
        ));
    }
    outcome.check(region, Verdict::Ok);
    Ok(id)
}

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

/// `mraa status`: each health check's status, and which region the API
/// name answers with. No checks at all when the app has no custom domain.
/// `owned`: the app's health checks as `owned_checks` listed them.
pub async fn status_checks(
    aws: &Aws,
    app: &str,
    owned: std::result::Result<Vec<OwnedCheck>, String>,
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
        // First, so that a narrow terminal still shows it.
        let inverted = if check.inverted() {
            "inverted by `mraa failover` (Route 53 treats it as unhealthy); "
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
                    "{inverted}{ok} of {} checkers report success (health check {})",
                    observations.len(),
                    check.id,
                );
                // Route 53 calls an endpoint healthy above 18% of checkers.
                let up = !observations.is_empty() && ok * 100 > observations.len() * 18;
                if aws.custom_endpoint {
                    (
                        Health::Unverified,
                        format!(
                            "{text} (the endpoint does not probe: it reports every check healthy)"
                        ),
                        up,
                    )
                } else if up {
                    (Health::Ok, text, up)
                } else {
                    (Health::Degraded, text, up)
                }
            }
            Err(e) => (
                Health::Degraded,
                format!("health check {}: {}", check.id, sdk_message(&e)),
                false,
            ),
        };
        healthy_by_region.insert(check.region.clone(), healthy && !check.inverted());
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
        for name in [api_name(&domain), domain.clone()] {
            for record in records_named(&client, &zone, &name).await? {
                if is_ours(app, record.set_identifier()) {
                    records.push((zone.clone(), record));
                }
            }
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
        let mut changes = Vec::new();
        for set in &sets {
            changes.push(
                RecordChange::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set((*set).clone())
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        let result = client
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(
                ChangeBatch::builder()
                    .comment(format!("mraa {app}: teardown"))
                    .set_changes(Some(changes))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await;
        if let Err(e) = result {
            // Already gone (a re-run): the read-back below decides.
            if !matches!(e.as_service_error(), Some(s) if s.is_invalid_change_batch()) {
                return Err(format!("records in zone {zone}: {}", sdk_message(&e)));
            }
        }
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
        match client
            .delete_health_check()
            .health_check_id(&check.id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_health_check()) => {}
            Err(e) => return Err(format!("health check {}: {}", check.id, sdk_message(&e))),
        }
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
