//! The link checks of `mraa status` against scripted AWS answers, for states
//! the emulator never shows: a DynamoDB replica still CREATING or without its
//! KMS key, a replication rule turned off, a distribution still deploying.
//! Each case has a healthy twin that must come out `ok`, so a check that
//! degraded everything would fail here too.
//!
//! The clients answer from `aws-smithy-mocks` rules; a call nobody scripted
//! reaches the mock HTTP client and fails. `custom_endpoint` is false: these
//! are AWS's own answers, where nothing may be excused as unverified.

use aws_sdk_cloudfront as cloudfront;
use aws_sdk_dynamodb as ddb;
use aws_sdk_s3 as s3;
use aws_smithy_mocks::{Rule, RuleMode, mock};

use cloudfront::operation::get_distribution::GetDistributionOutput;
use cloudfront::types::{
    DefaultCacheBehavior, Distribution, DistributionConfig, Origin, OriginGroup,
    OriginGroupFailoverCriteria, OriginGroupMember, OriginGroupMembers, OriginGroups, Origins,
    StatusCodes, ViewerProtocolPolicy,
};
use ddb::operation::describe_table::DescribeTableOutput;
use ddb::types::{ReplicaDescription, ReplicaStatus, TableDescription, TableStatus};
use s3::operation::get_bucket_replication::GetBucketReplicationOutput;
use s3::types::{
    DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, ReplicationConfiguration,
    ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus, ReplicationTime,
    ReplicationTimeStatus, ReplicationTimeValue,
};

use mraa::aws::{Aws, RegionClients};
use mraa::health::links;
use mraa::health::{Check, Health};

const APP: &str = "demo";
const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const ACCOUNT: &str = "123456789012";
const DISTRIBUTION: &str = "E123";
const TABLES: [&str; 3] = ["comments", "app-config", "users"];

/// A client of `$sdk` answering from `$rules` (matched by request, in any
/// order: the checks read several resources concurrently). No retries, so
/// each scripted answer is exactly one call.
macro_rules! scripted {
    ($sdk:ident, $region:expr, $rules:expr) => {
        scripted_client!(
            $sdk,
            RuleMode::MatchAny,
            $region,
            $rules,
            $sdk::config::retry::RetryConfig::disabled()
        )
    };
}

/// Scripts per client; every client without a script answers nothing.
#[derive(Default)]
struct Scripts<'a> {
    primary_dynamodb: &'a [&'a Rule],
    primary_s3: &'a [&'a Rule],
    cloudfront: &'a [&'a Rule],
}

fn aws(scripts: Scripts<'_>) -> Aws {
    let clients = |region: &str, dynamodb: &[&Rule], s3_rules: &[&Rule]| RegionClients {
        region: region.to_string(),
        cfn: scripted!(aws_sdk_cloudformation, region, &[]),
        s3: scripted!(s3, region, s3_rules),
        dynamodb: scripted!(ddb, region, dynamodb),
        cognito: scripted!(aws_sdk_cognitoidentityprovider, region, &[]),
        apigateway: scripted!(aws_sdk_apigateway, region, &[]),
    };
    Aws {
        primary: clients(PRIMARY, scripts.primary_dynamodb, scripts.primary_s3),
        secondary: clients(SECONDARY, &[], &[]),
        cloudfront: scripted!(cloudfront, "us-east-1", scripts.cloudfront),
        sts: scripted!(aws_sdk_sts, PRIMARY, &[]),
        base: aws_config::SdkConfig::builder().build(),
        custom_endpoint: false,
    }
}

fn assert_called_once(rules: &[&Rule]) {
    for (i, rule) in rules.iter().enumerate() {
        assert_eq!(
            rule.num_calls(),
            1,
            "scripted answer {i} was asked for once"
        );
    }
}

// ---------------------------------------------------------------------------
// DynamoDB replicas
// ---------------------------------------------------------------------------

fn table_name(short: &str) -> String {
    format!("mraa-{APP}-{short}")
}

/// The primary's description of `short`, with its replica in the secondary.
fn describe_table(short: &'static str, replica: ReplicaStatus, why: Option<&'static str>) -> Rule {
    mock!(ddb::Client::describe_table)
        .match_requests(move |r| r.table_name() == Some(table_name(short).as_str()))
        .then_output(move || {
            let name = table_name(short);
            DescribeTableOutput::builder()
                .table(
                    TableDescription::builder()
                        .table_arn(format!("arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/{name}"))
                        .table_name(name)
                        .table_status(TableStatus::Active)
                        .replicas(
                            ReplicaDescription::builder()
                                .region_name(SECONDARY)
                                .replica_status(replica.clone())
                                .set_replica_status_description(why.map(str::to_string))
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
}

/// The replica checks with `comments`' replica in `status`, the others active.
async fn replica_checks(status: ReplicaStatus, why: Option<&'static str>) -> Vec<Check> {
    let rules = [
        describe_table("comments", status, why),
        describe_table("app-config", ReplicaStatus::Active, None),
        describe_table("users", ReplicaStatus::Active, None),
    ];
    let rules: Vec<&Rule> = rules.iter().collect();
    let aws = aws(Scripts {
        primary_dynamodb: &rules,
        ..Scripts::default()
    });
    let tables = mraa::names::global_tables(mraa::plan::UserReplication::Import);
    let checks = links::dynamodb_replicas(&aws, APP, tables).await;
    assert_called_once(&rules);
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        TABLES.map(|t| format!("replica {t}")),
        "one check per global table"
    );
    for check in &checks {
        assert_eq!(check.kind, "link");
        assert_eq!(check.region, SECONDARY, "{check:?}");
    }
    for check in &checks[1..] {
        assert_eq!(check.status, Health::Ok, "{check:?}");
        assert_eq!(check.detail, "ACTIVE");
    }
    checks
}

#[tokio::test]
async fn a_replica_still_creating_is_degraded() {
    let checks = replica_checks(ReplicaStatus::Creating, None).await;
    assert_eq!(checks[0].status, Health::Degraded, "{:?}", checks[0]);
    assert!(checks[0].detail.contains("CREATING"), "{:?}", checks[0]);
}

#[tokio::test]
async fn a_replica_without_its_kms_key_is_degraded_with_the_reason() {
    let why = "The KMS key used to encrypt the replica is disabled";
    let checks = replica_checks(ReplicaStatus::InaccessibleEncryptionCredentials, Some(why)).await;
    assert_eq!(checks[0].status, Health::Degraded, "{:?}", checks[0]);
    assert_eq!(
        checks[0].detail,
        format!("INACCESSIBLE_ENCRYPTION_CREDENTIALS: {why}")
    );
}

#[tokio::test]
async fn active_replicas_are_ok() {
    let checks = replica_checks(ReplicaStatus::Active, None).await;
    assert_eq!(checks[0].status, Health::Ok, "{:?}", checks[0]);
}

// ---------------------------------------------------------------------------
// S3 replication
// ---------------------------------------------------------------------------

fn bucket(kind: &str, region: &str) -> String {
    format!("mraa-{APP}-{kind}-{ACCOUNT}-{region}")
}

/// mraa's rule on the primary objects bucket, in `status`, otherwise as
/// deploy writes it (towards the secondary, RTC and delete markers on).
fn replication(status: ReplicationRuleStatus) -> Rule {
    mock!(s3::Client::get_bucket_replication)
        .match_requests(|r| r.bucket() == Some(bucket("objects", PRIMARY).as_str()))
        .then_output(move || {
            let minutes = ReplicationTimeValue::builder().minutes(15).build();
            let rule = ReplicationRule::builder()
                .id("mraa-primary-to-secondary")
                .priority(1)
                .filter(ReplicationRuleFilter::builder().prefix("").build())
                .status(status.clone())
                .delete_marker_replication(
                    DeleteMarkerReplication::builder()
                        .status(DeleteMarkerReplicationStatus::Enabled)
                        .build(),
                )
                .destination(
                    Destination::builder()
                        .bucket(format!("arn:aws:s3:::{}", bucket("objects", SECONDARY)))
                        .replication_time(
                            ReplicationTime::builder()
                                .status(ReplicationTimeStatus::Enabled)
                                .time(minutes)
                                .build()
                                .expect("replication time"),
                        )
                        .build()
                        .expect("destination"),
                )
                .build()
                .expect("rule");
            GetBucketReplicationOutput::builder()
                .replication_configuration(
                    ReplicationConfiguration::builder()
                        .role(format!(
                            "arn:aws:iam::{ACCOUNT}:role/mraa-{APP}-replication-{PRIMARY}"
                        ))
                        .rules(rule)
                        .build()
                        .expect("configuration"),
                )
                .build()
        })
}

async fn replication_check(status: ReplicationRuleStatus) -> Check {
    let rule = replication(status);
    let aws = aws(Scripts {
        primary_s3: &[&rule],
        ..Scripts::default()
    });
    let check = links::s3_replication(&aws, APP, ACCOUNT).await;
    assert_called_once(&[&rule]);
    assert_eq!(check.name, "s3-replication");
    assert_eq!(check.region, PRIMARY);
    check
}

#[tokio::test]
async fn a_disabled_replication_rule_is_degraded() {
    let check = replication_check(ReplicationRuleStatus::Disabled).await;
    assert_eq!(check.status, Health::Degraded, "{check:?}");
    assert!(check.detail.starts_with("Disabled"), "{check:?}");
}

#[tokio::test]
async fn an_enabled_replication_rule_is_ok() {
    let check = replication_check(ReplicationRuleStatus::Enabled).await;
    assert_eq!(check.status, Health::Ok, "{check:?}");
    assert_eq!(
        check.detail,
        format!("Enabled → {}, RTC on", bucket("objects", SECONDARY))
    );
}

// ---------------------------------------------------------------------------
// The CloudFront distribution
// ---------------------------------------------------------------------------

const DOMAIN: &str = "d111111abcdef8.cloudfront.net";
const GROUP: &str = "website-failover";

/// The distribution in `status`, with an origin group over both website
/// buckets (primary first) as its default target.
fn distribution(status: &'static str) -> Rule {
    mock!(cloudfront::Client::get_distribution)
        .match_requests(|r| r.id() == Some(DISTRIBUTION))
        .then_output(move || {
            let origin = |region: &str| {
                Origin::builder()
                    .id(format!("website-{region}"))
                    .domain_name(format!(
                        "{}.s3.{region}.amazonaws.com",
                        bucket("website", region)
                    ))
                    .build()
                    .expect("origin")
            };
            let member = |region: &str| {
                OriginGroupMember::builder()
                    .origin_id(format!("website-{region}"))
                    .build()
                    .expect("member")
            };
            let group = OriginGroup::builder()
                .id(GROUP)
                .failover_criteria(
                    OriginGroupFailoverCriteria::builder()
                        .status_codes(
                            StatusCodes::builder()
                                .quantity(4)
                                .set_items(Some(vec![500, 502, 503, 504]))
                                .build()
                                .expect("status codes"),
                        )
                        .build(),
                )
                .members(
                    OriginGroupMembers::builder()
                        .quantity(2)
                        .items(member(PRIMARY))
                        .items(member(SECONDARY))
                        .build()
                        .expect("members"),
                )
                .build()
                .expect("origin group");
            let config = DistributionConfig::builder()
                .caller_reference("mraa-demo-edge")
                .comment("mraa demo")
                .enabled(true)
                .origins(
                    Origins::builder()
                        .quantity(2)
                        .items(origin(PRIMARY))
                        .items(origin(SECONDARY))
                        .build()
                        .expect("origins"),
                )
                .origin_groups(
                    OriginGroups::builder()
                        .quantity(1)
                        .items(group)
                        .build()
                        .expect("origin groups"),
                )
                .default_cache_behavior(
                    DefaultCacheBehavior::builder()
                        .target_origin_id(GROUP)
                        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                        .build()
                        .expect("default cache behaviour"),
                )
                .build()
                .expect("distribution config");
            GetDistributionOutput::builder()
                .e_tag("E2QWRUHEXAMPLE")
                .distribution(
                    Distribution::builder()
                        .id(DISTRIBUTION)
                        .arn(format!(
                            "arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION}"
                        ))
                        .status(status)
                        .last_modified_time(aws_sdk_cloudfront::primitives::DateTime::from_secs(
                            1_700_000_000,
                        ))
                        .in_progress_invalidation_batches(0)
                        .domain_name(DOMAIN)
                        .distribution_config(config)
                        .build()
                        .expect("distribution"),
                )
                .build()
        })
}

async fn distribution_check(status: &'static str) -> (Check, Option<String>) {
    let rule = distribution(status);
    let aws = aws(Scripts {
        cloudfront: &[&rule],
        ..Scripts::default()
    });
    let (check, domain) = links::distribution(&aws, APP, ACCOUNT, Some(DISTRIBUTION)).await;
    assert_called_once(&[&rule]);
    assert_eq!(check.name, "cloudfront");
    assert_eq!(check.region, "global");
    assert_eq!(domain.as_deref(), Some(DOMAIN));
    (check, domain)
}

#[tokio::test]
async fn a_distribution_still_deploying_is_degraded() {
    let (check, _) = distribution_check("InProgress").await;
    assert_eq!(check.status, Health::Degraded, "{check:?}");
    assert!(check.detail.contains("InProgress"), "{check:?}");
}

#[tokio::test]
async fn a_deployed_distribution_over_both_buckets_is_ok() {
    let (check, _) = distribution_check("Deployed").await;
    assert_eq!(check.status, Health::Ok, "{check:?}");
    assert_eq!(
        check.detail,
        format!(
            "{DOMAIN} Deployed; group website-{PRIMARY} → website-{SECONDARY} \
             fails over on 500,502,503,504"
        )
    );
}

#[tokio::test]
async fn without_a_distribution_id_on_aws_the_distribution_is_missing() {
    let aws = aws(Scripts::default());
    let (check, domain) = links::distribution(&aws, APP, ACCOUNT, None).await;
    assert_eq!(check.status, Health::Missing, "{check:?}");
    assert_eq!(domain, None);
}
