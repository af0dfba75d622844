//! Security review of every rendered template, automated.
//!
//! - **checkov** (pinned in the test requirements, run with `--skip-download`,
//!   so no network) over the templates exactly as `mraa render` writes them:
//!   zero failed checks. A finding that stays is skipped in the template
//!   itself (`Metadata: checkov: skip: [{id, comment}]` on the resource), never
//!   in a checkov configuration file or on the command line.
//! - **every skip has a reason, and is needed**: each skip in
//!   `templates/*.yaml` names a check and carries a written comment; checkov
//!   applied it to that resource; and checkov run again with every skip
//!   removed fails exactly the skipped checks (no stale skip, no typo).
//! - **checkov's secrets scan** finds no key or high-entropy secret.
//! - **what checkov cannot see**: API Gateway access logs are configured on the
//!   deployments' stages (checkov only reads `AWS::ApiGateway::Stage`), and
//!   Cognito threat protection is an explicit, documented choice.
//! - **no secret in a template**: no output, parameter default or Lambda
//!   environment variable holds an access key, a password, a secret or a
//!   token, and nothing rendered looks like an AWS access key or private key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mraa::plan::{Plan, Unit};
use mraa::render::{Rendered, render_all};
use serde_json::Value as Json;
use serde_yaml::Value;

use crate::support::repo_root;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

fn rendered() -> Vec<Rendered> {
    // With a custom domain: every unit there is.
    let plan = Plan::new("review", PRIMARY, SECONDARY)
        .with_domain("app.example.test", "Z0123456789ABCDEFGHIJ")
        .with_notify(&mraa::plan::notify::Notify::Emails(vec![
            "ops@example.test".into(),
        ]));
    let rendered = render_all(&plan).expect("every template renders");
    assert_eq!(rendered.len(), Unit::ALL.len(), "every unit");
    rendered
}

// ===========================================================================
// checkov
// ===========================================================================

/// The checkov version the test requirements pin (`checkov==X.Y.Z`).
fn pinned_checkov() -> String {
    let dir = repo_root().join("tests");
    for file in ["requirements.txt", "requirements-checkov.txt"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        if let Some(version) = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("checkov=="))
        {
            return version.trim().to_string();
        }
    }
    panic!("no `checkov==<version>` pin in tests/requirements*.txt");
}

/// checkov's report on the rendered templates (skips applied), once per run.
fn report() -> &'static Json {
    static REPORT: OnceLock<Json> = OnceLock::new();
    REPORT.get_or_init(|| run_checkov("cloudformation", |body| body.to_string()))
}

/// checkov's report on the rendered templates with every skip removed: what
/// the review found before any finding was explained away.
fn unskipped_report() -> &'static Json {
    static REPORT: OnceLock<Json> = OnceLock::new();
    REPORT.get_or_init(|| run_checkov("cloudformation", without_checkov_skips))
}

/// checkov's secrets scan (AWS keys, private keys, high-entropy strings…).
fn secrets_report() -> &'static Json {
    static REPORT: OnceLock<Json> = OnceLock::new();
    REPORT.get_or_init(|| run_checkov("secrets", |body| body.to_string()))
}

/// Runs checkov with one framework over the rendered templates, each passed
/// through `edit` first, and returns its JSON report.
fn run_checkov(framework: &str, edit: impl Fn(&str) -> String) -> Json {
    let checkov = repo_root().join(".venv/bin/checkov");
    assert!(
        checkov.exists(),
        "checkov is missing ({}): run `make venv` (or `make test`) first",
        checkov.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for template in rendered() {
        std::fs::write(dir.path().join(&template.file), edit(&template.body))
            .expect("write rendered template");
    }
    // Not `--quiet`: the report must list the skipped checks too. Run from the
    // temp dir, so that no checkov configuration file in the repository can
    // skip a check behind the templates' back.
    let output = Command::new(&checkov)
        .current_dir(dir.path())
        .arg("-d")
        .arg(dir.path())
        .args(["--framework", framework, "--skip-download"])
        .args(["--output", "json"])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}: run `make venv`", checkov.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}; exit {:?}):\nstdout:\n{stdout}\nstderr:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // A report is {check_type, results, summary}; with nothing to report at
    // all, checkov prints the bare summary.
    match report {
        Json::Object(ref fields) if fields.contains_key("results") => {
            assert_eq!(
                report["check_type"], framework,
                "unexpected report: {report:#}"
            );
            report
        }
        Json::Object(ref fields) if fields.contains_key("failed") => {
            serde_json::json!({"check_type": framework, "results": {}, "summary": report})
        }
        other => panic!("unexpected checkov report: {other:#}"),
    }
}

/// The template without its `Metadata: checkov:` blocks.
fn without_checkov_skips(body: &str) -> String {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut out = String::with_capacity(body.len());
    let mut lines = body.lines().peekable();
    while let Some(line) = lines.next() {
        let is_skip_block = line.trim_end() == "    Metadata:"
            && lines.peek().is_some_and(|next| next.trim() == "checkov:");
        if is_skip_block {
            while lines
                .peek()
                .is_some_and(|next| next.trim().is_empty() || indent(next) > 4)
            {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(!out.contains("checkov:"), "a skip block was not removed");
    out
}

fn checks<'a>(report: &'a Json, kind: &str) -> &'a [Json] {
    report["results"][kind]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or("?")
}

#[test]
fn checkov_is_the_pinned_version_and_reads_every_template() {
    let summary = &report()["summary"];
    assert_eq!(
        text(&summary["checkov_version"]),
        pinned_checkov(),
        "the installed checkov is not the pinned one: run `make venv`"
    );
    assert_eq!(
        summary["parsing_errors"], 0,
        "checkov could not parse: {summary}"
    );
    let files: BTreeSet<&str> = checks(report(), "passed_checks")
        .iter()
        .map(|c| text(&c["file_path"]).trim_start_matches('/'))
        .collect();
    // checkov 3.3.30 has no CloudFormation check of a bucket policy on its own (it counts no
    // resource in such a template): website-policy.yaml's rules are checked in
    // templates.rs (TLS only, the distribution alone).
    let expected: BTreeSet<String> = rendered()
        .into_iter()
        .map(|t| t.file)
        .filter(|file| file != "website-policy.yaml")
        .collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(files, expected, "templates checkov evaluated");
    let resources = summary["resource_count"].as_u64().unwrap_or(0);
    assert!(
        resources >= 60,
        "checkov saw only {resources} resources: {summary}"
    );
}

#[test]
fn checkov_finds_nothing_left_unexplained() {
    let failed: Vec<String> = checks(report(), "failed_checks")
        .iter()
        .map(|c| {
            format!(
                "{} {} ({}) in {} lines {}: fix it, or skip it on the resource with a reason",
                text(&c["check_id"]),
                text(&c["resource"]),
                text(&c["check_name"]),
                text(&c["file_path"]),
                c["file_line_range"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "checkov failed {} checks:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert_eq!(report()["summary"]["failed"], 0);
}

// ===========================================================================
// Skips in the templates
// ===========================================================================

/// One `Metadata.checkov.skip` entry of a template resource.
#[derive(Debug)]
struct Skip {
    file: String,
    resource: String,
    resource_type: String,
    id: String,
    comment: String,
}

fn source_templates() -> Vec<(String, Value)> {
    let dir = repo_root().join("templates");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("templates/ exists")
        .map(|entry| entry.expect("read templates/").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        Unit::ALL.len(),
        "one template per unit in {}",
        dir.display()
    );
    files
        .iter()
        .map(|path| (file_name(path), parse(path)))
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned()
}

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read template");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping()?.get(key)
}

/// Every skip declared in templates/*.yaml; panics on a malformed one.
fn declared_skips() -> Vec<Skip> {
    let mut skips = Vec::new();
    for (file, doc) in source_templates() {
        let resources = get(&doc, "Resources")
            .and_then(Value::as_mapping)
            .unwrap_or_else(|| panic!("{file}: no Resources"));
        for (name, resource) in resources {
            let name = name.as_str().expect("resource names are strings");
            let at = format!("{file}: {name}");
            let Some(checkov) = get(resource, "Metadata").and_then(|m| get(m, "checkov")) else {
                continue;
            };
            let entries = get(checkov, "skip")
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| panic!("{at}: Metadata.checkov has no skip list"));
            assert!(!entries.is_empty(), "{at}: empty skip list");
            for entry in entries {
                let id = get(entry, "id").and_then(Value::as_str).unwrap_or_default();
                assert!(
                    is_check_id(id),
                    "{at}: skip without a checkov check id: {entry:?}"
                );
                let comment = get(entry, "comment")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or_default();
                assert!(
                    comment.split_whitespace().count() >= 5,
                    "{at}: skip of {id} needs a written reason (a comment of at least a sentence), got {comment:?}"
                );
                skips.push(Skip {
                    file: file.clone(),
                    resource: name.to_string(),
                    resource_type: get(resource, "Type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    id: id.to_string(),
                    comment: comment.to_string(),
                });
            }
        }
    }
    skips
}

/// `CKV_AWS_18`, `CKV2_AWS_5`, …
fn is_check_id(id: &str) -> bool {
    let mut parts = id.split('_');
    matches!(parts.next(), Some("CKV" | "CKV2"))
        && parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase()))
        && parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts.next().is_none()
}

#[test]
fn every_skip_names_a_check_and_gives_a_reason() {
    let skips = declared_skips();
    assert!(!skips.is_empty(), "no skips found: is the walk broken?");
    let mut seen = BTreeSet::new();
    for skip in &skips {
        assert!(
            seen.insert((&skip.file, &skip.resource, &skip.id)),
            "{}: {} skips {} twice",
            skip.file,
            skip.resource,
            skip.id
        );
    }
}

#[test]
fn every_skip_is_one_checkov_applied() {
    let applied: BTreeSet<(String, String, String)> = checks(report(), "skipped_checks")
        .iter()
        .map(|c| {
            (
                text(&c["file_path"]).trim_start_matches('/').to_string(),
                text(&c["resource"]).to_string(),
                text(&c["check_id"]).to_string(),
            )
        })
        .collect();
    let skips = declared_skips();
    for skip in &skips {
        let key = (
            skip.file.clone(),
            format!("{}.{}", skip.resource_type, skip.resource),
            skip.id.clone(),
        );
        assert!(
            applied.contains(&key),
            "{}: {} skips {}, but checkov did not skip that check there (mistyped id, or a \
             check of another resource type?); reason given: {}",
            skip.file,
            skip.resource,
            skip.id,
            skip.comment
        );
    }
    assert_eq!(
        applied.len(),
        skips.len(),
        "checkov skipped checks the templates do not declare: {applied:?}"
    );
}

#[test]
fn every_skip_explains_a_finding_and_every_finding_has_a_skip() {
    let found: BTreeSet<(String, String, String)> = checks(unskipped_report(), "failed_checks")
        .iter()
        .map(|c| {
            (
                text(&c["file_path"]).trim_start_matches('/').to_string(),
                text(&c["resource"]).to_string(),
                text(&c["check_id"]).to_string(),
            )
        })
        .collect();
    let declared: BTreeSet<(String, String, String)> = declared_skips()
        .into_iter()
        .map(|s| (s.file, format!("{}.{}", s.resource_type, s.resource), s.id))
        .collect();
    let stale: Vec<_> = declared.difference(&found).collect();
    assert!(
        stale.is_empty(),
        "skips of checks that pass without them (remove the skip): {stale:?}"
    );
    let unexplained: Vec<_> = found.difference(&declared).collect();
    assert!(
        unexplained.is_empty(),
        "findings without a skip in the template: {unexplained:?}"
    );
}

#[test]
fn checkov_secrets_scan_finds_nothing() {
    let failed: Vec<String> = checks(secrets_report(), "failed_checks")
        .iter()
        .map(|c| {
            format!(
                "{} ({}) in {} lines {}",
                text(&c["check_id"]),
                text(&c["check_name"]),
                text(&c["file_path"]),
                c["file_line_range"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "checkov's secrets scan found:\n{}",
        failed.join("\n")
    );
    assert_eq!(secrets_report()["summary"]["failed"], 0);
}

// ===========================================================================
// What checkov cannot see
// ===========================================================================

#[test]
fn every_api_stage_writes_access_logs() {
    let mut stages = 0;
    for (file, doc) in source_templates() {
        let resources = get(&doc, "Resources").and_then(Value::as_mapping).unwrap();
        for (name, resource) in resources {
            let settings = match get(resource, "Type").and_then(Value::as_str) {
                Some("AWS::ApiGateway::Deployment") => get(resource, "Properties")
                    .and_then(|p| get(p, "StageDescription"))
                    .and_then(|s| get(s, "AccessLogSetting")),
                Some("AWS::ApiGateway::Stage") => {
                    get(resource, "Properties").and_then(|p| get(p, "AccessLogSetting"))
                }
                _ => continue,
            };
            stages += 1;
            let at = format!("{file}: {name:?}");
            let settings = settings.unwrap_or_else(|| panic!("{at}: no AccessLogSetting"));
            assert!(
                get(settings, "DestinationArn").is_some(),
                "{at}: access logs go nowhere"
            );
            let format = get(settings, "Format")
                .and_then(Value::as_str)
                .unwrap_or("");
            for field in [
                "$context.requestId",
                "$context.identity.sourceIp",
                "$context.status",
            ] {
                assert!(format.contains(field), "{at}: access log lacks {field}");
            }
        }
    }
    assert_eq!(stages, 2, "the state API and the application API");
}

#[test]
fn cognito_threat_protection_is_an_explicit_choice() {
    let (_, frontend) = source_templates()
        .into_iter()
        .find(|(file, _)| file == "frontend.yaml")
        .expect("frontend.yaml");
    let parameter = get(&frontend, "Parameters")
        .and_then(|p| get(p, "ThreatProtection"))
        .expect("frontend.yaml: ThreatProtection parameter");
    let allowed: Vec<&str> = get(parameter, "AllowedValues")
        .and_then(Value::as_sequence)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(allowed, ["OFF", "AUDIT", "ENFORCED"]);
    let pool = get(&frontend, "Resources")
        .and_then(|r| get(r, "UserPool"))
        .and_then(|p| get(p, "Properties"))
        .expect("frontend.yaml: UserPool");
    let shown = format!("{:?}", get(pool, "UserPoolAddOns"));
    assert!(
        shown.contains("AdvancedSecurityMode") && shown.contains("ThreatProtection"),
        "UserPoolAddOns must follow ThreatProtection: {shown}"
    );
    let tier = format!("{:?}", get(pool, "UserPoolTier"));
    assert!(
        tier.contains("PLUS") && tier.contains("ESSENTIALS"),
        "the Plus plan only with threat protection: {tier}"
    );
}

// ===========================================================================
// No secret in a template
// ===========================================================================

/// Words that name a secret; none belongs in an output, a parameter default or
/// a Lambda environment variable of these templates.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "private key",
    "privatekey",
    "credential",
    "apikey",
    "api_key",
];

/// An AWS access key id, long-term or temporary: what `(AKIA|ASIA)[0-9A-Z]{16}`
/// matches.
fn has_access_key_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|i| {
        ["AKIA", "ASIA"]
            .iter()
            .any(|prefix| bytes[i..].starts_with(prefix.as_bytes()))
            && bytes.len() >= i + 20
            && bytes[i + 4..i + 20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// The reason `text` looks like a secret, if it does.
fn secret_in(text: &str) -> Option<String> {
    if has_access_key_id(text) {
        return Some("an AWS access key id".into());
    }
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY") {
        return Some("a private key".into());
    }
    let lower = text.to_lowercase();
    SECRET_WORDS
        .iter()
        .find(|word| lower.contains(*word))
        .map(|word| format!("the word {word:?}"))
}

/// Every string in `value`, tags (`!Sub`, `!Ref`) included.
fn strings(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_strings(value, &mut out);
    out
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => map.iter().for_each(|(k, v)| {
            collect_strings(k, out);
            collect_strings(v, out);
        }),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        Value::Bool(_) | Value::Null => {}
    }
}

#[test]
fn the_secret_detector_detects() {
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "key=ASIAY34FZKBOKMUTVV7A;",
        "DbPassword",
        "client_secret",
        "-----BEGIN RSA PRIVATE KEY-----",
        "x-api-key: ApiKey",
    ] {
        assert!(secret_in(secret).is_some(), "missed {secret:?}");
    }
    for harmless in [
        "mraa-demo-objects-123456789012-us-east-1",
        "AKIA-not-a-key",
        "https://${StateApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod/state/",
        "UserPoolClientId",
    ] {
        assert_eq!(secret_in(harmless), None, "{harmless:?}");
    }
}

#[test]
fn no_output_parameter_default_or_function_environment_holds_a_secret() {
    let mut looked_at = 0;
    for template in rendered() {
        let file = &template.file;
        let doc: Value = serde_yaml::from_str(&template.body)
            .unwrap_or_else(|e| panic!("{file}: rendered template does not parse: {e}"));

        let outputs = get(&doc, "Outputs").and_then(Value::as_mapping);
        for (name, output) in outputs.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            looked_at += 1;
            if let Some(why) = secret_in(name) {
                panic!("{file}: output {name} is named like a secret ({why})");
            }
            for s in get(output, "Value").map(strings).unwrap_or_default() {
                if let Some(why) = secret_in(&s) {
                    panic!("{file}: output {name} holds {why}: {s:?}");
                }
            }
        }

        let parameters = get(&doc, "Parameters").and_then(Value::as_mapping);
        for (name, parameter) in parameters.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            let no_echo = matches!(get(parameter, "NoEcho"), Some(Value::Bool(true)))
                || get(parameter, "NoEcho").and_then(Value::as_str) == Some("true");
            if let Some(why) = secret_in(name) {
                assert!(
                    no_echo && get(parameter, "Default").is_none(),
                    "{file}: parameter {name} is named like a secret ({why}): it needs \
                     NoEcho: true and no Default"
                );
            }
            if let Some(default) = get(parameter, "Default") {
                looked_at += 1;
                for s in strings(default) {
                    if let Some(why) = secret_in(&s) {
                        panic!("{file}: parameter {name} defaults to {why}: {s:?}");
                    }
                }
            }
        }

        let resources = get(&doc, "Resources").and_then(Value::as_mapping);
        for (name, resource) in resources.into_iter().flatten() {
            let variables = get(resource, "Properties")
                .and_then(|p| get(p, "Environment"))
                .and_then(|e| get(e, "Variables"))
                .and_then(Value::as_mapping);
            for (key, value) in variables.into_iter().flatten() {
                looked_at += 1;
                let key = key.as_str().unwrap_or_default();
                let at = format!("{file}: {name:?} environment {key}");
                if let Some(why) = secret_in(key) {
                    panic!("{at} is named like a secret ({why})");
                }
                for s in strings(value) {
                    if let Some(why) = secret_in(&s) {
                        panic!("{at} holds {why}: {s:?}");
                    }
                }
            }
        }
    }
    assert!(
        looked_at > 30,
        "only {looked_at} outputs, defaults and variables: is the walk broken?"
    );
}

#[test]
fn nothing_rendered_looks_like_a_key() {
    for template in rendered() {
        for (number, line) in template.body.lines().enumerate() {
            assert!(
                !has_access_key_id(line),
                "{} line {}: an AWS access key id: {line}",
                template.file,
                number + 1
            );
            assert!(
                !(line.contains("-----BEGIN") && line.contains("PRIVATE KEY")),
                "{} line {}: a private key",
                template.file,
                number + 1
            );
        }
    }
}
