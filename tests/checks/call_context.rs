//! The condition keys a resource handler's call carries, so that a
//! conditional grant counts only when the call would meet it
//! (tests/support/iam.rs). Each rule names the page it follows; a key no rule
//! gives is absent, and a condition on it fails, as IAM fails it.

use serde_yaml::Value;

use crate::cfn::{Instance, at};
use crate::iam::Context;

/// The service principal a resource type passes its roles to: "the service
/// to which the role is passed", `iam:PassedToService`
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService>).
const PASSED_TO: &[(&str, &str)] = &[
    ("AWS::Lambda::", "lambda.amazonaws.com"),
    ("AWS::ApiGateway::", "apigateway.amazonaws.com"),
    ("AWS::Cognito::", "cognito-idp.amazonaws.com"),
    ("AWS::Events::", "events.amazonaws.com"),
    ("AWS::S3::", "s3.amazonaws.com"),
    ("AWS::CloudFormation::", "cloudformation.amazonaws.com"),
];

/// The service whose service-linked role a type's handler creates,
/// `iam:AWSServiceName`
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_AWSServiceName>):
/// DynamoDB's replication role for a table with replicas
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_reqs_bestpractices.html>);
/// Cognito's own role, `AWSServiceRoleForAmazonCognitoIdp`, trusted by
/// `cognito-idp.amazonaws.com`
/// (<https://docs.aws.amazon.com/cognito/latest/developerguide/using-service-linked-roles.html>).
const LINKED_ROLE_OF: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "replication.dynamodb.amazonaws.com"),
    ("AWS::Cognito::", "cognito-idp.amazonaws.com"),
];

/// What a call made by `type_name`'s handler for `permission`, in `t`'s
/// region, carries.
pub fn of(t: &Instance, resource: &Value, type_name: &str, permission: &str) -> Context {
    let context = Context::new().with("aws:RequestedRegion", &[&t.region]);
    let of_type = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(prefix, _)| type_name.starts_with(prefix))
            .map(|(_, service)| *service)
    };
    match permission {
        "iam:PassRole" => match of_type(PASSED_TO) {
            Some(service) => context.with("iam:PassedToService", &[service]),
            None => context,
        },
        "iam:CreateServiceLinkedRole" => match of_type(LINKED_ROLE_OF) {
            Some(service) => context.with("iam:AWSServiceName", &[service]),
            None => context,
        },
        // CreateKey for a replica comes from ReplicateKey, which KMS
        // authorizes with kms:MultiRegionKeyType REPLICA in the replica's
        // region; for a key, the request's MultiRegion decides
        // (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-auth.html,
        // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-multiregion).
        "kms:CreateKey" if type_name == "AWS::KMS::ReplicaKey" => context
            .with("kms:MultiRegion", &["true"])
            .with("kms:MultiRegionKeyType", &["REPLICA"]),
        "kms:CreateKey" if type_name == "AWS::KMS::Key" => {
            let multi = at(resource, "Properties.MultiRegion")
                .and_then(|v| t.resolve(v))
                .is_some_and(|v| v == "true");
            let context = context.with("kms:MultiRegion", &[if multi { "true" } else { "false" }]);
            let context = with_tags(context, "aws:RequestTag", t, resource);
            if multi {
                context.with("kms:MultiRegionKeyType", &["PRIMARY"])
            } else {
                context
            }
        }
        // DynamoDB calls KMS for a table on the caller's behalf, so its
        // calls carry kms:ViaService dynamodb.<region>.amazonaws.com
        // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service,
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html).
        p if p.starts_with("kms:") && type_name == "AWS::DynamoDB::Table" => {
            let via = format!("dynamodb.{}.amazonaws.com", t.region);
            context.with("kms:ViaService", &[&via])
        }
        // A key's own calls carry its tags: KMS authorizes by
        // aws:ResourceTag on the key's operations
        // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-aws.html).
        p if p.starts_with("kms:") && type_name == "AWS::KMS::Key" => {
            with_tags(context, "aws:ResourceTag", t, resource)
        }
        _ => context,
    }
}

/// `prefix/<key>` for each of the resource's `Tags` (a list of Key/Value).
fn with_tags(mut context: Context, prefix: &str, t: &Instance, resource: &Value) -> Context {
    let tags = at(resource, "Properties.Tags").and_then(Value::as_sequence);
    for tag in tags.into_iter().flatten() {
        let key = at(tag, "Key").and_then(|v| t.resolve(v));
        let value = at(tag, "Value").and_then(|v| t.resolve(v));
        if let (Some(key), Some(value)) = (key, value) {
            context = context.with(&format!("{prefix}/{key}"), &[&value]);
        }
    }
    context
}
