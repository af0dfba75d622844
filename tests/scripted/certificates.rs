//! The custom domain's ACM validation records against scripted AWS answers,
//! in AWS's own shapes (certificate summaries that list their names, keys of
//! every type), which the emulator does not give.
//!
//! The certificates of app `demo`: the site's (us-east-1) and the API's in
//! both regions, which share one record. Someone else's EC certificate for
//! `*.app.example.com` validates through the site name's record: that record
//! is kept, naming that certificate; the API's record is deleted exactly as
//! Route 53 holds it and read back gone. Every client answers in order
//! (`RuleMode::Sequential`) and each rule is checked to have been asked.

use std::collections::BTreeMap;

use aws_sdk_acm as acm;
use aws_sdk_route53 as r53;
use aws_smithy_mocks::{Rule, mock};

use acm::operation::describe_certificate::DescribeCertificateOutput;
use acm::operation::list_certificates::ListCertificatesOutput;
use acm::types::{
    CertificateDetail, CertificateSummary, DomainValidation, KeyAlgorithm, RecordType,
    ResourceRecord as AcmRecord,
};
use r53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
use r53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use r53::types::{
    ChangeAction, ChangeInfo, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};

use mraa::teardown::acm::{Decision, OwnCertificate, delete, read};

const ZONE: &str = "Z0EXAMPLE";
const DOMAIN: &str = "app.example.com";
const API: &str = "api.app.example.com";
const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const SITE_ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/site";
const API_PRIMARY_ARN: &str = "arn:aws:acm:eu-west-1:123456789012:certificate/api";
const API_SECONDARY_ARN: &str = "arn:aws:acm:ap-northeast-1:123456789012:certificate/api";
const THEIRS: &str = "arn:aws:acm:us-east-1:123456789012:certificate/theirs";
const UNRELATED: &str = "arn:aws:acm:ap-northeast-1:123456789012:certificate/other";
const SITE_RECORD: &str = "_1a2b.app.example.com.";
const API_RECORD: &str = "_3c4d.api.app.example.com.";
const SITE_VALUE: &str = "_5e6f.xyz.acm-validations.aws.";
const API_VALUE: &str = "_7a8b.xyz.acm-validations.aws.";

fn certificate(arn: &'static str, domain: &'static str, record: &str, value: &str) -> Rule {
    let detail = CertificateDetail::builder()
        .certificate_arn(arn)
        .domain_name(domain)
        .subject_alternative_names(domain)
        .domain_validation_options(
            DomainValidation::builder()
                .domain_name(domain)
                .resource_record(
                    AcmRecord::builder()
                        .name(record)
                        .r#type(RecordType::Cname)
                        .value(value)
                        .build()
                        .expect("an ACM record"),
                )
                .build()
                .expect("a validation option"),
        )
        .build();
    mock!(acm::Client::describe_certificate)
        .match_requests(move |r| r.certificate_arn() == Some(arn))
        .then_output(move || {
            DescribeCertificateOutput::builder()
                .certificate(detail.clone())
                .build()
        })
}

fn summary(arn: &str, names: &[&str], key: KeyAlgorithm) -> CertificateSummary {
    CertificateSummary::builder()
        .certificate_arn(arn)
        .domain_name(names[0])
        .set_subject_alternative_name_summaries(Some(names.iter().map(|n| n.to_string()).collect()))
        .has_additional_subject_alternative_names(false)
        .key_algorithm(key)
        .build()
}

/// ListCertificates, asked for every key type (it answers RSA_2048 only
/// otherwise, and someone else's certificate may be EC).
fn listed(summaries: Vec<CertificateSummary>) -> Rule {
    mock!(acm::Client::list_certificates)
        .match_requests(|r| {
            let keys = r.includes().map(|f| f.key_types()).unwrap_or_default();
            keys.contains(&KeyAlgorithm::EcPrime256v1) && keys.contains(&KeyAlgorithm::Rsa2048)
        })
        .then_output(move || {
            ListCertificatesOutput::builder()
                .set_certificate_summary_list(Some(summaries.clone()))
                .build()
        })
}

fn cname(name: &str, value: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().expect("rr"))
        .build()
        .expect("a record set")
}

/// The zone from `name` on, as ListResourceRecordSets answers it.
fn zone_from(name: &'static str, sets: Vec<ResourceRecordSet>) -> Rule {
    mock!(r53::Client::list_resource_record_sets)
        .match_requests(move |r| {
            r.hosted_zone_id() == Some(ZONE) && r.start_record_name() == Some(name)
        })
        .then_output(move || {
            ListResourceRecordSetsOutput::builder()
                .set_resource_record_sets(Some(sets.clone()))
                .is_truncated(false)
                .max_items(100)
                .build()
                .expect("a listing")
        })
}

fn ours() -> Vec<OwnCertificate> {
    [
        (SITE_ARN, "us-east-1", "mraa-demo-site-certificate"),
        (API_PRIMARY_ARN, PRIMARY, "StackSet-mraa-demo-api-domain-1"),
        (
            API_SECONDARY_ARN,
            SECONDARY,
            "StackSet-mraa-demo-api-domain-2",
        ),
    ]
    .into_iter()
    .map(|(arn, region, stack)| OwnCertificate {
        arn: arn.into(),
        region: region.into(),
        zone: Some(ZONE.into()),
        stack: stack.into(),
    })
    .collect()
}

#[tokio::test]
async fn a_record_another_certificate_validates_through_is_kept_and_the_rest_deleted_exactly() {
    // ACM, per region: our certificates, then every certificate listed.
    let site = certificate(SITE_ARN, DOMAIN, SITE_RECORD, SITE_VALUE);
    let api_primary = certificate(API_PRIMARY_ARN, API, API_RECORD, API_VALUE);
    let api_secondary = certificate(API_SECONDARY_ARN, API, API_RECORD, API_VALUE);
    let list_east = listed(vec![
        summary(SITE_ARN, &[DOMAIN], KeyAlgorithm::Rsa2048),
        summary(
            THEIRS,
            &["*.app.example.com", "www.example.org"],
            KeyAlgorithm::EcPrime256v1,
        ),
    ]);
    let list_primary = listed(vec![summary(
        API_PRIMARY_ARN,
        &[API],
        KeyAlgorithm::Rsa2048,
    )]);
    let list_secondary = listed(vec![
        summary(API_SECONDARY_ARN, &[API], KeyAlgorithm::Rsa2048),
        summary(UNRELATED, &["example.com"], KeyAlgorithm::Rsa2048),
    ]);
    let mut clients = BTreeMap::new();
    clients.insert(
        "us-east-1".to_string(),
        scripted!(acm, "us-east-1", &[&site, &list_east]),
    );
    clients.insert(
        PRIMARY.to_string(),
        scripted!(acm, PRIMARY, &[&api_primary, &list_primary]),
    );
    clients.insert(
        SECONDARY.to_string(),
        scripted!(acm, SECONDARY, &[&api_secondary, &list_secondary]),
    );

    // Route 53: each record read where its name starts (in name order: the
    // site's first), the zone's next names after it.
    let api_set = cname(API_RECORD, API_VALUE);
    let next = cname("api.app.example.com.", "elsewhere.example.net.");
    let read_api = zone_from(API_RECORD, vec![api_set.clone(), next.clone()]);
    let read_site = zone_from(SITE_RECORD, vec![cname(SITE_RECORD, SITE_VALUE)]);
    let route53 = scripted!(r53, "us-east-1", &[&read_site, &read_api]);

    let regions = ["us-east-1", PRIMARY, SECONDARY].map(String::from);
    let records = read(&route53, &clients, &ours(), &regions)
        .await
        .expect("read the validation records");

    assert_eq!(records.len(), 2, "{records:#?}");
    let api = records
        .iter()
        .find(|r| r.name == API_RECORD)
        .expect("the API's record");
    assert_eq!(api.decision, Decision::Delete);
    assert_eq!(api.certificates, [API_PRIMARY_ARN, API_SECONDARY_ARN]);
    assert_eq!(api.found.as_ref(), Some(&api_set));
    let site_record = records
        .iter()
        .find(|r| r.name == SITE_RECORD)
        .expect("the site's record");
    match &site_record.decision {
        Decision::Keep(reason) => assert!(
            reason.contains(THEIRS) && reason.contains("*.app.example.com"),
            "{reason}"
        ),
        Decision::Delete => panic!("a record another certificate needs is kept"),
    }
    for rule in [
        &site,
        &api_primary,
        &api_secondary,
        &list_east,
        &list_primary,
        &list_secondary,
        &read_api,
        &read_site,
    ] {
        assert_eq!(rule.num_calls(), 1);
    }

    // Deleting: the API record read again, deleted as read, read back gone;
    // the site's record is not asked for, let alone changed.
    let again = zone_from(API_RECORD, vec![api_set.clone(), next.clone()]);
    let expected = api_set.clone();
    let change = mock!(r53::Client::change_resource_record_sets)
        .match_requests(move |r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            r.hosted_zone_id() == Some(ZONE)
                && changes.len() == 1
                && changes[0].action() == &ChangeAction::Delete
                && changes[0].resource_record_set() == Some(&expected)
        })
        .then_output(|| {
            ChangeResourceRecordSetsOutput::builder()
                .change_info(
                    ChangeInfo::builder()
                        .id("/change/C1")
                        .status(ChangeStatus::Pending)
                        .submitted_at(r53::primitives::DateTime::from_secs(1_700_000_000))
                        .build()
                        .expect("change info"),
                )
                .build()
        });
    let gone = zone_from(API_RECORD, vec![next.clone()]);
    let route53 = scripted!(r53, "us-east-1", &[&again, &change, &gone]);

    let deleted = delete(&route53, "demo", &records)
        .await
        .expect("delete the unshared record");

    let names: Vec<&str> = deleted.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [API_RECORD]);
    for rule in [&again, &change, &gone] {
        assert_eq!(rule.num_calls(), 1);
    }
}
