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
        })
        .collect()
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
