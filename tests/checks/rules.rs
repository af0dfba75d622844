//! AWS's rules that the local emulator does not enforce, checked on every
//! scenario's rendered templates (`cfn::scenarios`), each with the page it
//! comes from. Rules checked elsewhere, once, are not repeated here:
//!
//! - tables to be replicated stream NEW_AND_OLD_IMAGES, and tables are
//!   retained (`DeletionPolicy` and `UpdateReplacePolicy`):
//!   `templates::every_table_is_created_in_the_primary_only_retained_protected_and_streamed`
//!   (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html>);
//! - every bucket TLS-only with public access blocked, data buckets retained:
//!   `templates::every_bucket_is_encrypted_private_tls_only_and_retained_if_it_holds_data`
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html>).

use mraa::plan::{ParamSource, RegionRole, Unit};
use serde_yaml::Value;

use crate::cfn::{self, Instance, at, field, intrinsic, seq, str_of, type_of};
use crate::support::template::get_att;

/// Condition keys a service sets only in some requests; a trust policy that
/// requires one where the service does not set it denies every assume.
const SOURCE_KEYS: [&str; 2] = ["aws:sourceaccount", "aws:sourcearn"];

/// The condition keys a role's trust policy tests, lower-cased.
fn trust_condition_keys(t: &Instance, role: &Value) -> Vec<String> {
    let Some(trust) = at(role, "Properties.AssumeRolePolicyDocument").and_then(|d| t.decide(d))
    else {
        return Vec::new();
    };
    let statements = field(&trust, "Statement")
        .and_then(seq)
        .cloned()
        .unwrap_or_default();
    statements
        .iter()
        .filter_map(|s| field(s, "Condition"))
        .filter_map(|c| match c {
            Value::Mapping(operators) => Some(operators.values().cloned().collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .filter_map(|keys| match keys {
            Value::Mapping(keys) => Some(
                keys.keys()
                    .filter_map(str_of)
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

fn trusts_api_gateway(t: &Instance, role: &Value) -> bool {
    let trust = at(role, "Properties.AssumeRolePolicyDocument").and_then(|d| t.decide(d));
    let statements = trust
        .as_ref()
        .and_then(|d| field(d, "Statement"))
        .and_then(seq)
        .cloned()
        .unwrap_or_default();
    statements.iter().any(|s| {
        t.resolve_all(at(s, "Principal.Service"))
            .iter()
            .any(|service| service == "apigateway.amazonaws.com")
    })
}

/// API Gateway does not set `aws:SourceAccount` (nor `aws:SourceArn`) when it
/// assumes a method's integration credentials, so a trust condition on either
/// denies the assume and every request answers 500: confirmed on a live stack
/// with `test-invoke-method`
/// (<https://github.com/aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws/pull/479>).
/// Nor for the CloudWatch Logs role of its account settings, whose trust
/// policy AWS documents without a condition
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html>).
#[test]
fn roles_api_gateway_assumes_carry_no_source_condition() {
    let mut credentials = 0;
    for (scenario, t) in cfn::every_instance() {
        // Integration credentials, followed from every method to its role.
        for (method, resource) in t.of_type("AWS::ApiGateway::Method") {
            let Some(role) = at(resource, "Properties.Integration.Credentials") else {
                continue;
            };
            let (role_id, _) = get_att(role).unwrap_or_else(|| {
                panic!(
                    "{}: {method}: credentials not a role of this template",
                    t.file()
                )
            });
            let role = t.resource(&role_id).expect("the credentials role exists");
            assert_eq!(type_of(role), "AWS::IAM::Role");
            assert!(
                trusts_api_gateway(&t, role),
                "{scenario}: {} {role_id}: integration credentials of {method} must trust \
                     apigateway.amazonaws.com",
                t.file()
            );
            credentials += 1;
        }
        for (id, role) in t.of_type("AWS::IAM::Role") {
            if !trusts_api_gateway(&t, role) {
                continue;
            }
            let keys = trust_condition_keys(&t, role);
            for key in SOURCE_KEYS {
                assert!(
                    !keys.iter().any(|k| k == key),
                    "{scenario}: {} {id} in {}: API Gateway assumes this role without \
                         setting {key}, so the trust condition denies every call",
                    t.file(),
                    t.region
                );
            }
        }
    }
    assert!(
        credentials >= 12,
        "only {credentials} integrations with credentials found: is the walk broken?"
    );
}

/// Where the service does set the keys, the conditions stay: S3 replication
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html>)
/// and the StackSet administration role
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html>).
#[test]
fn roles_whose_service_sets_the_source_account_keep_the_condition() {
    for (scenario, t) in cfn::every_instance() {
        for (id, role) in [
            (Unit::ObjectStore, "ReplicationRole"),
            (Unit::Bootstrap, "AdministrationRole"),
        ]
        .into_iter()
        .filter(|(unit, _)| *unit == t.unit)
        .filter_map(|(_, id)| Some((id, t.resource(id)?)))
        {
            assert!(
                trust_condition_keys(&t, role).contains(&"aws:sourceaccount".to_string()),
                "{scenario}: {} {id} in {}: keep aws:SourceAccount",
                t.file(),
                t.region
            );
        }
    }
}

/// Origin failover applies to GET, HEAD and OPTIONS only: a cache behaviour
/// that targets an origin group may allow no other method
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html>).
#[test]
fn behaviours_that_target_an_origin_group_allow_only_get_head_options() {
    let mut checked = 0;
    for (scenario, t) in cfn::every_instance() {
        for (id, distribution) in t.of_type("AWS::CloudFront::Distribution") {
            let config = at(distribution, "Properties.DistributionConfig")
                .and_then(|c| t.decide(c))
                .expect("DistributionConfig");
            let groups: Vec<String> = at(&config, "OriginGroups.Items")
                .and_then(seq)
                .into_iter()
                .flatten()
                .filter_map(|g| field(g, "Id").and_then(|v| t.resolve(v)))
                .collect();
            let mut behaviours: Vec<&Value> =
                field(&config, "DefaultCacheBehavior").into_iter().collect();
            behaviours.extend(
                field(&config, "CacheBehaviors")
                    .and_then(seq)
                    .into_iter()
                    .flatten(),
            );
            for behaviour in behaviours {
                let target = field(behaviour, "TargetOriginId").and_then(|v| t.resolve(v));
                if !target.is_some_and(|target| groups.contains(&target)) {
                    continue;
                }
                // CloudFront's default is GET and HEAD.
                let methods = t.resolve_all(field(behaviour, "AllowedMethods"));
                for method in &methods {
                    assert!(
                        ["GET", "HEAD", "OPTIONS"].contains(&method.as_str()),
                        "{scenario}: {} {id}: a behaviour that targets an origin group \
                             allows {method}",
                        t.file()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 3,
        "no behaviour targets an origin group: is the walk broken?"
    );
}

/// "S3 RTC ... you must also enable replication metrics": a destination with
/// Replication Time Control carries `Metrics` enabled
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html>).
#[test]
fn replication_time_control_comes_with_metrics() {
    use aws_sdk_s3::types::{MetricsStatus, ReplicationTimeStatus};
    let configuration = mraa::wire::s3::desired_configuration(
        "arn:aws:iam::123456789012:role/mraa-demo-replication-us-east-1",
        "arn:aws:s3:::mraa-demo-objects-123456789012-ap-northeast-1",
    )
    .expect("a valid replication configuration");
    assert!(!configuration.rules().is_empty());
    for rule in configuration.rules() {
        let destination = rule.destination().expect("a destination");
        let rtc = destination
            .replication_time()
            .is_some_and(|t| t.status() == &ReplicationTimeStatus::Enabled);
        assert!(rtc, "rule {:?}: Replication Time Control is on", rule.id());
        let metrics = destination
            .metrics()
            .is_some_and(|m| m.status() == &MetricsStatus::Enabled);
        assert!(metrics, "rule {:?}: RTC needs Metrics enabled", rule.id());
    }
}

/// Every user pool is retained on stack deletion and on replacement: users
/// are data (tables and buckets: see the module note).
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html>)
#[test]
fn every_user_pool_is_retained() {
    let mut pools = 0;
    for (scenario, t) in cfn::every_instance() {
        // The replica is the users' copy in the secondary, and the keys
        // are what the pool and its replica are readable with.
        let kept = [
            "AWS::Cognito::UserPool",
            "AWS::Cognito::UserPoolReplica",
            "AWS::KMS::Key",
            "AWS::KMS::ReplicaKey",
        ];
        for (id, pool) in kept.iter().flat_map(|kind| t.of_type(kind)) {
            // The alarms topic's key encrypts notifications in transit to
            // their subscribers; nothing kept is readable only with it.
            if t.unit == mraa::plan::Unit::Alarms && id == "TopicKey" {
                continue;
            }
            for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                assert_eq!(
                    field(pool, policy).and_then(str_of),
                    Some("Retain"),
                    "{scenario}: {} {id}: {policy}",
                    t.file()
                );
            }
            pools += 1;
        }
    }
    // The pool, its replica, the key and its replica in each of the two
    // native scenarios; a pool per region where users are imported.
    assert!(
        pools >= 10,
        "only {pools} user pools, replicas and keys found"
    );
}

/// CloudFront takes certificates from ACM in US East (N. Virginia) only: the
/// distribution's certificate is the site-certificate unit's, made there
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html>).
#[test]
fn cloudfront_certificates_come_from_us_east_1() {
    for (scenario, plan) in cfn::scenarios() {
        for t in cfn::instances(&plan) {
            for (id, distribution) in t.of_type("AWS::CloudFront::Distribution") {
                let config = at(distribution, "Properties.DistributionConfig")
                    .and_then(|c| t.decide(c))
                    .expect("DistributionConfig");
                let Some(certificate) = at(&config, "ViewerCertificate.AcmCertificateArn") else {
                    continue;
                };
                let parameter = intrinsic(certificate, "Ref")
                    .and_then(str_of)
                    .unwrap_or_else(|| {
                        panic!("{scenario}: {id}: the certificate is a parameter the plan fills")
                    });
                let edge = plan.unit(t.unit).expect("planned");
                let source = edge.parameters.get(parameter);
                assert!(
                    matches!(
                        source,
                        Some(ParamSource::FromOutput {
                            unit: Unit::SiteCertificate,
                            region: RegionRole::Primary,
                            ..
                        })
                    ),
                    "{scenario}: {parameter} must be the site certificate's output: {source:?}"
                );
                assert_eq!(
                    plan.output_region(Unit::SiteCertificate, RegionRole::Primary),
                    "us-east-1",
                    "{scenario}"
                );
                let certificate_unit = plan.unit(Unit::SiteCertificate).expect("planned");
                assert_eq!(certificate_unit.regions, ["us-east-1"], "{scenario}");
            }
        }
    }
}
