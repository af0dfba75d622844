//! AWS's machine-readable data, as the pinned cfn-lint ships it in the
//! project's virtual environment:
//!
//! - the CloudFormation registry schemas of each region
//!   (`cfnlint/data/schemas/providers/<region>.json` names each type's schema
//!   file in `cfnlint/data/schemas/resources/`), whose `handlers` block lists
//!   the IAM permissions each create/read/update/delete handler calls;
//! - IAM's list of actions per service, with the resource types each action
//!   can be scoped to (`cfnlint/data/AdditionalSpecs/Policies.json`, from the
//!   Service Authorization Reference).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;

/// The handlers whose permissions CloudFormation needs to deploy, update and
/// delete a stack (`list` serves only resource discovery).
pub const HANDLERS: [&str; 4] = ["create", "read", "update", "delete"];

/// `cfnlint/data` in the project's virtual environment. A missing venv is a
/// failure with the way out, never a silent skip.
pub fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
        let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("site-packages/cfnlint/data"))
                .find(|p| p.join("AdditionalSpecs/Policies.json").is_file())
        });
        found.unwrap_or_else(|| {
            panic!(
                "AWS's registry schemas come with cfn-lint in {}/python3*/site-packages/cfnlint/data, \
                 which is missing: run `make venv` first",
                lib.display()
            )
        })
    })
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The permissions of one handler of `type_name` as published for `region`.
pub fn handler_permissions(region: &str, type_name: &str, handler: &str) -> Vec<String> {
    static PROVIDERS: OnceLock<std::sync::Mutex<BTreeMap<String, Json>>> = OnceLock::new();
    let providers = PROVIDERS.get_or_init(Default::default);
    let schema_file = {
        let mut cache = providers.lock().unwrap_or_else(|e| e.into_inner());
        let index = cache.entry(region.to_string()).or_insert_with(|| {
            read_json(&data_dir().join(format!("schemas/providers/{region}.json")))
        });
        index
            .get(type_name)
            .and_then(Json::as_str)
            .unwrap_or_else(|| panic!("AWS publishes no schema of {type_name} for {region}"))
            .to_string()
    };
    let schema = read_json(&data_dir().join(format!("schemas/resources/{schema_file}.json")));
    schema["handlers"][handler]["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

fn policies() -> &'static Json {
    static POLICIES: OnceLock<Json> = OnceLock::new();
    POLICIES.get_or_init(|| read_json(&data_dir().join("AdditionalSpecs/Policies.json")))
}

/// What IAM knows of an action.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Not an IAM action: nothing can grant it (a schema's typo or an internal
    /// name such as `s3:REST.PUT.OBJECT`).
    Unknown,
    /// The action cannot be scoped: only `Resource: "*"` grants it.
    Unscoped,
    /// The action is scoped to these resource types of its service.
    Scoped(Vec<String>),
}

/// `service:Action`, with IAM's case-insensitive names.
pub fn action(permission: &str) -> Action {
    let Some((service, name)) = permission.split_once(':') else {
        return Action::Unknown;
    };
    let Some(entry) = policies()
        .get(service.to_ascii_lowercase())
        .and_then(|s| s["Actions"].get(name.to_ascii_lowercase()))
    else {
        return Action::Unknown;
    };
    match entry.get("Resources").and_then(Json::as_array) {
        Some(types) if !types.is_empty() => Action::Scoped(
            types
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => Action::Unscoped,
    }
}

/// The ARN formats of `service`'s resource `type` (case-insensitive), with
/// IAM's `*` for each placeholder and regular-expression run.
pub fn arn_formats(service: &str, type_name: &str) -> Vec<String> {
    let resources = &policies()[service.to_ascii_lowercase()]["Resources"];
    let Some(map) = resources.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(type_name))
        .flat_map(|(_, spec)| spec["ARNFormats"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(as_wildcard))
        .collect()
}

fn as_wildcard(format: &str) -> String {
    let mut out = String::new();
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            let end = after.find('}').map_or(after.len(), |i| i + 1);
            out.push('*');
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix(".*") {
            out.push('*');
            rest = after;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Native user replication is offered exactly where AWS publishes both of its
/// CloudFormation types (the registry schemas of each region).
#[test]
fn native_user_replication_regions_are_where_aws_publishes_its_types() {
    let providers = data_dir().join("schemas/providers");
    let mut offered: Vec<String> = std::fs::read_dir(&providers)
        .unwrap_or_else(|e| panic!("{}: {e}", providers.display()))
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            let region = name.strip_suffix(".json")?.to_string();
            let index = read_json(&entry.path());
            [
                "AWS::Cognito::UserPoolReplica",
                "AWS::Cognito::UserPoolRegionalConfigurationAttachment",
                "AWS::KMS::ReplicaKey",
            ]
            .iter()
            .all(|t| index.get(*t).is_some())
            .then_some(region)
        })
        .collect();
    offered.sort();
    assert_eq!(offered, mraa::plan::users::NATIVE_REGIONS.map(String::from));
}
