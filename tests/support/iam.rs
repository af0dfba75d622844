//! An identity policy evaluated the way IAM evaluates one: an explicit Deny
//! wins, otherwise an Allow whose Action and Resource both match. Actions
//! match case-insensitively, resources case-sensitively, both with IAM's `*`
//! and `?` wildcards
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>).
//! Conditions are not evaluated: a conditional Allow counts as an Allow.

use serde_json::Value as Json;

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// The statements of a policy document in JSON (`mraa permissions`).
pub fn json_statements(document: &Json) -> Vec<Statement> {
    let strings = |v: &Json| -> Vec<String> {
        match v {
            Json::String(s) => vec![s.clone()],
            Json::Array(items) => items
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
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
        .map(|s| Statement {
            sid: s["Sid"].as_str().unwrap_or("(no Sid)").to_string(),
            allow: s["Effect"] == "Allow",
            actions: strings(&s["Action"]),
            resources: strings(&s["Resource"]),
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
