//! An identity policy evaluated the way IAM evaluates one: an explicit Deny
//! wins, otherwise an Allow whose Action, Resource and Condition all match.
//! Actions match case-insensitively, resources case-sensitively, both with
//! IAM's `*` and `?` wildcards
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>).
//!
//! Conditions are evaluated against the call's [`Context`], the condition-key
//! values the call carries: a conditional Allow counts only when they satisfy
//! it. A key the context lacks fails a condition, as in IAM, except under
//! `...IfExists`, a negated operator, `ForAllValues:` or `Null: true`
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>).

use std::collections::BTreeMap;

use serde_json::Value as Json;

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub conditions: Vec<Condition>,
}

/// One key of a Condition block: `operator: {key: values}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// The condition-key values one call carries (keys compared
/// case-insensitively, as IAM does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
    /// Conditions are taken as met: for callers that do not model the
    /// request (the emulator's recorded calls), never for the checks.
    assumed: bool,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// A context in which every condition counts as met.
    pub fn assumed() -> Context {
        Context {
            assumed: true,
            ..Context::default()
        }
    }

    pub fn with(mut self, key: &str, values: &[&str]) -> Context {
        self.keys.insert(
            key.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }

    pub fn describe(&self) -> String {
        if self.keys.is_empty() {
            return "no condition keys".into();
        }
        self.keys
            .iter()
            .map(|(k, v)| format!("{k}={}", v.join("|")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The statements of a policy document in JSON (`mraa permissions`).
pub fn json_statements(document: &Json) -> Vec<Statement> {
    let strings = |v: &Json| -> Vec<String> {
        match v {
            Json::String(s) => vec![s.clone()],
            Json::Bool(b) => vec![b.to_string()],
            Json::Array(items) => items
                .iter()
                .filter_map(|i| match i {
                    Json::String(s) => Some(s.clone()),
                    Json::Bool(b) => Some(b.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let list = match &document["Statement"] {
        Json::Array(items) => items.clone(),
        Json::Null => Vec::new(),
        one => vec![one.clone()],
    };
    list.iter()
        .map(|s| {
            let mut conditions = Vec::new();
            if let Json::Object(operators) = &s["Condition"] {
                for (operator, keys) in operators {
                    if let Json::Object(keys) = keys {
                        for (key, values) in keys {
                            conditions.push(Condition {
                                operator: operator.clone(),
                                key: key.clone(),
                                values: strings(values),
                            });
                        }
                    }
                }
            }
            Statement {
                sid: s["Sid"].as_str().unwrap_or("(no Sid)").to_string(),
                allow: s["Effect"] == "Allow",
                actions: strings(&s["Action"]),
                resources: strings(&s["Resource"]),
                conditions,
            }
        })
        .collect()
}

impl Statement {
    pub fn matches(&self, action: &str, resource: &str) -> bool {
        self.names(action) && self.resources.iter().any(|r| wildcard(r, resource))
    }

    /// Whether the statement's Action names `action`.
    pub fn names(&self, action: &str) -> bool {
        self.actions
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
    }

    /// Whether every condition holds for a call carrying `context`.
    pub fn holds(&self, context: &Context) -> bool {
        context.assumed || self.conditions.iter().all(|c| c.holds(context))
    }

    /// The conditions that a call carrying `context` does not meet.
    pub fn unmet(&self, context: &Context) -> Vec<String> {
        self.conditions
            .iter()
            .filter(|c| !context.assumed && !c.holds(context))
            .map(|c| format!("{} {} {}", c.operator, c.key, c.values.join("|")))
            .collect()
    }
}

impl Condition {
    /// IAM's evaluation of one condition key for a call carrying `context`.
    pub fn holds(&self, context: &Context) -> bool {
        // ForAnyValue: is the default reading of a multivalued key here:
        // some value of the call must match.
        let op = self.operator.as_str();
        let op = op.strip_prefix("ForAnyValue:").unwrap_or(op);
        let (op, all_values) = match op.strip_prefix("ForAllValues:") {
            Some(rest) => (rest, true),
            None => (op, false),
        };
        let (op, if_exists) = match op.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (op, false),
        };
        let given = context.get(&self.key);
        if op == "Null" {
            let absent = given.is_none_or(|v| v.is_empty());
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(if absent { "true" } else { "false" }));
        }
        let negated = op.contains("Not");
        let Some(given) = given.filter(|v| !v.is_empty()) else {
            // No value: only IfExists, a negated operator and ForAllValues
            // (vacuously) are satisfied.
            return if_exists || negated || all_values;
        };
        let one = |value: &str| self.values.iter().any(|p| compare(op, p, value));
        let matched = if all_values {
            given.iter().all(|v| one(v))
        } else {
            given.iter().any(|v| one(v))
        };
        if negated { !matched } else { matched }
    }
}

/// Whether `value` from the call matches `pattern` from the policy under
/// the positive form of `op` (negation is applied by the caller).
fn compare(op: &str, pattern: &str, value: &str) -> bool {
    match op.replace("Not", "").as_str() {
        "StringEquals" | "ArnEquals" | "BinaryEquals" => pattern == value,
        "StringEqualsIgnoreCase" => pattern.eq_ignore_ascii_case(value),
        "StringLike" | "ArnLike" => wildcard(pattern, value),
        "Bool" => pattern.eq_ignore_ascii_case(value),
        // Numeric, date and IP operators: no policy mraa writes uses them;
        // unmodelled means unmet, never granted by accident.
        _ => false,
    }
}

/// The Allow statement that grants `action` on `resource` to a call
/// carrying `context`, unless a Deny applies; `Err` names the Deny.
pub fn granting_in<'a>(
    policy: &'a [Statement],
    action: &str,
    resource: &str,
    context: &Context,
) -> Result<Option<&'a Statement>, &'a Statement> {
    if let Some(deny) = policy
        .iter()
        .find(|s| !s.allow && s.matches(action, resource) && s.holds(context))
    {
        return Err(deny);
    }
    Ok(policy
        .iter()
        .find(|s| s.allow && s.matches(action, resource) && s.holds(context)))
}

/// [`granting_in`] for a call whose context is not modelled: conditions
/// count as met. (tests/emulator/permissions.rs derives each recorded
/// request's context and calls [`granting_in`].)
pub fn granting<'a>(
    policy: &'a [Statement],
    action: &str,
    resource: &str,
) -> Result<Option<&'a Statement>, &'a Statement> {
    granting_in(policy, action, resource, &Context::assumed())
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Greedy match with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        // A `*` of the pattern is always a wildcard, also against a `*` of
        // the text (a policy's own wildcard, when checking one pattern
        // against another).
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
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
