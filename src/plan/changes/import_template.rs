//! The template of an import: a unit's rendered template cut down to the
//! resources being imported.
//!
//! "Importing AWS resources into a CloudFormation stack"
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html):
//! an import operation adds only the resources it imports, each with a
//! `DeletionPolicy`, and changes nothing else; "As part of the import
//! operation, you cannot modify or add [Outputs]" (CloudFormation's refusal).
//! So the import's template keeps the unit's parameters and conditions,
//! declares only the imported resources, and has no outputs; a normal update
//! with the whole template then adds the rest. CloudFormation does not compare
//! an imported resource's properties with the resource (the page recommends
//! drift detection afterwards), so a property that names a resource not yet
//! in the stack is left out of the import and set by that update.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

/// Top-level sections an import keeps; `Outputs` is not among them.
const KEPT_SECTIONS: [&str; 6] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Parameters",
    "Mappings",
    "Conditions",
    "Rules",
];

/// `body` with only the resources `imported`; an error names what is
/// missing from the template.
pub fn import_template(body: &str, imported: &[&str]) -> Result<String, String> {
    let template: Value =
        serde_yaml::from_str(body).map_err(|e| format!("the template does not parse: {e}"))?;
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("the template has no Resources")?;
    let all: BTreeSet<String> = resources
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let others: BTreeSet<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|id| !imported.contains(id))
        .collect();
    let mut kept = Mapping::new();
    for id in imported {
        let definition = resources
            .get(*id)
            .and_then(Value::as_mapping)
            .ok_or_else(|| format!("the template declares no resource {id}"))?;
        let mut resource = Mapping::new();
        for (key, value) in definition {
            match key.as_str() {
                // Ordering against resources that are not there yet.
                Some("DependsOn") => {}
                Some("Properties") => {
                    let properties = value.as_mapping().cloned().unwrap_or_default();
                    let properties: Mapping = properties
                        .into_iter()
                        .filter(|(_, v)| !names_any(v, &others))
                        .collect();
                    resource.insert(key.clone(), Value::Mapping(properties));
                }
                _ => {
                    resource.insert(key.clone(), value.clone());
                }
            }
        }
        if !resource.contains_key("DeletionPolicy") {
            return Err(format!("{id} has no DeletionPolicy, which an import needs"));
        }
        kept.insert(Value::from(*id), Value::Mapping(resource));
    }
    let mut out = Mapping::new();
    for section in KEPT_SECTIONS {
        if let Some(value) = template.get(section) {
            out.insert(Value::from(section), value.clone());
        }
    }
    out.insert(Value::from("Resources"), Value::Mapping(kept));
    serde_yaml::to_string(&Value::Mapping(out)).map_err(|e| e.to_string())
}

/// Whether `value` refers to one of `ids`: `!Ref`, `!GetAtt`, `${Id}` or
/// `${Id.Attr}` in a `!Sub`, in short or long form.
fn names_any(value: &Value, ids: &BTreeSet<&str>) -> bool {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            refers(tag, &tagged.value, ids) || names_any(&tagged.value, ids)
        }
        Value::Mapping(map) => map
            .iter()
            .any(|(k, v)| k.as_str().is_some_and(|k| refers(k, v, ids)) || names_any(v, ids)),
        Value::Sequence(items) => items.iter().any(|v| names_any(v, ids)),
        _ => false,
    }
}

/// Whether the intrinsic function `function` with `argument` names one of
/// `ids`.
fn refers(function: &str, argument: &Value, ids: &BTreeSet<&str>) -> bool {
    let head = |s: &str| s.split('.').next().unwrap_or(s).to_string();
    match function {
        "Ref" => argument.as_str().is_some_and(|s| ids.contains(s)),
        "GetAtt" | "Fn::GetAtt" => match argument {
            Value::String(s) => ids.contains(head(s).as_str()),
            Value::Sequence(parts) => parts
                .first()
                .and_then(Value::as_str)
                .is_some_and(|s| ids.contains(s)),
            _ => false,
        },
        "Sub" | "Fn::Sub" => {
            let text = match argument {
                Value::String(s) => Some(s.as_str()),
                Value::Sequence(parts) => parts.first().and_then(Value::as_str),
                _ => None,
            };
            text.is_some_and(|text| {
                text.split("${").skip(1).any(|rest| {
                    let name = rest.split('}').next().unwrap_or_default();
                    ids.contains(head(name).as_str())
                })
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  AppName:
    Type: String
Conditions:
  IsPrimary: !Equals [!Ref 'AWS::Region', us-east-1]
Resources:
  Logs:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: !Sub 'mraa-${AppName}-logs'
  LogsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Logs
  Objects:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    DependsOn: LogsPolicy
    Condition: IsPrimary
    Properties:
      BucketName: !Sub 'mraa-${AppName}-objects'
      LoggingConfiguration:
        DestinationBucketName: !Ref Logs
      NotificationConfiguration:
        LambdaConfigurations:
          - Function: !GetAtt Fn.Arn
  Fn:
    Type: AWS::Lambda::Function
    Properties: {}
Outputs:
  Name:
    Value: !Ref Objects
";

    #[test]
    fn an_import_declares_only_what_it_imports_and_no_outputs() {
        let out = import_template(BODY, &["Logs", "Objects"]).expect("import template");
        let parsed: Value = serde_yaml::from_str(&out).expect("parses");
        let resources = parsed["Resources"].as_mapping().expect("resources");
        assert_eq!(resources.len(), 2, "{out}");
        assert!(parsed.get("Outputs").is_none(), "{out}");
        assert!(parsed.get("Conditions").is_some(), "{out}");
        let objects = &parsed["Resources"]["Objects"];
        assert!(objects.get("DependsOn").is_none(), "{out}");
        assert_eq!(objects["Condition"], Value::from("IsPrimary"));
        // Names a resource that is not imported: left to the update.
        assert!(
            objects["Properties"]
                .get("NotificationConfiguration")
                .is_none(),
            "{out}"
        );
        // Names an imported one: kept, in short form.
        assert!(
            out.contains("!Ref Logs") || out.contains("!Ref 'Logs'"),
            "{out}"
        );
        assert!(out.contains("!Sub"), "{out}");
    }

    #[test]
    fn a_resource_without_a_deletion_policy_cannot_be_imported() {
        let err = import_template(BODY, &["Fn"]).expect_err("refused");
        assert!(err.contains("DeletionPolicy"), "{err}");
        let err = import_template(BODY, &["Nope"]).expect_err("refused");
        assert!(err.contains("Nope"), "{err}");
    }
}
