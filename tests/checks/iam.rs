//! The statements of the roles the templates create, read for the evaluator
//! in `tests/support/iam.rs`.

use serde_yaml::Value;

use crate::cfn::{Instance, at, field, seq, str_of};

pub use crate::support::iam::*;

/// The statements of a role's inline policies, resolved in `t`'s region.
pub fn role_statements(t: &Instance, role_id: &str) -> Vec<Statement> {
    let role = t
        .resource(role_id)
        .unwrap_or_else(|| panic!("{}: no role {role_id}", t.file()));
    let policies = at(role, "Properties.Policies")
        .and_then(seq)
        .cloned()
        .unwrap_or_default();
    policies
        .iter()
        .filter_map(|p| field(p, "PolicyDocument"))
        .flat_map(|doc| statements(t, doc))
        .collect()
}

/// The statements of one policy document.
pub fn statements(t: &Instance, document: &Value) -> Vec<Statement> {
    let Some(decided) = t.decide(document) else {
        return Vec::new();
    };
    let list = match field(&decided, "Statement") {
        Some(Value::Sequence(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    list.iter()
        .map(|s| Statement {
            sid: field(s, "Sid")
                .and_then(str_of)
                .unwrap_or("(no Sid)")
                .to_string(),
            allow: field(s, "Effect").and_then(str_of) == Some("Allow"),
            actions: t.resolve_all(field(s, "Action")),
            resources: t.resolve_all(field(s, "Resource")),
            conditions: conditions(t, field(s, "Condition")),
        })
        .collect()
}

/// A statement's Condition block, resolved in `t`'s region.
pub fn conditions(t: &Instance, block: Option<&Value>) -> Vec<Condition> {
    let Some(Value::Mapping(operators)) = block.and_then(|b| t.decide(b)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, keys) in &operators {
        let (Some(operator), Value::Mapping(keys)) = (str_of(operator), keys) else {
            continue;
        };
        for (key, values) in keys {
            if let Some(key) = str_of(key) {
                out.push(Condition {
                    operator: operator.to_string(),
                    key: key.to_string(),
                    values: t.resolve_all(Some(values)),
                });
            }
        }
    }
    out
}

#[test]
fn wildcards_match_as_iam_matches_them() {
    assert!(wildcard("logs:*", "logs:createloggroup"));
    assert!(wildcard(
        "s3:get*configuration",
        "s3:getlifecycleconfiguration"
    ));
    assert!(wildcard(
        "arn:aws:s3:::mraa-demo-*",
        "arn:aws:s3:::mraa-demo-objects"
    ));
    assert!(wildcard(
        "arn:aws:iam::1234567890?2:role/*",
        "arn:aws:iam::123456789012:role/x"
    ));
    assert!(!wildcard(
        "arn:aws:s3:::mraa-demo-*",
        "arn:aws:s3:::mraa-other"
    ));
    assert!(!wildcard("arn:aws:logs:*:1:log-group:*", "*"));
    assert!(wildcard("*", "*"));
    assert!(!wildcard("a?c", "ac"));
}

#[test]
fn a_conditional_allow_counts_only_when_the_call_meets_its_condition() {
    // The execution role's grant for DynamoDB's replication role, asked for
    // by a handler that creates another service's role.
    let policy = json_statements(&serde_json::json!({"Statement": [{
        "Sid": "TableReplicationRole", "Effect": "Allow",
        "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
        "Condition": {"StringEquals": {"iam:AWSServiceName": "replication.dynamodb.amazonaws.com"}}
    }]}));
    let dynamodb = Context::new().with(
        "iam:AWSServiceName",
        &["replication.dynamodb.amazonaws.com"],
    );
    let cognito = Context::new().with("iam:AWSServiceName", &["cognito-idp.amazonaws.com"]);
    let action = "iam:CreateServiceLinkedRole";
    assert!(matches!(
        granting_in(&policy, action, "x", &dynamodb),
        Ok(Some(_))
    ));
    assert!(matches!(
        granting_in(&policy, action, "x", &cognito),
        Ok(None)
    ));
    assert!(matches!(
        granting_in(&policy, action, "x", &Context::new()),
        Ok(None)
    ));
    // Only where the request is not modelled do conditions count as met.
    assert!(matches!(granting(&policy, action, "x"), Ok(Some(_))));
}

#[test]
fn condition_operators_evaluate_as_iam_evaluates_them() {
    let c = |operator: &str, key: &str, values: &[&str]| Condition {
        operator: operator.into(),
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let ctx = Context::new()
        .with("kms:ViaService", &["dynamodb.eu-west-1.amazonaws.com"])
        .with("kms:MultiRegion", &["true"]);
    assert!(
        c(
            "StringLike",
            "kms:viaservice",
            &["dynamodb.*.amazonaws.com"]
        )
        .holds(&ctx)
    );
    assert!(
        !c(
            "StringEquals",
            "kms:ViaService",
            &["s3.eu-west-1.amazonaws.com"]
        )
        .holds(&ctx)
    );
    assert!(
        c(
            "StringNotEquals",
            "kms:ViaService",
            &["s3.eu-west-1.amazonaws.com"]
        )
        .holds(&ctx)
    );
    assert!(c("Bool", "kms:MultiRegion", &["true"]).holds(&ctx));
    // A key the call does not carry.
    assert!(!c("StringEquals", "aws:SourceAccount", &["123456789012"]).holds(&ctx));
    assert!(c("StringEqualsIfExists", "aws:SourceAccount", &["1"]).holds(&ctx));
    assert!(c("Null", "aws:SourceAccount", &["true"]).holds(&ctx));
    assert!(!c("Null", "kms:MultiRegion", &["true"]).holds(&ctx));
    assert!(c("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).holds(&ctx));
    assert!(!c("NumericLessThan", "kms:MultiRegion", &["2"]).holds(&ctx));
}
