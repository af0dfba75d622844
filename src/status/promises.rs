//! What deploy promised, read back through the services' own APIs: the
//! distribution serves the custom domain with its certificate (or neither
//! without one), each website bucket's `config.json` names this
//! deployment's endpoints, and each regional API answers with the allowed
//! CORS origin. A stack that says so is not enough: a change CloudFormation
//! did not make, or an edit behind mraa's back, shows here as `degraded`,
//! naming what differs and the deploy that restores it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::aws::{Aws, is_not_found, is_unreachable, sdk_message};
use crate::health::{Check, Health};
use crate::names;
use crate::plan::{CERTIFICATE_REGION, Plan, Unit};
use crate::wire::site::CustomDomain;

use super::{Down, UnitOutputs};

/// The header API Gateway sends with an error answer (gateway responses,
/// "Enabling CORS for a REST API resource", docs.aws.amazon.com/apigateway/
/// latest/developerguide/how-to-cors.html); its value is a quoted literal.
const ORIGIN_HEADER: &str = "gatewayresponse.header.Access-Control-Allow-Origin";

/// What the distribution serves, as CloudFront reports it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Served {
    pub aliases: Vec<String>,
    pub acm_certificate: Option<String>,
    pub default_certificate: bool,
}

/// What deploy made the distribution serve: the domain (none without
/// `--domain`) and the site certificate's ARN.
pub fn distribution_differences(
    domain: Option<&str>,
    certificate: Option<&str>,
    served: &Served,
) -> Vec<String> {
    let mut found = Vec::new();
    match domain {
        Some(domain) => {
            if !served.aliases.iter().any(|a| a == domain) {
                found.push(format!(
                    "alias {domain} missing (aliases: {})",
                    listed(&served.aliases)
                ));
            }
            match (certificate, served.acm_certificate.as_deref()) {
                (Some(want), Some(have)) if want == have => {}
                (Some(want), have) => found.push(format!(
                    "certificate {} instead of {want}",
                    have.unwrap_or("(CloudFront's default)")
                )),
                (None, _) => found.push(format!(
                    "no site certificate recorded for {domain} (site-certificate stack output)"
                )),
            }
        }
        None => {
            if !served.aliases.is_empty() {
                found.push(format!(
                    "aliases {} without a custom domain",
                    listed(&served.aliases)
                ));
            }
            if !served.default_certificate {
                found.push("not CloudFront's default certificate".into());
            }
        }
    }
    found
}

fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// The fields of `config.json` that name this deployment, as deploy writes
/// them (`wire::site`): a field of `expected` that `actual` lacks or holds
/// otherwise is a difference, named by its path.
pub fn config_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut found = Vec::new();
    compare("", expected, actual, &mut found);
    found
}

fn compare(path: &str, expected: &Value, actual: &Value, found: &mut Vec<String>) {
    match expected {
        Value::Object(fields) => {
            for (key, want) in fields {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                compare(&at, want, actual.get(key).unwrap_or(&Value::Null), found);
            }
        }
        want if want != actual => found.push(format!("{path} is {actual}, not {want}")),
        _ => {}
    }
}

/// The part of `config.json` status checks, from the deployment's outputs.
pub fn expected_config(
    app: &str,
    primary: &str,
    secondary: &str,
    domain: Option<&str>,
    outputs: &UnitOutputs,
) -> Value {
    let get = |unit, region: &str, key: &str| {
        outputs
            .get(&(unit, region.to_string()))
            .and_then(|o| o.get(key))
            .cloned()
    };
    let regions: serde_json::Map<String, Value> = [primary, secondary]
        .iter()
        .map(|region| {
            (
                region.to_string(),
                json!({
                    "stateUrl": get(Unit::Routing, region, "StateApiUrl").map(|u| format!("{u}{app}")),
                    "apiUrl": get(Unit::Application, region, "AppApiUrl"),
                }),
            )
        })
        .collect();
    json!({
        "appId": app,
        "primaryRegion": primary,
        "secondaryRegion": secondary,
        "regions": regions,
        "customDomain": domain.map(|d| CustomDomain::new(app, d)),
    })
}

/// Each gateway response's CORS origin that is not `origin`.
pub fn cors_differences(origin: &str, found: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let want = format!("'{origin}'");
    if found.is_empty() {
        return vec!["no gateway responses".into()];
    }
    found
        .iter()
        .filter(|(_, have)| have.as_deref() != Some(want.as_str()))
        .map(|(kind, have)| match have {
            Some(have) => format!("{kind} allows {have}, not {want}"),
            None => format!("{kind} sends no Access-Control-Allow-Origin"),
        })
        .collect()
}

/// The checks, in the primary (distribution) and in each region that
/// answers (site configuration, CORS origin).
pub async fn checks(
    aws: &Aws,
    plan: &Plan,
    outputs: &UnitOutputs,
    account: &str,
    down: &Down,
) -> Vec<Check> {
    let app = &plan.app;
    let primary = &aws.primary.region;
    let secondary = &aws.secondary.region;
    let domain = plan.domain.as_ref().map(|d| d.name.as_str());
    let redeploy = match domain {
        Some(d) => format!("mraa deploy --secondary {secondary} --domain {d}"),
        None => format!("mraa deploy --secondary {secondary}"),
    };
    let mut checks = Vec::new();
    if !down.contains_key(primary) {
        checks.push(distribution(aws, plan, outputs, &redeploy).await);
    }
    let expected = expected_config(app, primary, secondary, domain, outputs);
    let origin = allowed_origin(aws, app, down).await;
    for clients in aws.regions() {
        let region = &clients.region;
        if down.contains_key(region) {
            continue;
        }
        let bucket = names::bucket_name(app, "website", account, region);
        checks.push(site_config(clients, &bucket, &expected, &redeploy).await);
        let apis = [
            (Unit::Routing, "StateApiId"),
            (Unit::Application, "AppApiId"),
        ]
        .into_iter()
        .filter_map(|(unit, key)| outputs.get(&(unit, region.clone()))?.get(key).cloned())
        .collect::<Vec<_>>();
        checks.push(cors(clients, &apis, &origin, &redeploy).await);
    }
    checks
}

async fn distribution(aws: &Aws, plan: &Plan, outputs: &UnitOutputs, redeploy: &str) -> Check {
    let check = |health, detail: String| Check::link("site-domain", "global", health, detail);
    let Some(id) = outputs
        .get(&(Unit::Edge, aws.primary.region.clone()))
        .and_then(|o| o.get("DistributionId"))
    else {
        return check(
            Health::Missing,
            "the edge stack has no DistributionId output".into(),
        );
    };
    let config = match aws.cloudfront.get_distribution().id(id).send().await {
        Ok(out) => out.distribution.and_then(|d| d.distribution_config),
        Err(e) if is_unreachable(&e) => return check(Health::Unreachable, sdk_message(&e)),
        Err(e) if is_not_found(&e) => {
            return check(Health::Missing, format!("distribution {id} not found"));
        }
        Err(e) => return check(Health::Degraded, format!("{id}: {}", sdk_message(&e))),
    };
    let served = Served {
        aliases: config
            .as_ref()
            .and_then(|c| c.aliases())
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        acm_certificate: config
            .as_ref()
            .and_then(|c| c.viewer_certificate())
            .and_then(|v| v.acm_certificate_arn())
            .map(str::to_string),
        default_certificate: config
            .as_ref()
            .and_then(|c| c.viewer_certificate())
            .and_then(|v| v.cloud_front_default_certificate())
            .unwrap_or(false),
    };
    let domain = plan.domain.as_ref().map(|d| d.name.as_str());
    let certificate = outputs
        .get(&(Unit::SiteCertificate, CERTIFICATE_REGION.to_string()))
        .and_then(|o| o.get("CertificateArn"))
        .map(String::as_str);
    let differences = distribution_differences(domain, certificate, &served);
    if differences.is_empty() {
        let detail = match domain {
            Some(d) => format!("{id} serves {d} with its certificate"),
            None => format!("{id} serves its cloudfront.net name only"),
        };
        return check(Health::Ok, detail);
    }
    check(
        Health::Degraded,
        format!(
            "distribution {id}: {}; run `{redeploy}`",
            differences.join("; ")
        ),
    )
}

async fn site_config(
    clients: &crate::aws::RegionClients,
    bucket: &str,
    expected: &Value,
    redeploy: &str,
) -> Check {
    let region = &clients.region;
    let check = |health, detail: String| Check::link("site-config", region, health, detail);
    let got = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key("config.json")
        .send()
        .await;
    let body = match got {
        Ok(out) => match out.body.collect().await {
            Ok(bytes) => bytes.into_bytes(),
            Err(e) => return check(Health::Degraded, format!("{bucket}/config.json: {e}")),
        },
        Err(e) if is_unreachable(&e) => return check(Health::Unreachable, sdk_message(&e)),
        Err(e) if is_not_found(&e) => {
            return check(
                Health::Missing,
                format!("{bucket}/config.json not found; run `{redeploy}`"),
            );
        }
        Err(e) => {
            return check(
                Health::Degraded,
                format!("{bucket}/config.json: {}", sdk_message(&e)),
            );
        }
    };
    let actual: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return check(
                Health::Degraded,
                format!("{bucket}/config.json is not JSON ({e}); run `{redeploy}`"),
            );
        }
    };
    let differences = config_differences(expected, &actual);
    if differences.is_empty() {
        check(
            Health::Ok,
            format!("{bucket}/config.json names this deployment"),
        )
    } else {
        check(
            Health::Degraded,
            format!(
                "{bucket}/config.json: {}; run `{redeploy}`",
                differences.join("; ")
            ),
        )
    }
}

/// The CORS origin deploy gave the routing StackSet (`--allowed-origin`).
async fn allowed_origin(aws: &Aws, app: &str, down: &Down) -> Result<String, String> {
    if let Some(cause) = down.get(&aws.primary.region) {
        return Err(cause.clone());
    }
    let name = names::stack_name(app, Unit::Routing.id());
    let out = aws
        .primary
        .cfn
        .describe_stack_set()
        .stack_set_name(&name)
        .send()
        .await
        .map_err(|e| format!("{name}: {}", sdk_message(&e)))?;
    out.stack_set()
        .map(|s| s.parameters())
        .unwrap_or_default()
        .iter()
        .find(|p| p.parameter_key() == Some("AllowedOrigin"))
        .and_then(|p| p.parameter_value())
        .map(str::to_string)
        .ok_or_else(|| format!("{name} has no AllowedOrigin parameter"))
}

async fn cors(
    clients: &crate::aws::RegionClients,
    apis: &[String],
    origin: &Result<String, String>,
    redeploy: &str,
) -> Check {
    let region = &clients.region;
    let check = |health, detail: String| Check::link("cors-origin", region, health, detail);
    let origin = match origin {
        Ok(origin) => origin,
        Err(cause) => {
            return check(
                Health::Unverified,
                format!("the allowed origin deploy recorded cannot be read: {cause}"),
            );
        }
    };
    if apis.len() < 2 {
        return check(
            Health::Missing,
            "the routing or application stack has no API id output".into(),
        );
    }
    let mut problems = Vec::new();
    for api in apis {
        let listed = clients
            .apigateway
            .get_gateway_responses()
            .rest_api_id(api)
            .send()
            .await;
        let responses = match listed {
            Ok(out) => out.items.unwrap_or_default(),
            Err(e) if is_unreachable(&e) => return check(Health::Unreachable, sdk_message(&e)),
            Err(e) => return check(Health::Degraded, format!("API {api}: {}", sdk_message(&e))),
        };
        // Only the responses the templates define (AWS lists defaults too).
        let found: BTreeMap<String, Option<String>> = responses
            .iter()
            .filter(|r| !r.default_response())
            .filter_map(|r| {
                Some((
                    r.response_type()?.as_str().to_string(),
                    r.response_parameters()
                        .and_then(|p| p.get(ORIGIN_HEADER))
                        .cloned(),
                ))
            })
            .collect();
        problems.extend(
            cors_differences(origin, &found)
                .into_iter()
                .map(|d| format!("API {api}: {d}")),
        );
    }
    if problems.is_empty() {
        check(Health::Ok, format!("APIs allow origin {origin}"))
    } else {
        check(
            Health::Degraded,
            format!(
                "{}; run `{redeploy} --allowed-origin {origin}`",
                problems.join("; ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(aliases: &[&str], acm: Option<&str>, default: bool) -> Served {
        Served {
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            acm_certificate: acm.map(str::to_string),
            default_certificate: default,
        }
    }

    #[test]
    fn a_domain_needs_its_alias_and_certificate() {
        let cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
        let right = served(&["app.example.test"], Some(cert), false);
        assert!(distribution_differences(Some("app.example.test"), Some(cert), &right).is_empty());
        let plain = served(&[], None, true);
        let found = distribution_differences(Some("app.example.test"), Some(cert), &plain);
        assert_eq!(
            found,
            [
                "alias app.example.test missing (aliases: none)".to_string(),
                format!("certificate (CloudFront's default) instead of {cert}"),
            ]
        );
        let other = served(&["app.example.test"], Some("arn:other"), false);
        assert_eq!(
            distribution_differences(Some("app.example.test"), Some(cert), &other),
            [format!("certificate arn:other instead of {cert}")]
        );
    }

    #[test]
    fn without_a_domain_no_alias_and_the_default_certificate() {
        assert!(distribution_differences(None, None, &served(&[], None, true)).is_empty());
        assert_eq!(
            distribution_differences(None, None, &served(&["x.test"], Some("arn:c"), false)),
            [
                "aliases x.test without a custom domain",
                "not CloudFront's default certificate"
            ]
        );
    }

    #[test]
    fn config_fields_are_compared_by_path() {
        let mut outputs = UnitOutputs::new();
        outputs.insert(
            (Unit::Routing, "us-east-1".into()),
            [(
                "StateApiUrl".to_string(),
                "https://s/prod/state/".to_string(),
            )]
            .into(),
        );
        let expected = expected_config("a", "us-east-1", "eu-west-1", Some("d.test"), &outputs);
        assert_eq!(
            expected["regions"]["us-east-1"]["stateUrl"],
            "https://s/prod/state/a"
        );
        let mut actual = expected.clone();
        actual["userReplication"] = json!("native"); // not checked
        assert!(config_differences(&expected, &actual).is_empty());
        actual["customDomain"] = Value::Null;
        actual["regions"]["us-east-1"]["stateUrl"] = json!("https://old");
        let mut found = config_differences(&expected, &actual);
        found.sort();
        assert_eq!(
            found,
            [
                "customDomain.apiUrl is null, not \"https://api.d.test/app/\"",
                "customDomain.siteUrl is null, not \"https://d.test\"",
                "customDomain.stateUrl is null, not \"https://api.d.test/routing/state/a\"",
                "regions.us-east-1.stateUrl is \"https://old\", not \"https://s/prod/state/a\"",
            ]
        );
        // Without a domain, a file that still names one differs.
        let plain = expected_config("a", "us-east-1", "eu-west-1", None, &outputs);
        let found = config_differences(&plain, &expected);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("customDomain is {"), "{found:?}");
    }

    #[test]
    fn each_gateway_response_allows_the_origin() {
        let ok: BTreeMap<String, Option<String>> = [
            (
                "DEFAULT_4XX".to_string(),
                Some("'https://p.test'".to_string()),
            ),
            (
                "DEFAULT_5XX".to_string(),
                Some("'https://p.test'".to_string()),
            ),
        ]
        .into();
        assert!(cors_differences("https://p.test", &ok).is_empty());
        assert_eq!(
            cors_differences("*", &ok),
            [
                "DEFAULT_4XX allows 'https://p.test', not '*'",
                "DEFAULT_5XX allows 'https://p.test', not '*'"
            ]
        );
        let none: BTreeMap<String, Option<String>> = [("DEFAULT_4XX".to_string(), None)].into();
        assert_eq!(
            cors_differences("*", &none),
            ["DEFAULT_4XX sends no Access-Control-Allow-Origin"]
        );
        assert_eq!(
            cors_differences("*", &BTreeMap::new()),
            ["no gateway responses"]
        );
    }
}
