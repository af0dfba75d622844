//! An identity policy evaluated the way IAM evaluates one: an explicit Deny
//! wins, otherwise an Allow whose Action and Resource both match. Actions
//! match case-insensitively, resources case-sensitively, both with IAM's `*`
//! and `?` wildcards
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>).
//! Conditions are not evaluated: a conditional Allow counts as an Allow.

use serde_yaml::Value;

use crate::cfn::{Instance, at, field, seq, str_of};

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

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

impl Statement {
    pub fn matches(&self, action: &str, resource: &str) -> bool {
        self.actions
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && self.resources.iter().any(|r| wildcard(r, resource))
    }
}

/// The Allow statement that grants `action` on `resource`, unless a Deny
/// matches; `Err` names the Deny.
pub fn granting<'a>(
    policy: &'a [Statement],
    action: &str,
    resource: &str,
) -> Result<Option<&'a Statement>, &'a Statement> {
    if let Some(deny) = policy
        .iter()
        .find(|s| !s.allow && s.matches(action, resource))
    {
        return Err(deny);
    }
    Ok(policy
        .iter()
        .find(|s| s.allow && s.matches(action, resource)))
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Greedy match with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
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
