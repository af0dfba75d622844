//! Which Route 53 records and health checks are mraa's, and what each one
//! stands for: the one place that names them. Wiring writes these names,
//! `status` reads regions from them, `diff` reports by them and `teardown`
//! deletes only what they mark.
//!
//! Ownership is explicit, because a hosted zone is shared with whatever else
//! the user keeps there. A record set is mraa's when its set identifier is
//! one of the app's [`RecordId`]s: `mraa-<app>-primary` and
//! `mraa-<app>-secondary` (the failover aliases), the same with `-marker`
//! (the region markers), `mraa-<app>-latency-<region>` and the same with
//! `-marker` (latency records, one set per region), and `mraa-<app>-site`. A
//! record of a name mraa would write without one of those identifiers belongs
//! to someone else: deploy refuses before any change, and teardown never
//! touches it. A health check is mraa's when it carries the tags `mraa:app`,
//! `mraa:region`, `mraa:domain` and `mraa:zone` ([`check_tags`]); one whose
//! tagging was interrupted is found by its CallerReference
//! ([`caller_reference`]) among the checks on the app's state path
//! ([`state_path_suffix`]).
//!
//! The region marker: beside each region's alias, a TXT record of the same
//! name, routing and health check whose value names the region
//! (`"mraa-<app> region=<region>"`). Route 53 evaluates failover and latency
//! per record type with the same checks, so the TXT answer names the region
//! the A answer serves, without resolving AWS-owned alias targets. Failover
//! routing takes TXT records like address records (Route 53 Developer Guide,
//! "Values specific for failover records", Value/Route traffic to;
//! docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-failover.html),
//! and so does latency routing ("Values specific for latency records";
//! docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-latency.html).
//! A marker's value is the same for either routing policy: it names a region,
//! not a role.

use aws_sdk_route53::types::HealthCheckType;

use crate::names::APP_TAG;
use crate::plan::RegionRole;

pub const REGION_TAG: &str = "mraa:region";
pub const DOMAIN_TAG: &str = "mraa:domain";
pub const ZONE_TAG: &str = "mraa:zone";
/// What the state endpoint says where its region should serve. Route 53
/// searches the first 5,120 bytes of the body, case-sensitively (Route 53
/// Developer Guide, "Values that you specify when you create or update health
/// checks", Search string); the state document is far shorter. Failover and
/// latency records carry the same check.
pub const SEARCH_STRING: &str = "\"serving\": true";
/// The only type mraa's checks have. Route 53 cannot change a check's type
/// (same page: "you can't change some values after you create a health
/// check"), so a check of another type is replaced, never updated.
pub const CHECK_TYPE: HealthCheckType = HealthCheckType::HttpsStrMatch;

pub fn api_name(domain: &str) -> String {
    format!("api.{domain}")
}

/// Names as Route 53 returns them end with a dot and may differ in case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// How a region's record sets at the API name are routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// PRIMARY or SECONDARY of a failover pair (active-passive).
    Failover(RegionRole),
    /// One latency record per region (active-active), named by the region.
    Latency(String),
}

/// One of mraa's record sets, as its set identifier says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordId {
    /// A region's alias at the API name.
    Alias(Routing),
    /// A region's marker at the API name (TXT, same routing and check).
    Marker(Routing),
    /// The site name's aliases to the CloudFront distribution.
    Site,
}

impl RecordId {
    /// The set identifier Route 53 stores for this record set.
    pub fn identifier(&self, app: &str) -> String {
        let base = |routing: &Routing| match routing {
            Routing::Failover(RegionRole::Primary) => format!("mraa-{app}-primary"),
            Routing::Failover(RegionRole::Secondary) => format!("mraa-{app}-secondary"),
            Routing::Latency(region) => format!("mraa-{app}-latency-{region}"),
        };
        match self {
            RecordId::Alias(routing) => base(routing),
            // Not the alias's: each set of a region stays addressable on
            // its own (deploy replaces mraa's records of another type under
            // a wanted identifier).
            RecordId::Marker(routing) => format!("{}-marker", base(routing)),
            RecordId::Site => format!("mraa-{app}-site"),
        }
    }

    /// The app's record set a set identifier names, if any: anything else
    /// in the zone is someone else's.
    pub fn parse(app: &str, identifier: Option<&str>) -> Option<RecordId> {
        let rest = identifier?.strip_prefix(&format!("mraa-{app}-"))?;
        if rest == "site" {
            return Some(RecordId::Site);
        }
        let (rest, marker) = match rest.strip_suffix("-marker") {
            Some(rest) => (rest, true),
            None => (rest, false),
        };
        let routing = match rest {
            "primary" => Routing::Failover(RegionRole::Primary),
            "secondary" => Routing::Failover(RegionRole::Secondary),
            // Only a Region's name: another app whose name extends this
            // one's (`demo-latency-x`) stays another app's.
            other => {
                let region = other.strip_prefix("latency-")?;
                crate::regions::is_known(region).then(|| Routing::Latency(region.to_string()))?
            }
        };
        Some(match marker {
            true => RecordId::Marker(routing),
            false => RecordId::Alias(routing),
        })
    }

    pub fn routing(&self) -> Option<&Routing> {
        match self {
            RecordId::Alias(routing) | RecordId::Marker(routing) => Some(routing),
            RecordId::Site => None,
        }
    }

    /// The region whose API this record set answers with (`None`: the site,
    /// which is global). `of_role` names the region of a failover role.
    pub fn region<'a>(&'a self, of_role: impl Fn(RegionRole) -> &'a str) -> Option<&'a str> {
        match self.routing()? {
            Routing::Failover(role) => Some(of_role(*role)),
            Routing::Latency(region) => Some(region),
        }
    }
}

pub fn set_identifier(app: &str, role: RegionRole) -> String {
    RecordId::Alias(Routing::Failover(role)).identifier(app)
}

pub fn marker_identifier(app: &str, role: RegionRole) -> String {
    RecordId::Marker(Routing::Failover(role)).identifier(app)
}

pub fn site_identifier(app: &str) -> String {
    RecordId::Site.identifier(app)
}

/// Which region's failover record (alias or marker) a set identifier
/// marks, if any.
pub fn role_of(app: &str, identifier: Option<&str>) -> Option<RegionRole> {
    match RecordId::parse(app, identifier)?.routing()? {
        Routing::Failover(role) => Some(*role),
        Routing::Latency(_) => None,
    }
}

pub fn is_ours(app: &str, identifier: Option<&str>) -> bool {
    RecordId::parse(app, identifier).is_some()
}

/// The region a record set of the app serves, failover or latency; `None`
/// for the site and for what is not the app's.
pub fn served_region(
    app: &str,
    identifier: Option<&str>,
    primary: &str,
    secondary: &str,
) -> Option<String> {
    let id = RecordId::parse(app, identifier)?;
    id.region(|role| match role {
        RegionRole::Primary => primary,
        RegionRole::Secondary => secondary,
    })
    .map(str::to_string)
}

/// The region marker's value: one quoted TXT string (Route 53 Developer
/// Guide, "Supported DNS record types", TXT record type: each string in
/// quotation marks).
pub fn marker_value(app: &str, region: &str) -> String {
    format!("\"mraa-{app} region={region}\"")
}

/// The region a marker value names, if it is this app's marker. Quotes are
/// optional: a DNS answer may show the string with or without them.
pub fn marker_region(app: &str, value: &str) -> Option<String> {
    let text = value.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let region = text.strip_prefix(&format!("mraa-{app} region="))?;
    (!region.is_empty() && !region.contains(char::is_whitespace)).then(|| region.to_string())
}

/// Where every check of the app points: its regions' `GET /state/<app>`.
pub fn state_path_suffix(app: &str) -> String {
    format!("/state/{app}")
}

/// The tags that make a region's health check the app's, and its name.
pub fn check_tags(
    app: &str,
    region: &str,
    domain: &str,
    zone: &str,
) -> [(&'static str, String); 5] {
    [
        (APP_TAG, app.to_string()),
        (REGION_TAG, region.to_string()),
        (DOMAIN_TAG, domain.to_string()),
        (ZONE_TAG, zone.to_string()),
        ("Name", format!("mraa-{app}-{region}-state")),
    ]
}

/// What a check's tags say about it, when they make it the app's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOwner {
    pub region: String,
    pub domain: Option<String>,
    pub zone: Option<String>,
}

impl CheckOwner {
    /// `tag`: a tag's value by key. `None`: not the app's (another app's, or
    /// no region tag).
    pub fn from_tags(app: &str, tag: impl Fn(&str) -> Option<String>) -> Option<CheckOwner> {
        if tag(APP_TAG).as_deref() != Some(app) {
            return None;
        }
        Some(CheckOwner {
            region: tag(REGION_TAG)?,
            domain: tag(DOMAIN_TAG),
            zone: tag(ZONE_TAG),
        })
    }
}

/// The CallerReference of a region's check: the same for every run of one
/// deployment, so that a create retried after an interruption finds the
/// check it made instead of making a second. `deployment` must change when
/// the deployment is made anew (the bootstrap stack's id): Route 53 refuses,
/// with HealthCheckAlreadyExists, the reference of a deleted check whatever
/// the settings (API Reference, CreateHealthCheck, CallerReference). The type
/// is part of it, so that replacing a check of another type makes a new
/// reference. At most 64 characters. The routing policy is not: failover and
/// latency records of a region share its one check.
pub fn caller_reference(app: &str, region: &str, deployment: &str) -> String {
    let key = [app, region, CHECK_TYPE.as_str(), SEARCH_STRING, deployment].join("\u{0}");
    format!("mraa-{region}-{:016x}", fnv1a(key.as_bytes()))
}

/// 64-bit FNV-1a: a hash that stays the same across builds and platforms
/// (std's hasher does not promise that).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_their_region_and_role() {
        let value = marker_value("demo", "eu-west-1");
        assert_eq!(value, "\"mraa-demo region=eu-west-1\"");
        assert_eq!(marker_region("demo", &value).as_deref(), Some("eu-west-1"));
        assert_eq!(
            marker_region("demo", "mraa-demo region=eu-west-1").as_deref(),
            Some("eu-west-1")
        );
        // Another app's marker, or anything else, names no region of this app.
        assert_eq!(
            marker_region("demo", &marker_value("other", "eu-west-1")),
            None
        );
        assert_eq!(marker_region("demo", "\"v=spf1 -all\""), None);
        assert_eq!(marker_region("demo", "\"mraa-demo region=\""), None);
        for role in [RegionRole::Primary, RegionRole::Secondary] {
            let marker = marker_identifier("demo", role);
            assert_eq!(role_of("demo", Some(&marker)), Some(role));
            assert!(is_ours("demo", Some(&marker)));
            assert_ne!(marker, set_identifier("demo", role));
        }
        assert_eq!(role_of("demo", Some("mraa-other-primary-marker")), None);
    }

    #[test]
    fn identifiers_are_the_ones_deployed_and_read_back() {
        // These strings are in zones already deployed: they must not move.
        assert_eq!(
            set_identifier("demo", RegionRole::Primary),
            "mraa-demo-primary"
        );
        assert_eq!(
            marker_identifier("demo", RegionRole::Secondary),
            "mraa-demo-secondary-marker"
        );
        assert_eq!(site_identifier("demo"), "mraa-demo-site");
        let ids = [
            RecordId::Alias(Routing::Failover(RegionRole::Primary)),
            RecordId::Marker(Routing::Failover(RegionRole::Secondary)),
            RecordId::Alias(Routing::Latency("eu-west-1".into())),
            RecordId::Marker(Routing::Latency("ap-northeast-1".into())),
            RecordId::Site,
        ];
        for id in ids {
            let text = id.identifier("demo");
            assert_eq!(RecordId::parse("demo", Some(&text)), Some(id), "{text}");
            assert_eq!(RecordId::parse("other", Some(&text)), None, "{text}");
        }
        assert_eq!(RecordId::parse("demo", None), None);
        assert_eq!(
            RecordId::parse("demo", Some("mraa-demo-latency-nowhere")),
            None
        );
        assert_eq!(RecordId::parse("demo", Some("mraa-demo-tertiary")), None);
    }

    #[test]
    fn latency_records_name_their_region_beside_failover_roles() {
        let latency = RecordId::Alias(Routing::Latency("eu-west-1".into())).identifier("demo");
        assert_eq!(latency, "mraa-demo-latency-eu-west-1");
        assert!(is_ours("demo", Some(&latency)));
        assert_eq!(role_of("demo", Some(&latency)), None);
        let served = |id: &str| served_region("demo", Some(id), "us-east-1", "eu-west-1");
        assert_eq!(served(&latency).as_deref(), Some("eu-west-1"));
        assert_eq!(
            served("mraa-demo-latency-ap-northeast-1-marker").as_deref(),
            Some("ap-northeast-1")
        );
        assert_eq!(served("mraa-demo-secondary").as_deref(), Some("eu-west-1"));
        assert_eq!(
            served("mraa-demo-primary-marker").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(served("mraa-demo-site"), None);
        assert_eq!(served("someone-else"), None);
    }

    #[test]
    fn checks_are_owned_by_their_tags_and_found_by_their_reference() {
        let tags = check_tags("demo", "eu-west-1", "app.example.test", "Z1");
        let tag = |key: &str| tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        let owner = CheckOwner::from_tags("demo", tag).expect("the app's");
        assert_eq!(owner.region, "eu-west-1");
        assert_eq!(owner.zone.as_deref(), Some("Z1"));
        assert_eq!(CheckOwner::from_tags("other", tag), None);
        let reference = caller_reference("demo", "eu-west-1", "stack-1");
        assert!(reference.starts_with("mraa-eu-west-1-") && reference.len() <= 64);
        assert_eq!(reference, caller_reference("demo", "eu-west-1", "stack-1"));
        assert_ne!(reference, caller_reference("demo", "eu-west-1", "stack-2"));
        assert_ne!(reference, caller_reference("demo", "us-east-1", "stack-1"));
    }
}
