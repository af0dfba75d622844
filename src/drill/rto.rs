//! The recovery time, measured from the moment the state is written: until
//! every Region reads it, until Route 53's health checks flip, until Route
//! 53 answers the serving Region, and until that Region's API serves a
//! read.
//!
//! Objectives (README, "Recovery"): the state in every Region within the
//! read-back's bound (DynamoDB replicates "typically within a second",
//! "Global tables core concepts", DynamoDB Developer Guide); the checks and
//! DNS within FailureThreshold rounds of RequestInterval plus one round for
//! the checkers' phase ("How Amazon Route 53 determines whether a health
//! check is healthy", docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html);
//! the API as soon as its Region reads the state, the state's objective.

use std::time::Instant;

use aws_sdk_route53 as r53;
use r53::types::RrType;

use crate::app_state::{AppState, REPLICATION_LIMIT};
use crate::aws::{Aws, sdk_message};
use crate::switch::RegionRead;
use crate::wire::dns_identity::{api_name, marker_region};
use crate::wire::route53::{
    CheckerCount, FAILURE_THRESHOLD, OwnedCheck, REQUEST_INTERVAL, owned_checks,
};

use super::probes::poll;
use super::report::{Figure, Verdict};

pub const STATE_OBJECTIVE_SECS: f64 = REPLICATION_LIMIT.as_secs() as f64;
pub const DNS_OBJECTIVE_SECS: f64 = (REQUEST_INTERVAL * (FAILURE_THRESHOLD + 1)) as f64;

/// The custom domain's health checks and the API name Route 53 answers.
pub struct Domain {
    pub zone: String,
    pub api: String,
    pub checks: Vec<OwnedCheck>,
}

/// The app's custom domain, from its health checks' tags; `Ok(None)`
/// without one.
pub async fn domain(aws: &Aws, app: &str) -> Result<Option<Domain>, String> {
    let checks = owned_checks(&aws.route53(), app).await?;
    let Some((zone, domain)) = checks
        .iter()
        .find_map(|c| Some((c.zone.clone()?, c.domain.clone()?)))
    else {
        return Ok(None);
    };
    Ok(Some(Domain {
        zone,
        api: api_name(&domain),
        checks,
    }))
}

/// The state figure, from the read-back that waited for every Region.
pub fn state(name: &str, target: AppState, started: Instant, reads: &[RegionRead]) -> Figure {
    let took = started.elapsed().as_secs_f64();
    let behind: Vec<String> = reads
        .iter()
        .filter(|r| r.error.is_some() || r.state.as_deref() != Some(target.as_str()))
        .map(|r| {
            format!(
                "{} reads {}",
                r.region,
                r.error
                    .clone()
                    .or_else(|| r.state.clone())
                    .unwrap_or_default()
            )
        })
        .collect();
    let regions: Vec<&str> = reads.iter().map(|r| r.region.as_str()).collect();
    if behind.is_empty() {
        let detail = format!("{} read in {}", target.as_str(), regions.join(" and "));
        Figure::measured(name, Some(took), STATE_OBJECTIVE_SECS, detail)
    } else {
        Figure::failed(name, STATE_OBJECTIVE_SECS, behind.join("; "))
    }
}

/// Whether Route 53 calls the check healthy: more than 18% of its checkers
/// report success (the page above).
async fn healthy(client: &r53::Client, id: &str) -> Result<bool, String> {
    let out = client
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(CheckerCount::of(out.health_check_observations()).healthy())
}

/// Until the primary's check says `primary_serves` and the secondary's is
/// healthy (it serves in failover and stands by otherwise).
pub async fn checks(
    aws: &Aws,
    domain: &Domain,
    name: &str,
    started: Instant,
    primary_serves: bool,
) -> Figure {
    let client = aws.route53();
    let limit = std::time::Duration::from_secs_f64(DNS_OBJECTIVE_SECS * 2.0);
    let mut backoff = poll(aws.custom_endpoint, limit);
    let wanted = |region: &str| region != aws.primary.region || primary_serves;
    let what = format!(
        "the primary's check {}, the secondary's healthy",
        if primary_serves { "healthy" } else { "failing" }
    );
    loop {
        let mut flipped = true;
        for check in &domain.checks {
            match healthy(&client, &check.id).await {
                Ok(up) => flipped &= up == wanted(&check.region),
                Err(cause) => {
                    let detail = format!("health check {}: {cause}", check.id);
                    return Figure::failed(name, DNS_OBJECTIVE_SECS, detail);
                }
            }
        }
        if flipped {
            let took = started.elapsed().as_secs_f64();
            return Figure::measured(name, Some(took), DNS_OBJECTIVE_SECS, what);
        }
        if !backoff.wait().await {
            let detail = format!("not {what} after {:.0} s", limit.as_secs_f64());
            return Figure::failed(name, DNS_OBJECTIVE_SECS, detail);
        }
    }
}

/// Until Route 53's TestDNSAnswer answers the API name's TXT with
/// `region`'s marker (the answer its name servers give now, "TestDNSAnswer",
/// Route 53 API Reference).
pub async fn dns(
    aws: &Aws,
    app: &str,
    domain: &Domain,
    name: &str,
    started: Instant,
    region: &str,
) -> Figure {
    let client = aws.route53();
    let limit = std::time::Duration::from_secs_f64(DNS_OBJECTIVE_SECS * 2.0);
    let mut backoff = poll(aws.custom_endpoint, limit);
    let mut last;
    loop {
        let answer = client
            .test_dns_answer()
            .hosted_zone_id(&domain.zone)
            .record_name(&domain.api)
            .record_type(RrType::Txt)
            .send()
            .await;
        match answer {
            Ok(out) => {
                let regions: Vec<String> = out
                    .record_data()
                    .iter()
                    .filter_map(|v| marker_region(app, v))
                    .collect();
                if regions.iter().any(|r| r == region) && regions.len() == 1 {
                    let took = started.elapsed().as_secs_f64();
                    let detail = format!("{} answers {region}", domain.api);
                    return Figure::measured(name, Some(took), DNS_OBJECTIVE_SECS, detail);
                }
                last = format!("answers {}", regions.join(", "));
            }
            Err(e) => last = sdk_message(&e),
        }
        if !backoff.wait().await {
            let detail = format!(
                "{} {last}, not {region}, after {:.0} s; run `mraa status`",
                domain.api,
                limit.as_secs_f64()
            );
            return Figure::failed(name, DNS_OBJECTIVE_SECS, detail);
        }
    }
}

/// Until `region`'s state API serves a read that says it serves. On AWS
/// through API Gateway's TestInvokeMethod (the method, its integration and
/// the Region's table, without a public URL); an endpoint whose invoke URLs
/// are not callable (the emulator) cannot show it: unverified.
pub async fn api(aws: &Aws, app: &str, name: &str, started: Instant, region: &str) -> Figure {
    if aws.custom_endpoint {
        return Figure::not_measured(
            name,
            Verdict::Unverified,
            STATE_OBJECTIVE_SECS,
            format!(
                "the endpoint's API Gateway invoke URLs are not callable: {region}'s API not read"
            ),
        );
    }
    serves(&aws.region(region).apigateway, app, name, started, region).await
}

/// The AWS path of [`api`]: TestInvokeMethod until the read says it serves,
/// bounded.
async fn serves(
    client: &aws_sdk_apigateway::Client,
    app: &str,
    name: &str,
    started: Instant,
    region: &str,
) -> Figure {
    let found = match state_method(client, app).await {
        Ok(found) => found,
        Err(cause) => return Figure::failed(name, STATE_OBJECTIVE_SECS, cause),
    };
    let limit = std::time::Duration::from_secs_f64(STATE_OBJECTIVE_SECS * 2.0);
    let mut backoff = poll(false, limit);
    let mut last;
    loop {
        let out = client
            .test_invoke_method()
            .rest_api_id(&found.0)
            .resource_id(&found.1)
            .http_method("GET")
            .path_with_query_string(format!("/state/{app}"))
            .send()
            .await;
        match out {
            Ok(out)
                if out.status() == 200
                    && out.body().is_some_and(|b| b.contains("\"serving\": true")) =>
            {
                let took = started.elapsed().as_secs_f64();
                let detail = format!("GET /state/{app} in {region} serves");
                return Figure::measured(name, Some(took), STATE_OBJECTIVE_SECS, detail);
            }
            Ok(out) => {
                last = format!(
                    "answers {} {}",
                    out.status(),
                    out.body().unwrap_or_default()
                )
            }
            Err(e) => last = sdk_message(&e),
        }
        if !backoff.wait().await {
            let detail = format!("GET /state/{app} in {region} {last}");
            return Figure::failed(name, STATE_OBJECTIVE_SECS, detail);
        }
    }
}

/// (API id, resource id) of the state API's `GET /state/{appId}`.
async fn state_method(
    client: &aws_sdk_apigateway::Client,
    app: &str,
) -> Result<(String, String), String> {
    let wanted = format!("mraa-{app}-state");
    let apis = client
        .get_rest_apis()
        .limit(500)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let api = apis
        .items()
        .iter()
        .find(|a| a.name() == Some(wanted.as_str()))
        .and_then(|a| a.id())
        .ok_or_else(|| format!("no API {wanted}: run `mraa deploy`"))?
        .to_string();
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .limit(500)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let resource = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/state/{appId}"))
        .and_then(|r| r.id())
        .ok_or_else(|| format!("API {wanted} has no /state/{{appId}}: run `mraa deploy`"))?
        .to_string();
    Ok((api, resource))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_apigateway::Client;
    use aws_sdk_apigateway::operation::get_resources::GetResourcesOutput;
    use aws_sdk_apigateway::operation::get_rest_apis::GetRestApisOutput;
    use aws_sdk_apigateway::operation::test_invoke_method::TestInvokeMethodOutput;
    use aws_sdk_apigateway::types::{Resource, RestApi};
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    fn client(rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        Client::from_conf(
            aws_sdk_apigateway::Config::builder()
                .behavior_version(aws_sdk_apigateway::config::BehaviorVersion::latest())
                .region(aws_sdk_apigateway::config::Region::new("eu-west-1"))
                .credentials_provider(aws_sdk_apigateway::config::Credentials::new(
                    "AKID", "secret", None, None, "scripted",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .retry_config(aws_sdk_apigateway::config::retry::RetryConfig::disabled())
                .build(),
        )
    }

    fn invoked(serving: bool) -> Rule {
        mock!(Client::test_invoke_method)
            .match_requests(|r| {
                r.rest_api_id() == Some("api1")
                    && r.resource_id() == Some("res1")
                    && r.http_method() == Some("GET")
                    && r.path_with_query_string() == Some("/state/shop")
            })
            .then_output(move || {
                TestInvokeMethodOutput::builder()
                    .status(200)
                    .body(format!(r#"{{"state": "failover", "serving": {serving}}}"#))
                    .build()
            })
    }

    /// On AWS the API figure counts only once the secondary's own method
    /// says it serves: a read that says `false` is polled past.
    #[tokio::test]
    async fn the_api_counts_once_the_regions_method_says_it_serves() {
        let apis = mock!(Client::get_rest_apis).then_output(|| {
            GetRestApisOutput::builder()
                .items(
                    RestApi::builder()
                        .name("mraa-shop-comments")
                        .id("other")
                        .build(),
                )
                .items(
                    RestApi::builder()
                        .name("mraa-shop-state")
                        .id("api1")
                        .build(),
                )
                .build()
        });
        let resources = mock!(Client::get_resources)
            .match_requests(|r| r.rest_api_id() == Some("api1"))
            .then_output(|| {
                GetResourcesOutput::builder()
                    .items(Resource::builder().path("/state").id("res0").build())
                    .items(
                        Resource::builder()
                            .path("/state/{appId}")
                            .id("res1")
                            .build(),
                    )
                    .build()
            });
        let (not_yet, now) = (invoked(false), invoked(true));
        let client = client(&[&apis, &resources, &not_yet, &now]);
        let figure = serves(&client, "shop", "rto-api", Instant::now(), "eu-west-1").await;
        assert_eq!(figure.verdict, Verdict::Ok, "{figure:?}");
        assert!(figure.seconds.is_some_and(|s| s >= 1.0), "{figure:?}");
        assert_eq!(now.num_calls(), 1);
        assert_eq!(not_yet.num_calls(), 1);
    }
}
