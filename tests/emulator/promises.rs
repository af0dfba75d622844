//! What deploy promised, as the services serve it: a domain added to an
//! existing deployment reaches the CloudFront distribution (alias and
//! certificate), another `--allowed-origin` reaches each regional API, and
//! `mraa status` notices when either is undone behind mraa's back. Every
//! effect is read through the services' own APIs.

use crate::domain::create_zone;
use crate::support::{Emulator, json_lines, mraa, run_ok, show, stdout_of};
use serde_json::Value;

const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const DOMAIN: &str = "app.example.test";
const ORIGIN: &str = "https://photos.example.test";
const ORIGIN_HEADER: &str = "gatewayresponse.header.Access-Control-Allow-Origin";

pub(crate) fn cloudfront(emulator: &Emulator) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&emulator.sdk_config("us-east-1"))
}

/// `mraa status --output json`: its exit code and the row named `name` in
/// `region`.
pub(crate) fn status_row(emulator: &Emulator, name: &str, region: &str) -> (Option<i32>, Value) {
    let output = mraa(
        &["status", "--output", "json"],
        &emulator.env_in(PRIMARY),
        None,
    );
    let report: Value = serde_json::from_str(&stdout_of(&output))
        .unwrap_or_else(|e| panic!("status JSON ({e}): {}", show(&output)));
    let row = report["checks"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["name"] == name && c["region"] == region)
        })
        .cloned()
        .unwrap_or_else(|| panic!("a {name} row in {region}: {report:#}"));
    (output.status.code(), row)
}

fn step_change(output: &std::process::Output, step: &str) -> Value {
    let lines = json_lines(output);
    let summary = lines.last().expect("a summary");
    summary["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == step))
        .map(|s| s["change"].clone())
        .unwrap_or_else(|| panic!("no {step} step: {summary:#}"))
}

pub(crate) async fn distribution_id(emulator: &Emulator) -> String {
    let listed = cloudfront(emulator)
        .list_distributions()
        .send()
        .await
        .expect("list distributions");
    let items = listed
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0].id().to_string()
}

/// Done means: a domain added to an existing app reaches the distribution,
/// in `diff` and in deploy; with the alias removed behind mraa's back,
/// status exits 3 naming it.
#[tokio::test(flavor = "multi_thread")]
async fn a_domain_added_later_is_served_and_its_loss_is_degraded() {
    let emulator = Emulator::start("promises_domain");
    run_ok(
        &["deploy", "--secondary", SECONDARY],
        &emulator.env_in(PRIMARY),
    );
    let id = distribution_id(&emulator).await;
    let (code, row) = status_row(&emulator, "site-domain", "global");
    assert_eq!(
        (code, &row["status"]),
        (Some(0), &Value::from("ok")),
        "{row}"
    );

    create_zone(&emulator, DOMAIN).await;
    let with_domain = [
        "--secondary",
        SECONDARY,
        "--domain",
        DOMAIN,
        "--output",
        "json",
    ];
    let planned = mraa(
        &[&["diff"][..], &with_domain].concat(),
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(planned.status.code(), Some(2), "{}", show(&planned));
    let report: Value = serde_json::from_str(&stdout_of(&planned)).expect("diff JSON");
    let edge = report["units"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["unit"] == "edge"))
        .cloned()
        .unwrap_or_else(|| panic!("no edge unit: {report:#}"));
    assert_eq!(edge["change"], "updated", "{edge:#}");
    let distribution = edge["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["logical_id"] == "Distribution"))
        .cloned()
        .unwrap_or_else(|| panic!("the distribution is not modified: {edge:#}"));
    assert_eq!(distribution["action"], "modify", "{distribution:#}");

    let deployed = run_ok(
        &[&["deploy"][..], &with_domain].concat(),
        &emulator.env_in(PRIMARY),
    );
    assert_eq!(step_change(&deployed, "edge"), "updated");

    // Read through CloudFront: the alias and the site certificate (us-east-1).
    let config = cloudfront(&emulator)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("distribution config");
    let etag = config.e_tag().unwrap_or_default().to_string();
    let mut config = config.distribution_config.expect("a configuration");
    let aliases = config
        .aliases()
        .map(|a| a.items().to_vec())
        .unwrap_or_default();
    assert_eq!(aliases, [DOMAIN]);
    let certificate = config.viewer_certificate().cloned().expect("a certificate");
    let arn = certificate.acm_certificate_arn().unwrap_or_default();
    assert!(arn.starts_with("arn:aws:acm:us-east-1:"), "{certificate:?}");
    let issued = emulator
        .acm("us-east-1")
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .expect("the site certificate");
    assert_eq!(
        issued.certificate().and_then(|c| c.domain_name()),
        Some(DOMAIN)
    );
    assert_eq!(certificate.cloud_front_default_certificate(), Some(false));
    let (code, row) = status_row(&emulator, "site-domain", "global");
    assert_eq!(
        (code, &row["status"]),
        (Some(0), &Value::from("ok")),
        "{row}"
    );

    // The alias removed behind mraa's back, through CloudFront's API.
    config.aliases = Some(
        aws_sdk_cloudfront::types::Aliases::builder()
            .quantity(0)
            .build()
            .expect("aliases"),
    );
    cloudfront(&emulator)
        .update_distribution()
        .id(&id)
        .if_match(etag)
        .distribution_config(config)
        .send()
        .await
        .expect("update the distribution");
    let (code, row) = status_row(&emulator, "site-domain", "global");
    assert_eq!(code, Some(3), "{row}");
    assert_eq!(row["status"], "degraded", "{row}");
    let detail = row["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&format!("alias {DOMAIN} missing")), "{row}");
    assert!(detail.contains("mraa deploy"), "{row}");
}

/// Another `--allowed-origin` reaches each region's APIs (their gateway
/// responses, read through API Gateway); a response changed behind mraa's
/// back and a site configuration that names other endpoints are degraded.
#[tokio::test(flavor = "multi_thread")]
async fn the_allowed_origin_and_the_site_configuration_are_what_deploy_made() {
    let emulator = Emulator::start("promises_origin");
    run_ok(
        &["deploy", "--secondary", SECONDARY],
        &emulator.env_in(PRIMARY),
    );
    let deployed = run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--allowed-origin",
            ORIGIN,
            "--output",
            "json",
        ],
        &emulator.env_in(PRIMARY),
    );
    assert_eq!(step_change(&deployed, "routing"), "updated");
    let mut apis = Vec::new();
    for region in [PRIMARY, SECONDARY] {
        let gateway = aws_sdk_apigateway::Client::new(&emulator.sdk_config(region));
        let listed = gateway.get_rest_apis().send().await.expect("APIs");
        for api in listed.items() {
            let id = api.id().unwrap_or_default().to_string();
            let responses = gateway
                .get_gateway_responses()
                .rest_api_id(&id)
                .send()
                .await
                .expect("gateway responses");
            let origins: Vec<Option<String>> = responses
                .items()
                .iter()
                .map(|r| {
                    r.response_parameters()
                        .and_then(|p| p.get(ORIGIN_HEADER))
                        .cloned()
                })
                .collect();
            assert!(!origins.is_empty(), "{region} {id}");
            assert!(
                origins
                    .iter()
                    .all(|o| o.as_deref() == Some(&format!("'{ORIGIN}'"))),
                "{region} {id}: {origins:?}"
            );
            apis.push((region, id));
        }
        let (code, row) = status_row(&emulator, "cors-origin", region);
        assert_eq!(
            (code, &row["status"]),
            (Some(0), &Value::from("ok")),
            "{row}"
        );
        let (_, row) = status_row(&emulator, "site-config", region);
        assert_eq!(row["status"], "ok", "{row}");
    }
    assert_eq!(apis.len(), 4, "{apis:?}");

    // One response of the secondary's first API set back to '*'.
    let (region, api) = &apis[2];
    let gateway = aws_sdk_apigateway::Client::new(&emulator.sdk_config(region));
    gateway
        .put_gateway_response()
        .rest_api_id(api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::Default4Xx)
        .response_parameters(ORIGIN_HEADER, "'*'")
        .send()
        .await
        .expect("put the gateway response");
    let (code, row) = status_row(&emulator, "cors-origin", region);
    assert_eq!(code, Some(3), "{row}");
    assert_eq!(row["status"], "degraded", "{row}");
    assert!(
        row["detail"].as_str().is_some_and(|d| d
            .contains(&format!("DEFAULT_4XX allows '*', not '{ORIGIN}'"))
            && d.contains(&format!("--allowed-origin {ORIGIN}"))),
        "{row}"
    );

    // The primary's site configuration naming another state API.
    let account = crate::support::ACCOUNT;
    let bucket = format!("mraa-mraa-website-{account}-{PRIMARY}");
    let s3 = emulator.s3(PRIMARY);
    let body = s3
        .get_object()
        .bucket(&bucket)
        .key("config.json")
        .send()
        .await
        .expect("config.json")
        .body
        .collect()
        .await
        .expect("its body")
        .into_bytes();
    let mut config: Value = serde_json::from_slice(&body).expect("JSON");
    config["regions"][PRIMARY]["stateUrl"] = Value::from("https://elsewhere.test/");
    s3.put_object()
        .bucket(&bucket)
        .key("config.json")
        .body(serde_json::to_vec(&config).expect("JSON").into())
        .send()
        .await
        .expect("put config.json");
    let (code, row) = status_row(&emulator, "site-config", PRIMARY);
    assert_eq!(code, Some(3), "{row}");
    assert_eq!(row["status"], "degraded", "{row}");
    assert!(
        row["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("regions.{PRIMARY}.stateUrl"))),
        "{row}"
    );
}
