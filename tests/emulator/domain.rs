//! `mraa deploy --domain` against the emulator: the certificates and
//! regional custom domains, the Route 53 health checks and failover records,
//! the state commands driving them,
//! refusal of names mraa does not own, and a teardown that leaves the zone
//! exactly as the test made it. Every effect is checked through the SDK.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::promises::status_row;
use crate::support::{ACCOUNT, Emulator, json_lines, mraa, run_ok, show, stderr_of, stdout_of};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheck, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType, TagResourceType,
};
use mraa::cfn::stack::parameter_map;
use serde_json::Value;

// Not us-east-1: the site certificate then goes to a third region.
const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const DOMAIN: &str = "app.example.test";
const API: &str = "api.app.example.test";

/// The zone's records of one name.
pub(crate) async fn records_named(
    emulator: &Emulator,
    zone: &str,
    name: &str,
) -> Vec<ResourceRecordSet> {
    emulator
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("list records")
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name)
        .cloned()
        .collect()
}

pub(crate) async fn create_zone(emulator: &Emulator, name: &str) -> String {
    let out = emulator
        .route53()
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("test-{name}-{}", std::process::id()))
        .send()
        .await
        .expect("create the hosted zone");
    out.hosted_zone()
        .expect("a zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string()
}

pub(crate) async fn upsert(emulator: &Emulator, zone: &str, record: ResourceRecordSet) {
    change(emulator, zone, ChangeAction::Upsert, record).await;
}

/// One change of the test's own to the zone, behind mraa's back.
pub(crate) async fn change(
    emulator: &Emulator,
    zone: &str,
    action: ChangeAction,
    record: ResourceRecordSet,
) {
    emulator
        .route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(action)
                        .resource_record_set(record)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("change a record of the test's own");
}

fn plain(name: &str, kind: RrType, value: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().expect("rr"))
        .build()
        .expect("record")
}

/// Every record set of the zone, as comparable text.
async fn zone_records(emulator: &Emulator, zone: &str) -> Vec<String> {
    let out = emulator
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .max_items(300)
        .send()
        .await
        .expect("list the zone's records");
    assert!(!out.is_truncated(), "one page holds the test zone");
    let mut records: Vec<String> = out
        .resource_record_sets()
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {:?} {:?} {:?} {:?}",
                r.name(),
                r.r#type().as_str(),
                r.set_identifier(),
                r.failover(),
                r.health_check_id(),
                r.resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect::<Vec<_>>(),
                r.alias_target().map(|a| a.dns_name().to_string())
            )
        })
        .collect();
    records.sort();
    records
}

/// The health checks tagged as this app's, by their `mraa:region` tag.
pub(crate) async fn app_checks(emulator: &Emulator) -> BTreeMap<String, HealthCheck> {
    app_checks_of(emulator, DOMAIN).await
}

/// The app's checks by region, each tagged for `domain`.
async fn app_checks_of(emulator: &Emulator, domain: &str) -> BTreeMap<String, HealthCheck> {
    let client = emulator.route53();
    let listed = client
        .list_health_checks()
        .send()
        .await
        .expect("list health checks");
    let mut by_region = BTreeMap::new();
    for check in listed.health_checks() {
        let tags = client
            .list_tags_for_resource()
            .resource_type(TagResourceType::Healthcheck)
            .resource_id(check.id())
            .send()
            .await
            .expect("tags of a health check");
        let tag = |key: &str| {
            tags.resource_tag_set()
                .and_then(|s| s.tags().iter().find(|t| t.key() == Some(key)))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        if tag("mraa:app").as_deref() == Some(APP) {
            let region = tag("mraa:region").expect("an mraa:region tag");
            assert_eq!(tag("mraa:domain").as_deref(), Some(domain));
            by_region.insert(region, check.clone());
        }
    }
    by_region
}

/// Whether Route 53 (the emulator's model of its checkers) calls the check
/// healthy: more than 18% of its checkers report success.
async fn healthy(emulator: &Emulator, id: &str) -> bool {
    let out = emulator
        .route53()
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .expect("get the health check's status");
    let observations = out.health_check_observations();
    let ok = observations
        .iter()
        .filter(|o| {
            o.status_report()
                .and_then(|s| s.status())
                .is_some_and(|s| s.starts_with("Success"))
        })
        .count();
    !observations.is_empty() && ok * 100 > observations.len() * 18
}

/// The region marker a region's TXT record carries.
fn marker(region: &str) -> String {
    format!("\"mraa-{APP} region={region}\"")
}

/// What Route 53 (the emulator's TestDNSAnswer) answers for the API name's
/// TXT records now.
async fn txt_answer(emulator: &Emulator, zone: &str) -> Vec<String> {
    txt_answer_of(emulator, zone, API).await
}

/// What Route 53 answers for `name`'s TXT records now.
async fn txt_answer_of(emulator: &Emulator, zone: &str, name: &str) -> Vec<String> {
    let out = emulator
        .route53()
        .test_dns_answer()
        .hosted_zone_id(zone)
        .record_name(name)
        .record_type(RrType::Txt)
        .send()
        .await
        .expect("TestDNSAnswer");
    assert_eq!(out.response_code(), "NOERROR", "{out:?}");
    out.record_data().to_vec()
}

/// Route 53 moves a failover answer only once the health check has failed
/// (or passed) FailureThreshold times in a row: polls TestDNSAnswer (each
/// call one evaluation round with the emulator's clock off, a round per
/// scaled RequestInterval with it on) until it answers `region`, bounded.
/// Returns how long that took and how many answers came before.
async fn dns_moves_to(emulator: &Emulator, zone: &str, region: &str) -> (Duration, usize) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    for before in 0.. {
        if txt_answer(emulator, zone).await == [marker(region)] {
            return (started.elapsed(), before);
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "DNS never answered {region}: {:?}",
            txt_answer(emulator, zone).await
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    unreachable!("the loop returns or fails")
}

/// Status says the API name answers `region`, from the marker Route 53
/// answers with, and the TXT answer read through Route 53's API says so
/// too, once Route 53's checks have moved it.
async fn answers(emulator: &Emulator, zone: &str, region: &str) {
    dns_moves_to(emulator, zone, region).await;
    status_answer_says(emulator, ("ok", 0), &format!("answers {region}"));
}

/// `mraa status`'s `dns-answer` row has this status and exit code, and
/// says `text`.
fn status_answer_says(emulator: &Emulator, (status, code): (&str, i32), text: &str) {
    let (exit, row) = status_row(emulator, "dns-answer", "global");
    assert_eq!(row["status"], status, "{row}");
    assert!(
        row["detail"].as_str().is_some_and(|d| d.contains(text)),
        "{row}"
    );
    assert_eq!(exit, Some(code), "{row}");
}

/// Every health check of the account, tagged or not.
async fn all_checks(emulator: &Emulator) -> Vec<HealthCheck> {
    emulator
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("list health checks")
        .health_checks()
        .to_vec()
}

/// The Route 53 calls among those recorded.
fn route53_calls(calls: &[crate::support::Call]) -> Vec<&crate::support::Call> {
    calls.iter().filter(|c| c.service == "route53").collect()
}

async fn certificate_named(
    acm: &aws_sdk_acm::Client,
    name: &str,
) -> Option<aws_sdk_acm::types::CertificateDetail> {
    let list = acm
        .list_certificates()
        .send()
        .await
        .expect("list certificates");
    let arn = list
        .certificate_summary_list()
        .iter()
        .find(|c| c.domain_name() == Some(name))?
        .certificate_arn()?
        .to_string();
    acm.describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .expect("describe certificate")
        .certificate()
        .cloned()
}

/// The outputs of StackSet `set`'s instance stack in `region`.
async fn instance_outputs(
    emulator: &Emulator,
    region: &str,
    set: &str,
) -> BTreeMap<String, String> {
    let cfn = emulator.cloudformation(region);
    let stacks = cfn.describe_stacks().send().await.expect("describe stacks");
    let stack = stacks
        .stacks()
        .iter()
        .find(|s| {
            s.stack_name().is_some_and(|n| {
                n == format!("StackSet:{set}") || n.starts_with(&format!("StackSet-{set}-"))
            })
        })
        .unwrap_or_else(|| panic!("an instance stack of {set} in {region}"));
    stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect()
}

async fn website_config(emulator: &Emulator, region: &str) -> Value {
    let body = emulator
        .s3(region)
        .get_object()
        .bucket(format!("mraa-{APP}-website-{ACCOUNT}-{region}"))
        .key("config.json")
        .send()
        .await
        .expect("config.json in the website bucket")
        .body
        .collect()
        .await
        .expect("read config.json")
        .into_bytes();
    serde_json::from_slice(&body).expect("config.json is JSON")
}

// ---------------------------------------------------------------------------
// Done means 1, 2 and 4: deploy, failover/fence/activate, teardown
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn domain_deploy_drives_health_checks_and_failover_records_and_teardown_restores_the_zone() {
    let emulator = Emulator::start("domain_lifecycle");
    let zone = create_zone(&emulator, DOMAIN).await;
    // Records of the user's own, which mraa must never touch.
    upsert(
        &emulator,
        &zone,
        plain(&format!("www.{DOMAIN}"), RrType::A, "192.0.2.10"),
    )
    .await;
    upsert(
        &emulator,
        &zone,
        plain(DOMAIN, RrType::Txt, "\"v=spf1 -all\""),
    )
    .await;
    let before = zone_records(&emulator, &zone).await;

    // Done means 1: the deploy.
    let output = run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--domain",
            DOMAIN,
            "--output",
            "json",
        ],
        &emulator.env_in(PRIMARY),
    );
    let lines = json_lines(&output);
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["result"], "ok", "{summary}");
    assert!(
        summary["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["step"] == "dns")),
        "{summary}"
    );
    // Nothing is unverified: the site's record is written too, an alias to
    // the distribution the edge stack made.
    let unverified = summary["unverified"].as_array().expect("unverified list");
    assert!(unverified.is_empty(), "{summary}");
    let site = records_named(&emulator, &zone, DOMAIN).await;
    assert!(
        site.iter()
            .filter(|r| r.r#type() == &RrType::A)
            .any(|r| r.alias_target().is_some_and(|a| a
                .dns_name()
                .trim_end_matches('.')
                .ends_with(".cloudfront.net"))),
        "an alias of {DOMAIN} to the distribution: {site:?}"
    );
    assert_eq!(
        summary["endpoints"]["custom_domain"]["api_url"],
        format!("https://{API}/app/"),
        "{summary}"
    );

    // The certificates, read from ACM: the site's in us-east-1 whatever the
    // regions, one for the API name in each region; issued, and validated
    // through a record in the test's zone.
    let zone_now = zone_records(&emulator, &zone).await;
    let mut site_certificate = String::new();
    for (region, name) in [("us-east-1", DOMAIN), (PRIMARY, API), (SECONDARY, API)] {
        let acm = emulator.acm(region);
        let certificate = certificate_named(&acm, name)
            .await
            .unwrap_or_else(|| panic!("a certificate for {name} in {region}"));
        assert_eq!(
            certificate.status(),
            Some(&aws_sdk_acm::types::CertificateStatus::Issued),
            "{region} {name}"
        );
        let validation = certificate
            .domain_validation_options()
            .first()
            .and_then(|o| o.resource_record())
            .unwrap_or_else(|| panic!("{name}: a DNS validation record"));
        assert!(
            zone_now.iter().any(|r| r.starts_with(validation.name())),
            "{} in the zone: {zone_now:#?}",
            validation.name()
        );
        if region == "us-east-1" {
            site_certificate = certificate
                .certificate_arn()
                .unwrap_or_default()
                .to_string();
        }
    }
    // The edge serves the site certificate under the domain.
    let edge = emulator
        .cloudformation(PRIMARY)
        .describe_stacks()
        .stack_name("mraa-mraa-edge")
        .send()
        .await
        .expect("describe stack")
        .stacks()
        .first()
        .map(|s| parameter_map(s.parameters()))
        .unwrap_or_default();
    assert_eq!(edge.get("SiteDomain").map(String::as_str), Some(DOMAIN));
    assert_eq!(
        edge.get("SiteCertificateArn"),
        Some(&site_certificate),
        "{edge:?}"
    );
    // The site's config.json names the custom domain.
    let config = website_config(&emulator, PRIMARY).await;
    assert_eq!(
        config["customDomain"]["siteUrl"],
        format!("https://{DOMAIN}")
    );
    assert_eq!(
        config["customDomain"]["stateUrl"],
        format!("https://{API}/routing/state/{APP}")
    );

    let checks = app_checks(&emulator).await;
    assert_eq!(
        checks.keys().collect::<Vec<_>>(),
        [SECONDARY, PRIMARY],
        "{checks:?}"
    );
    for (region, check) in &checks {
        let config = check.health_check_config().expect("a config");
        // A string match on the region's own state endpoint, read through
        // Route 53's API.
        assert_eq!(config.r#type().as_str(), "HTTPS_STR_MATCH");
        assert_eq!(config.search_string(), Some("\"serving\": true"));
        let fqdn = config.fully_qualified_domain_name().unwrap_or_default();
        assert!(
            fqdn.ends_with(&format!(".execute-api.{region}.amazonaws.com")),
            "{fqdn}"
        );
        assert_eq!(config.resource_path(), Some("/prod/state/mraa"));
        assert_eq!(config.request_interval(), Some(30));
        assert_eq!(config.failure_threshold(), Some(3));
        let regions: Vec<&str> = config.regions().iter().map(|r| r.as_str()).collect();
        assert_eq!(regions.len(), 3, "{regions:?}");
        assert!(
            !regions.contains(&PRIMARY) && !regions.contains(&SECONDARY),
            "checkers run outside the deployment's regions: {regions:?}"
        );
        assert_eq!(config.inverted(), Some(false));
    }
    let records = records_named(&emulator, &zone, API).await;
    assert_eq!(records.len(), 4, "{records:?}");
    for (role, region, failover) in [
        ("primary", PRIMARY, ResourceRecordSetFailover::Primary),
        ("secondary", SECONDARY, ResourceRecordSetFailover::Secondary),
    ] {
        // The region marker: TXT, the alias's failover role and check, the
        // region as its value.
        let txt = records
            .iter()
            .find(|r| r.set_identifier() == Some(&format!("mraa-{APP}-{role}-marker")))
            .unwrap_or_else(|| panic!("a {role} marker: {records:?}"));
        assert_eq!(txt.r#type(), &RrType::Txt);
        assert_eq!(txt.failover(), Some(&failover));
        assert_eq!(txt.health_check_id(), Some(checks[region].id()));
        assert_eq!(txt.ttl(), Some(60));
        let values: Vec<&str> = txt.resource_records().iter().map(|v| v.value()).collect();
        assert_eq!(values, [marker(region)]);
        let record = records
            .iter()
            .find(|r| r.set_identifier() == Some(&format!("mraa-{APP}-{role}")))
            .unwrap_or_else(|| panic!("a {role} record: {records:?}"));
        assert_eq!(record.failover(), Some(&failover));
        assert_eq!(record.r#type(), &RrType::A);
        assert_eq!(record.health_check_id(), Some(checks[region].id()));
        // An alias to the region's API Gateway custom domain, as its
        // CloudFormation stack reports it.
        let outputs = instance_outputs(&emulator, region, "mraa-mraa-api-domain").await;
        let alias = record.alias_target().expect("an alias record");
        let target = alias.dns_name().trim_end_matches('.');
        assert_eq!(
            Some(target),
            outputs.get("RegionalDomainName").map(String::as_str)
        );
        assert!(
            target.ends_with(&format!(".execute-api.{region}.amazonaws.com")),
            "{target}"
        );
        assert_eq!(
            Some(alias.hosted_zone_id()),
            outputs.get("RegionalHostedZoneId").map(String::as_str)
        );
    }

    // A re-run converges without a single mutating call.
    emulator.start_recording();
    run_ok(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &emulator.env_in(PRIMARY),
    );
    let calls = emulator.recorded_calls();
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "re-run changed: {mutating:#?}");
    assert!(
        calls.iter().any(|c| c.service == "route53"),
        "the re-run read Route 53"
    );

    // Without --domain, the deployed domain is kept as it is, not dropped.
    emulator.start_recording();
    let output = run_ok(
        &["deploy", "--secondary", SECONDARY],
        &emulator.env_in(PRIMARY),
    );
    let calls = emulator.recorded_calls();
    let mutating: Vec<_> = route53_calls(&calls)
        .into_iter()
        .filter(|c| c.is_mutating())
        .collect();
    assert!(
        mutating.is_empty(),
        "a deploy without --domain changed: {mutating:#?}"
    );
    assert!(
        format!("{}{}", stdout_of(&output), stderr_of(&output))
            .contains(&format!("keeping the custom domain {DOMAIN}")),
        "{}",
        show(&output)
    );

    // Both regions serve while the state is active (the secondary reads
    // its replica of the app-config table).
    assert!(healthy(&emulator, checks[PRIMARY].id()).await);
    assert!(healthy(&emulator, checks[SECONDARY].id()).await);

    // Status: each check's status as the emulator's checkers report it.
    let output = run_ok(&["status", "--output", "json"], &emulator.env_in(PRIMARY));
    let report: Value = serde_json::from_str(&stdout_of(&output)).expect("status JSON");
    assert_eq!(
        report["endpoints"]["custom_domain"]["site_url"],
        format!("https://{DOMAIN}"),
        "{report:#}"
    );
    for unit in ["site-certificate", "api-domain"] {
        assert!(
            report["checks"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == unit && c["status"] == "ok")),
            "{unit} in status: {report:#}"
        );
    }
    let status_checks = report["checks"].as_array().expect("checks");
    for region in [PRIMARY, SECONDARY] {
        let check = status_checks
            .iter()
            .find(|c| c["name"] == "health-check" && c["region"] == region)
            .unwrap_or_else(|| panic!("a health-check check in {region}: {report:#}"));
        assert_eq!(check["status"], "ok", "{check}");
        assert!(
            check["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("3 of 3 checkers report success")),
            "{check}"
        );
    }
    assert_eq!(report["overall"], "ok", "{report:#}");
    // Route 53 answers the primary's marker, and status reads it so.
    answers(&emulator, &zone, PRIMARY).await;

    // The state commands make no Route 53 call at all; DNS follows the
    // state item through the checks.
    emulator.start_recording();
    run_ok(
        &["failover", "--reason", "drill"],
        &emulator.env_in(PRIMARY),
    );
    let calls = emulator.recorded_calls();
    assert!(
        route53_calls(&calls).is_empty(),
        "{:#?}",
        route53_calls(&calls)
    );
    assert!(
        calls.iter().any(|c| c.is_mutating()),
        "failover wrote the state"
    );
    // Replication brings the state to the primary: its check fails (it
    // no longer says "serving": true), the secondary's keeps passing.
    assert!(!healthy(&emulator, checks[PRIMARY].id()).await);
    assert!(healthy(&emulator, checks[SECONDARY].id()).await);
    // Route 53 answers the secondary's records once the primary's check has
    // failed three rounds in a row (one was the read above), status says so.
    let (_, stale) = dns_moves_to(&emulator, &zone, SECONDARY).await;
    assert_eq!(stale, 1, "answers of the primary after the failover");
    answers(&emulator, &zone, SECONDARY).await;

    emulator.start_recording();
    run_ok(&["fence", "--reason", "drill"], &emulator.env_in(PRIMARY));
    let calls = emulator.recorded_calls();
    assert!(
        route53_calls(&calls).is_empty(),
        "{:#?}",
        route53_calls(&calls)
    );
    assert!(
        calls.iter().any(|c| c.is_mutating()),
        "fence wrote the state"
    );
    // Fenced: the primary serves (read-only) again.
    assert!(healthy(&emulator, checks[PRIMARY].id()).await);
    answers(&emulator, &zone, PRIMARY).await;

    emulator.start_recording();
    run_ok(&["activate", "--yes"], &emulator.env_in(PRIMARY));
    let calls = emulator.recorded_calls();
    assert!(
        route53_calls(&calls).is_empty(),
        "{:#?}",
        route53_calls(&calls)
    );
    assert!(healthy(&emulator, checks[PRIMARY].id()).await);
    assert!(healthy(&emulator, checks[SECONDARY].id()).await);
    answers(&emulator, &zone, PRIMARY).await;

    // Behind mraa's back, the primary's marker names the secondary: Route 53
    // answers a region the checks do not choose, and status says so, with
    // the region the checks choose.
    let mut wrong = records_named(&emulator, &zone, API)
        .await
        .into_iter()
        .find(|r| r.set_identifier() == Some(&format!("mraa-{APP}-primary-marker")))
        .expect("the primary's marker");
    wrong.resource_records = Some(vec![
        ResourceRecord::builder()
            .value(marker(SECONDARY))
            .build()
            .expect("rr"),
    ]);
    upsert(&emulator, &zone, wrong).await;
    assert_eq!(txt_answer(&emulator, &zone).await, [marker(SECONDARY)]);
    status_answer_says(
        &emulator,
        ("degraded", 3),
        &format!("the health checks say {PRIMARY}"),
    );
    // A deploy writes the marker back.
    run_ok(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &emulator.env_in(PRIMARY),
    );
    answers(&emulator, &zone, PRIMARY).await;

    // Done means 4: teardown removes exactly what mraa made.
    let output = run_ok(&["teardown", "--yes"], &emulator.env_in(PRIMARY));
    assert!(
        stderr_of(&output).contains("health-check") || stdout_of(&output).contains("health"),
        "{}",
        show(&output)
    );
    assert_eq!(zone_records(&emulator, &zone).await, before);
    assert!(app_checks(&emulator).await.is_empty());
    for region in ["us-east-1", PRIMARY, SECONDARY] {
        let acm = emulator.acm(region);
        for name in [DOMAIN, API] {
            assert!(
                certificate_named(&acm, name).await.is_none(),
                "{name} certificate left in {region}"
            );
        }
    }
    let left = emulator
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("list health checks");
    assert!(left.health_checks().is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------
// Done means 3: names mraa does not own, and zones that are not one
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn deploy_refuses_before_any_change_when_the_zone_or_the_name_is_not_its_own() {
    let emulator = Emulator::start("domain_refusals");

    // No zone at all.
    emulator.start_recording();
    let output = mraa(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        stderr_of(&output).contains("no public hosted zone"),
        "{}",
        show(&output)
    );
    let mutating = emulator.mutating_calls();
    assert!(mutating.is_empty(), "{mutating:#?}");

    // Two zones of the same name: which one is for the user to say.
    create_zone(&emulator, "example.test").await;
    create_zone(&emulator, "example.test").await;
    let output = mraa(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        stderr_of(&output).contains("2 public hosted zones are named example.test")
            && stderr_of(&output).contains("--hosted-zone-id"),
        "{}",
        show(&output)
    );

    // A record of the API name that is not mraa's.
    let zone = create_zone(&emulator, DOMAIN).await;
    upsert(
        &emulator,
        &zone,
        plain(API, RrType::Cname, "legacy.example.net"),
    )
    .await;
    let before = zone_records(&emulator, &zone).await;
    emulator.start_recording();
    let output = mraa(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--domain",
            DOMAIN,
            "--hosted-zone-id",
            &zone,
        ],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!("{API} CNAME"))
            && stderr.contains("not mraa's")
            && stderr.contains("nothing was changed"),
        "{}",
        show(&output)
    );
    let mutating = emulator.mutating_calls();
    assert!(mutating.is_empty(), "refused, yet changed: {mutating:#?}");
    assert_eq!(zone_records(&emulator, &zone).await, before);
    assert!(app_checks(&emulator).await.is_empty());

    // Offline validation: not a DNS name, exit 2 before any AWS call.
    let output = mraa(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--domain",
            "not a domain",
        ],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        stderr_of(&output).contains("invalid domain"),
        "{}",
        show(&output)
    );
}

// ---------------------------------------------------------------------------
// Health checks that no interruption orphans or duplicates, and the
// migration from the earlier plain HTTPS checks
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_check_is_adopted_and_an_old_https_check_is_replaced() {
    use crate::support::proxy::{Action, Proxy};
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType, Tag};
    let emulator = Emulator::start("domain_checks");
    let zone = create_zone(&emulator, DOMAIN).await;
    let proxy = Proxy::start(emulator.port);
    // The run stops between creating a check and tagging it.
    proxy.set_hook(|r| {
        if r.service() == Some("route53") && r.target.contains("/tags/healthcheck/") {
            Action::Drop
        } else {
            Action::Forward
        }
    });
    let env = crate::support::with_var(
        emulator.env_in(PRIMARY),
        "AWS_ENDPOINT_URL",
        &proxy.endpoint,
    );
    let args = ["deploy", "--secondary", SECONDARY, "--domain", DOMAIN];
    let output = mraa(&args, &env, None);
    assert_ne!(output.status.code(), Some(0), "{}", show(&output));
    let made = all_checks(&emulator).await;
    assert_eq!(made.len(), 1, "{made:?}");
    let orphan = made[0].id().to_string();
    assert!(app_checks(&emulator).await.is_empty(), "not tagged yet");

    // The re-run adopts it: no second check of that region, none untagged.
    proxy.clear_hook();
    run_ok(&args, &env);
    let all = all_checks(&emulator).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let checks = app_checks(&emulator).await;
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        checks.values().any(|c| c.id() == orphan),
        "the interrupted run's check was adopted: {checks:?}"
    );

    // A deployment made with the earlier checks: the primary's record on a
    // plain HTTPS check, inverted, tagged as mraa's.
    let client = emulator.route53();
    let new = checks[PRIMARY].clone();
    let config = new.health_check_config().expect("a config");
    let old = client
        .create_health_check()
        .caller_reference("an-earlier-version")
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name(
                    config.fully_qualified_domain_name().unwrap_or_default(),
                )
                .resource_path(config.resource_path().unwrap_or_default())
                .port(443)
                .inverted(true)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("create the earlier check")
        .health_check()
        .expect("a check")
        .id()
        .to_string();
    client
        .change_tags_for_resource()
        .resource_type(TagResourceType::Healthcheck)
        .resource_id(&old)
        .add_tags(Tag::builder().key("mraa:app").value(APP).build())
        .add_tags(Tag::builder().key("mraa:region").value(PRIMARY).build())
        .add_tags(Tag::builder().key("mraa:domain").value(DOMAIN).build())
        .add_tags(Tag::builder().key("mraa:zone").value(&zone).build())
        .send()
        .await
        .expect("tag the earlier check");
    let mut record = client
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .expect("list records")
        .resource_record_sets()
        .iter()
        .find(|r| r.set_identifier() == Some(&format!("mraa-{APP}-primary")))
        .cloned()
        .expect("the primary record");
    record.health_check_id = Some(old.clone());
    upsert(&emulator, &zone, record).await;
    client
        .delete_health_check()
        .health_check_id(new.id())
        .send()
        .await
        .expect("delete the new check");

    run_ok(&args, &env);
    let checks = app_checks(&emulator).await;
    assert_eq!(checks.len(), 2, "{checks:?}");
    let primary = &checks[PRIMARY];
    let config = primary.health_check_config().expect("a config");
    assert_eq!(config.r#type().as_str(), "HTTPS_STR_MATCH");
    assert_ne!(primary.id(), old);
    assert!(
        zone_records(&emulator, &zone)
            .await
            .iter()
            .any(|r| r.contains(primary.id()) && r.contains("Primary")),
        "the primary record carries the new check"
    );
    let gone = client.get_health_check().health_check_id(&old).send().await;
    assert!(gone.is_err(), "the earlier check was deleted: {gone:?}");

    // Converged: a re-run makes no mutating call.
    emulator.start_recording();
    run_ok(&args, &emulator.env_in(PRIMARY));
    let mutating = emulator.mutating_calls();
    assert!(mutating.is_empty(), "{mutating:#?}");
}

// ---------------------------------------------------------------------------
// Health checks on the clock: DNS moves only after the checks' threshold
// ---------------------------------------------------------------------------

/// AWS's clock divided by 60: a 30 s RequestInterval is half a second.
const SCALE: f64 = 60.0;

/// With the emulator on AWS's clock (scaled), `failover` changes the state
/// at once, but Route 53 answers the secondary only after the primary's
/// check has failed FailureThreshold rounds of RequestInterval: measured
/// from the moment failover returns.
#[tokio::test(flavor = "multi_thread")]
async fn on_the_clock_dns_moves_only_after_the_checks_threshold() {
    // No replication lag: the primary's check fails from the moment
    // failover writes, so the time DNS takes is the checks' own.
    let emulator = Emulator::start_with(
        "domain_on_the_clock",
        &[
            ("MRAA_EMULATOR_TIME_SCALE", &SCALE.to_string()),
            ("MRAA_EMULATOR_REPLICATION_LAG", "0"),
        ],
    );
    let zone = create_zone(&emulator, DOMAIN).await;
    run_ok(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &emulator.env_in(PRIMARY),
    );
    dns_moves_to(&emulator, &zone, PRIMARY).await;

    let started = Instant::now();
    run_ok(
        &["failover", "--reason", "drill"],
        &emulator.env_in(PRIMARY),
    );
    let returned = started.elapsed();
    let (moved, before) = dns_moves_to(&emulator, &zone, SECONDARY).await;
    let interval =
        Duration::from_secs_f64(f64::from(mraa::wire::route53::REQUEST_INTERVAL) / SCALE);
    let threshold = u32::try_from(mraa::wire::route53::FAILURE_THRESHOLD).expect("a small count");
    eprintln!(
        "DNS moved {moved:?} after failover returned ({returned:?} after it started; {before} \
         answers of the primary before; interval {interval:?}, threshold {threshold})"
    );
    // The primary's check can fail no sooner than failover starts; its
    // first failing round may come right then, the threshold's last one
    // (threshold - 1) intervals later at least.
    assert!(
        returned + moved >= interval * (threshold - 1),
        "DNS moved {:?} after failover started, before {threshold} rounds of {interval:?}",
        returned + moved
    );
    assert!(
        moved <= interval * (threshold + 2),
        "DNS took {moved:?} to move, {threshold} rounds being {:?}",
        interval * threshold
    );
    assert!(before >= 1, "{before} answers before the move");
}

// ---------------------------------------------------------------------------
// A change of domain on a deployment that holds data
// ---------------------------------------------------------------------------

/// The data a domain change must not touch, read through S3 and DynamoDB:
/// the photo's body, the comment, and the bucket's and table's creation
/// times (a replaced store would be younger).
async fn held_data(emulator: &Emulator) -> (String, bool, String, String) {
    let bucket = format!("mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}");
    let s3 = emulator.s3(PRIMARY);
    let body = s3
        .get_object()
        .bucket(&bucket)
        .key("photos/kept.jpg")
        .send()
        .await
        .expect("the photo")
        .body
        .collect()
        .await
        .expect("its body")
        .into_bytes();
    let bucket_created = s3
        .list_buckets()
        .send()
        .await
        .expect("list buckets")
        .buckets()
        .iter()
        .find(|b| b.name() == Some(bucket.as_str()))
        .and_then(|b| b.creation_date())
        .map(|d| d.to_string())
        .expect("the objects bucket");
    let table = format!("mraa-{APP}-comments");
    let dynamodb = emulator.dynamodb(PRIMARY);
    let comment = dynamodb
        .get_item()
        .table_name(&table)
        .key(
            "commentId",
            aws_sdk_dynamodb::types::AttributeValue::S("kept".into()),
        )
        .send()
        .await
        .expect("get the comment")
        .item()
        .is_some();
    let table_created = crate::adopt::table_created(&dynamodb, &table).await;
    (
        String::from_utf8_lossy(&body).into_owned(),
        comment,
        bucket_created,
        table_created,
    )
}

/// The distribution's aliases and the domain of the ACM certificate it
/// serves, read through CloudFront and ACM.
async fn served_names(emulator: &Emulator) -> (Vec<String>, Option<String>) {
    let config = crate::promises::cloudfront(emulator)
        .get_distribution_config()
        .id(crate::promises::distribution_id(emulator).await)
        .send()
        .await
        .expect("distribution config")
        .distribution_config
        .expect("a configuration");
    let aliases = config
        .aliases()
        .map(|a| a.items().to_vec())
        .unwrap_or_default();
    let arn = config
        .viewer_certificate()
        .and_then(|c| c.acm_certificate_arn())
        // moto writes an absent ACMCertificateArn as "" (models.py,
        // ViewerCertificate); AWS omits it with the default certificate.
        .filter(|arn| !arn.is_empty())
        .map(str::to_string);
    let certified = match arn {
        Some(arn) => emulator
            .acm("us-east-1")
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("the served certificate")
            .certificate()
            .and_then(|c| c.domain_name())
            .map(str::to_string),
        None => None,
    };
    (aliases, certified)
}

/// Done means (issue 23, 4): a domain changed on a deployment holding data
/// moves the names only: the photo and the comment stay in the same bucket
/// and table, the old name's records are gone, the new name answers, and
/// CloudFront serves the new alias with a certificate for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_domain_change_moves_the_names_and_keeps_the_data() {
    const NEW: &str = "shop.app.example.test";
    let emulator = Emulator::start("domain_change");
    let env = emulator.env_in(PRIMARY);
    let zone = create_zone(&emulator, DOMAIN).await;
    run_ok(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &env,
    );
    emulator
        .s3(PRIMARY)
        .put_object()
        .bucket(format!("mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}"))
        .key("photos/kept.jpg")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"kept bytes",
        ))
        .send()
        .await
        .expect("put a photo");
    emulator
        .dynamodb(PRIMARY)
        .put_item()
        .table_name(format!("mraa-{APP}-comments"))
        .item(
            "commentId",
            aws_sdk_dynamodb::types::AttributeValue::S("kept".into()),
        )
        .item(
            "photoId",
            aws_sdk_dynamodb::types::AttributeValue::S("photos/kept.jpg".into()),
        )
        .send()
        .await
        .expect("put a comment");
    let before = held_data(&emulator).await;
    assert_eq!((before.0.as_str(), before.1), ("kept bytes", true));
    let checks_before: Vec<String> = app_checks(&emulator)
        .await
        .values()
        .map(|c| c.id().to_string())
        .collect();

    let output = run_ok(&["deploy", "--secondary", SECONDARY, "--domain", NEW], &env);
    assert_eq!(held_data(&emulator).await, before, "{}", show(&output));
    // The old names hold none of the app's records (the zone's own NS and
    // SOA stay at its apex); the new API name answers the primary through
    // Route 53.
    for name in [DOMAIN, API] {
        let left: Vec<_> = records_named(&emulator, &zone, name)
            .await
            .into_iter()
            .filter(|r| r.set_identifier().is_some())
            .collect();
        assert!(left.is_empty(), "{name} still has {left:#?}");
    }
    // Route 53 answers from the checks' last rounds: polled, bounded.
    let new_api = format!("api.{NEW}");
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    while txt_answer_of(&emulator, &zone, &new_api).await != [marker(PRIMARY)] {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{new_api} never answered {PRIMARY}: {:?} from {:#?}\n{}",
            txt_answer_of(&emulator, &zone, &new_api).await,
            records_named(&emulator, &zone, &new_api).await,
            show(&output)
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    assert!(
        records_named(&emulator, &zone, NEW)
            .await
            .iter()
            .any(|r| r.r#type() == &RrType::A && r.alias_target().is_some()),
        "an alias of {NEW}"
    );
    // The checks watch the regions, not a name: the same two, now tagged
    // for the new domain.
    let ids: Vec<String> = app_checks_of(&emulator, NEW)
        .await
        .values()
        .map(|c| c.id().to_string())
        .collect();
    assert_eq!(ids, checks_before);
    assert_eq!(
        served_names(&emulator).await,
        (vec![NEW.to_string()], Some(NEW.to_string()))
    );
    status_answer_says(&emulator, ("ok", 0), &format!("answers {PRIMARY}"));
    let (code, row) = status_row(&emulator, "site-domain", "global");
    assert_eq!(
        (code, row["status"].as_str()),
        (Some(0), Some("ok")),
        "{row}"
    );

    // Then removed: the distribution serves no alias, the app's records and
    // checks are gone, the data is where it was.
    let output = run_ok(&["deploy", "--secondary", SECONDARY, "--no-domain"], &env);
    assert_eq!(held_data(&emulator).await, before, "{}", show(&output));
    for name in [NEW, new_api.as_str()] {
        let left: Vec<_> = records_named(&emulator, &zone, name)
            .await
            .into_iter()
            .filter(|r| r.set_identifier().is_some())
            .collect();
        assert!(
            left.is_empty(),
            "{name} still has {left:#?}\n{}",
            show(&output)
        );
    }
    assert!(all_checks(&emulator).await.is_empty(), "{}", show(&output));
    assert_eq!(served_names(&emulator).await, (Vec::new(), None));
    // The units of the domain are gone through CloudFormation, and with
    // them the certificates ACM held for the app's current names.
    let api_domain = format!("mraa-{APP}-api-domain");
    let set = emulator
        .cloudformation(PRIMARY)
        .describe_stack_set()
        .stack_set_name(&api_domain)
        .send()
        .await;
    assert!(
        set.as_ref().map_or(true, |s| s.stack_set().is_none()),
        "{set:?}\n{}",
        show(&output)
    );
    let certificate_stack = emulator
        .cloudformation("us-east-1")
        .describe_stacks()
        .stack_name(format!("mraa-{APP}-site-certificate"))
        .send()
        .await;
    let live = certificate_stack.as_ref().map_or(0, |s| {
        s.stacks()
            .iter()
            .filter(|s| {
                s.stack_status()
                    .is_some_and(|st| st.as_str() != "DELETE_COMPLETE")
            })
            .count()
    });
    assert_eq!(live, 0, "{certificate_stack:?}\n{}", show(&output));
    for region in ["us-east-1", PRIMARY, SECONDARY] {
        let acm = emulator.acm(region);
        for name in [NEW, new_api.as_str()] {
            assert!(
                certificate_named(&acm, name).await.is_none(),
                "{name} certificate left in {region}\n{}",
                show(&output)
            );
        }
    }
    let status = mraa(&["status", "--output", "json"], &env, None);
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    let report: Value = serde_json::from_str(&stdout_of(&status)).expect("status JSON");
    let domain_rows: Vec<&Value> = report["checks"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    let name = r["name"].as_str().unwrap_or_default();
                    ["dns", "health", "api-domain", "site-certificate"]
                        .iter()
                        .any(|p| name.starts_with(p))
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(domain_rows.is_empty(), "{domain_rows:#?}");
    let (_, row) = status_row(&emulator, "site-domain", "global");
    assert!(
        row["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cloudfront.net name only")),
        "{row}"
    );
    // A deploy naming no domain after it keeps none and changes nothing.
    emulator.start_recording();
    let again = run_ok(&["deploy", "--secondary", SECONDARY], &env);
    let mutating = emulator.mutating_calls();
    assert!(mutating.is_empty(), "{mutating:#?}\n{}", show(&again));

    run_ok(&["teardown", "--delete-data", "--yes"], &env);
    let left = crate::teardown::what_is_left(&emulator).await;
    assert!(left.buckets.is_empty(), "{left:?}");
    assert!(left.tables.is_empty(), "{left:?}");
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.stack_sets.is_empty(), "{left:?}");
}
