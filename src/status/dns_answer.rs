//! `mraa status`'s `dns-answer` row: which region the API name answers
//! with, read from the region marker (`wire::dns_identity`) that Route 53 answers
//! for TXT under the same failover rules as the aliases.
//!
//! The marker is the evidence: TestDNSAnswer asks Route 53's own name
//! servers what they answer now, with the health checks' current status
//! (API Reference, TestDNSAnswer,
//! docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html).
//! The A answer is an alias target's addresses, which tell the region only
//! where those targets resolve here; it is a second signal, never the
//! only one.

use std::collections::BTreeMap;

use aws_sdk_route53 as r53;
use r53::types::RrType;

use crate::aws::sdk_message;
use crate::health::{Check, Health};
use crate::wire::dns_identity::{marker_region, served_region};
use crate::wire::route53::{GLOBAL, records_named};

const NAME: &str = "dns-answer";
/// How long the addresses of one alias target may take to resolve.
const RESOLVE_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

/// The deployment's two regions, by role.
pub struct Regions<'a> {
    pub primary: &'a str,
    pub secondary: &'a str,
}

/// The `dns-answer` row. `expected`: the region the health checks make
/// Route 53 answer with.
pub async fn answer_check(
    client: &r53::Client,
    app: &str,
    (zone, api): (&str, &str),
    regions: &Regions<'_>,
    expected: &str,
) -> Check {
    let txt = test_answer(client, zone, api, RrType::Txt).await;
    let marked = txt.as_ref().ok().and_then(|(_, data)| {
        data.iter()
            .find_map(|value| marker_region(app, value))
            .filter(|region| region == expected)
    });
    // The addresses only for a marker that agrees: a disagreeing or missing
    // marker is degraded whatever they say.
    let by_addresses = match marked {
        Some(_) => region_by_addresses(client, app, (zone, api), regions).await,
        None => None,
    };
    let (health, detail) = judge(app, api, expected, txt, by_addresses);
    Check::link(NAME, GLOBAL, health, detail)
}

/// (response code, record data) of what Route 53 answers for `api` now.
async fn test_answer(
    client: &r53::Client,
    zone: &str,
    api: &str,
    kind: RrType,
) -> Result<(String, Vec<String>), String> {
    client
        .test_dns_answer()
        .hosted_zone_id(zone)
        .record_name(api)
        .record_type(kind)
        .send()
        .await
        .map(|out| (out.response_code().to_string(), out.record_data().to_vec()))
        .map_err(|e| sdk_message(&e))
}

/// The verdict, from the TXT answer and, where they resolved, the region
/// whose alias target has the addresses of the A answer.
fn judge(
    app: &str,
    api: &str,
    expected: &str,
    txt: Result<(String, Vec<String>), String>,
    by_addresses: Option<String>,
) -> (Health, String) {
    let (code, data) = match txt {
        Ok(answer) => answer,
        Err(cause) => {
            return (
                Health::Degraded,
                format!(
                    "Route 53 cannot say what {api} answers ({cause}); by the health checks it \
                     should be {expected}"
                ),
            );
        }
    };
    let shown = data.join(" ");
    let Some(region) = data.iter().find_map(|value| marker_region(app, value)) else {
        return (
            Health::Degraded,
            format!(
                "{api} TXT answers {code} {shown:?}, no region marker of mraa's; by the health \
                 checks it should be {expected}: run `mraa deploy` to write the markers"
            ),
        );
    };
    if region != expected {
        return (
            Health::Degraded,
            format!(
                "{api} answers {region} (its region marker), the health checks say {expected}: \
                 Route 53 follows a check within about 90 s; if it stays, `mraa diff` names the \
                 records that differ and `mraa deploy` rewrites them"
            ),
        );
    }
    match by_addresses {
        Some(other) if other != region => (
            Health::Degraded,
            format!(
                "{api} answers {region} by its region marker but {other} by its addresses: \
                 `mraa diff` names the records that differ and `mraa deploy` rewrites them"
            ),
        ),
        Some(_) => (
            Health::Ok,
            format!("{api} answers {region} (region marker and addresses)"),
        ),
        None => (
            Health::Ok,
            format!("{api} answers {region} (region marker)"),
        ),
    }
}

/// The region whose alias target resolves here to the first address of the
/// A answer; `None` when the answer is empty or nothing matches (the
/// targets do not resolve from here, or their addresses moved).
async fn region_by_addresses(
    client: &r53::Client,
    app: &str,
    (zone, api): (&str, &str),
    regions: &Regions<'_>,
) -> Option<String> {
    let (_, data) = test_answer(client, zone, api, RrType::A).await.ok()?;
    let first = data.first()?.trim_end_matches('.').to_ascii_lowercase();
    let records = records_named(client, zone, api).await.ok()?;
    let targets: BTreeMap<String, String> = records
        .iter()
        .filter(|r| r.r#type() == &RrType::A)
        .filter_map(|r| {
            let region =
                served_region(app, r.set_identifier(), regions.primary, regions.secondary)?;
            Some((region, r.alias_target()?.dns_name().to_string()))
        })
        .collect();
    let resolved = futures::future::join_all(
        targets
            .iter()
            .map(|(region, target)| async move { (region, resolve(target).await) }),
    )
    .await;
    resolved
        .into_iter()
        .find(|(_, addresses)| addresses.contains(&first))
        .map(|(region, _)| region.clone())
}

/// The addresses a name resolves to now (none when it does not resolve
/// within the bound).
async fn resolve(name: &str) -> Vec<String> {
    let host = name.trim_end_matches('.').to_string();
    match tokio::time::timeout(RESOLVE_BOUND, tokio::net::lookup_host((host, 443))).await {
        Ok(Ok(found)) => found.map(|a| a.ip().to_string()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dns_identity::marker_value;

    const API: &str = "api.app.example.test";

    fn answered(values: &[String]) -> Result<(String, Vec<String>), String> {
        Ok(("NOERROR".into(), values.to_vec()))
    }

    #[test]
    fn the_marker_of_the_expected_region_is_ok() {
        let txt = answered(&[marker_value("demo", "eu-west-1")]);
        let (health, detail) = judge("demo", API, "eu-west-1", txt, None);
        assert_eq!(health, Health::Ok, "{detail}");
        assert!(detail.contains("answers eu-west-1"), "{detail}");
    }

    #[test]
    fn the_marker_of_another_region_is_degraded_with_the_expected_one() {
        let txt = answered(&[marker_value("demo", "eu-west-1")]);
        let (health, detail) = judge("demo", API, "ap-northeast-1", txt, None);
        assert_eq!(health, Health::Degraded);
        assert!(
            detail.contains("the health checks say ap-northeast-1") && detail.contains("mraa"),
            "{detail}"
        );
    }

    #[test]
    fn addresses_that_disagree_degrade_and_none_do_not() {
        let marker = [marker_value("demo", "eu-west-1")];
        let (health, _) = judge(
            "demo",
            API,
            "eu-west-1",
            answered(&marker),
            Some("ap-northeast-1".into()),
        );
        assert_eq!(health, Health::Degraded);
        let (health, _) = judge(
            "demo",
            API,
            "eu-west-1",
            answered(&marker),
            Some("eu-west-1".into()),
        );
        assert_eq!(health, Health::Ok);
    }

    #[test]
    fn no_marker_or_no_answer_is_degraded_with_the_cause() {
        let (health, detail) = judge(
            "demo",
            API,
            "eu-west-1",
            Ok(("NOERROR".into(), Vec::new())),
            None,
        );
        assert_eq!(health, Health::Degraded);
        assert!(detail.contains("mraa deploy"), "{detail}");
        // Another app's marker is no marker of this one.
        let other = answered(&[marker_value("other", "eu-west-1")]);
        assert_eq!(
            judge("demo", API, "eu-west-1", other, None).0,
            Health::Degraded
        );
        let (health, detail) = judge("demo", API, "eu-west-1", Err("AccessDenied".into()), None);
        assert_eq!(health, Health::Degraded);
        assert!(
            detail.contains("AccessDenied") && detail.contains("eu-west-1"),
            "{detail}"
        );
    }
}
