//! Rendered templates as CloudFormation would see them in one region: the
//! plan's parameters, the template's conditions evaluated, and names, `!Ref`s
//! and ARNs resolved to the strings AWS would use. What CloudFormation
//! generates (API ids, user pool ids, certificate ids) gets a fixed stand-in of
//! the same shape, so that an ARN pattern is checked against a real-looking ARN.

use std::collections::BTreeMap;

use mraa::plan::{Kind, ParamSource, Plan, PlannedUnit, RegionRole, Unit};
use mraa::render::render_unit;
use serde_yaml::{Mapping, Value};

pub use crate::support::template::{at, field, intrinsic, seq, string as str_of};

pub const ACCOUNT: &str = "123456789012";
pub const PARTITION: &str = "aws";
/// A multi-Region key's id (its replicas share it).
const USERS_KEY_ID: &str = "mrk-1234abcd12ab34cd56ef1234567890ab";

/// The deployments every check runs on: a plain one, one with a custom domain
/// (every unit there is), and one whose secondary is disabled by default.
pub fn scenarios() -> Vec<(String, Plan)> {
    let plain = |p: &str, s: &str| Plan::new("demo", p, s);
    vec![
        (
            "us-east-1/ap-northeast-1".into(),
            plain("us-east-1", "ap-northeast-1"),
        ),
        (
            "us-east-1/ap-northeast-1 --domain --notify".into(),
            plain("us-east-1", "ap-northeast-1")
                .with_domain("app.example.test", "Z0123456789ABCDEFGHIJ")
                .with_notify(&mraa::plan::notify::Notify::Emails(vec![
                    "ops@example.test".into(),
                ])),
        ),
        (
            "eu-west-1/eu-south-1".into(),
            plain("eu-west-1", "eu-south-1"),
        ),
    ]
}

/// One rendered template, deployed in one region.
pub struct Instance {
    pub unit: Unit,
    pub kind: Kind,
    pub region: String,
    pub doc: Value,
    params: BTreeMap<String, String>,
}

/// Every instance of every scenario, with the scenario's name.
pub fn every_instance() -> Vec<(String, Instance)> {
    scenarios()
        .into_iter()
        .flat_map(|(name, plan)| instances(&plan).into_iter().map(move |t| (name.clone(), t)))
        .collect()
}

/// Every (unit, region) of the plan, parsed.
pub fn instances(plan: &Plan) -> Vec<Instance> {
    plan.units
        .iter()
        .flat_map(|planned| {
            planned
                .regions
                .iter()
                .map(move |region| Instance::new(planned, region))
        })
        .collect()
}

impl Instance {
    pub fn new(planned: &PlannedUnit, region: &str) -> Instance {
        let rendered = render_unit(planned).expect("every template renders");
        let doc: Value = serde_yaml::from_str(&rendered.body)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", rendered.file));
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        if let Some(Value::Mapping(declared)) = field(&doc, "Parameters") {
            for (name, spec) in declared {
                if let (Some(name), Some(default)) = (str_of(name), field(spec, "Default")) {
                    params.insert(name.to_string(), scalar(default).unwrap_or_default());
                }
            }
        }
        let value_of = |name: &str| match planned.parameters.get(name) {
            Some(ParamSource::Value(v)) => v.clone(),
            _ => String::new(),
        };
        let (primary, native) = (
            value_of("PrimaryRegion"),
            value_of("UserReplication") == "native",
        );
        for (name, source) in &planned.parameters {
            let value = match source {
                ParamSource::Value(v) => v.clone(),
                // The multi-Region key CloudFormation makes in the primary.
                ParamSource::FromOutput {
                    output: "UsersKeyArn",
                    ..
                } if native => {
                    format!("arn:{PARTITION}:kms:{primary}:{ACCOUNT}:key/{USERS_KEY_ID}")
                }
                // A pool's id starts with its region; the native replica
                // shares the primary's.
                ParamSource::FromOutput {
                    output: "UserPoolId",
                    region: role,
                    ..
                } => {
                    let region = match role {
                        RegionRole::Primary => primary.clone(),
                        RegionRole::Secondary => value_of("SecondaryRegion"),
                    };
                    pool_id(&region)
                }
                ParamSource::FromOutput { default, .. } => default.to_string(),
            };
            params.insert(name.clone(), value);
        }
        Instance {
            unit: planned.unit,
            kind: planned.kind,
            region: region.to_string(),
            doc,
            params,
        }
    }

    pub fn file(&self) -> String {
        self.unit.template_file()
    }

    /// The resources that exist in this region: (logical id, resource).
    pub fn resources(&self) -> Vec<(&str, &Value)> {
        let Some(Value::Mapping(resources)) = field(&self.doc, "Resources") else {
            return Vec::new();
        };
        resources
            .iter()
            .filter_map(|(id, r)| Some((str_of(id)?, r)))
            .filter(|(_, r)| match field(r, "Condition").and_then(str_of) {
                Some(condition) => self.condition(condition),
                None => true,
            })
            .collect()
    }

    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.resources()
            .into_iter()
            .find(|(logical, _)| *logical == id)
            .map(|(_, r)| r)
    }

    pub fn of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .into_iter()
            .filter(|(_, r)| type_of(r) == kind)
            .collect()
    }

    pub fn condition(&self, name: &str) -> bool {
        let expr = field(&self.doc, "Conditions")
            .and_then(|c| field(c, name))
            .unwrap_or_else(|| panic!("{}: no condition {name}", self.file()));
        self.truth(expr)
    }

    fn truth(&self, expr: &Value) -> bool {
        if let Some(args) = intrinsic(expr, "Equals").and_then(seq) {
            let values: Vec<_> = args.iter().map(|a| self.resolve(a)).collect();
            return values.len() == 2 && values[0].is_some() && values[0] == values[1];
        }
        if let Some(args) = intrinsic(expr, "Not").and_then(seq) {
            return !args.first().is_some_and(|a| self.truth(a));
        }
        if let Some(args) = intrinsic(expr, "And").and_then(seq) {
            return args.iter().all(|a| self.truth(a));
        }
        if let Some(args) = intrinsic(expr, "Or").and_then(seq) {
            return args.iter().any(|a| self.truth(a));
        }
        if let Some(name) = intrinsic(expr, "Condition").and_then(str_of) {
            return self.condition(name);
        }
        panic!("{}: cannot evaluate condition {expr:?}", self.file())
    }

    /// The value with every `!If` decided and `AWS::NoValue` dropped; other
    /// intrinsics stay for `resolve`.
    pub fn decide(&self, v: &Value) -> Option<Value> {
        if let Some(args) = intrinsic(v, "If").and_then(seq) {
            let (Some(condition), Some(yes), Some(no)) =
                (args.first().and_then(str_of), args.get(1), args.get(2))
            else {
                panic!("{}: malformed !If {v:?}", self.file())
            };
            return self.decide(if self.condition(condition) { yes } else { no });
        }
        if intrinsic(v, "Ref").and_then(str_of) == Some("AWS::NoValue") {
            return None;
        }
        match v {
            Value::Sequence(items) => Some(Value::Sequence(
                items.iter().filter_map(|i| self.decide(i)).collect(),
            )),
            Value::Mapping(map) if intrinsic(v, "Sub").is_none() => {
                let mut out = Mapping::new();
                for (k, value) in map {
                    if let Some(value) = self.decide(value) {
                        out.insert(k.clone(), value);
                    }
                }
                Some(Value::Mapping(out))
            }
            other => Some(other.clone()),
        }
    }

    /// The string AWS would see, when it can be known offline.
    pub fn resolve(&self, v: &Value) -> Option<String> {
        if let Some(s) = scalar(v) {
            return Some(s);
        }
        if let Some(name) = intrinsic(v, "Ref").and_then(str_of) {
            return self.reference(name);
        }
        if let Some(arg) = intrinsic(v, "Sub") {
            let (template, vars) = match arg {
                Value::Sequence(items) => (items.first().and_then(str_of)?, items.get(1)),
                other => (str_of(other)?, None),
            };
            return self.substitute(template, vars);
        }
        if let Some(arg) = intrinsic(v, "GetAtt") {
            let (id, attr) = match arg {
                Value::Sequence(items) => (str_of(items.first()?)?, str_of(items.get(1)?)?),
                other => str_of(other)?.split_once('.')?,
            };
            return self.attribute(id, attr);
        }
        if let Some(args) = intrinsic(v, "Join").and_then(seq) {
            let separator = args.first().and_then(str_of)?;
            let parts = self.decide(args.get(1)?)?;
            let parts: Option<Vec<String>> = seq(&parts)?.iter().map(|p| self.resolve(p)).collect();
            return Some(parts?.join(separator));
        }
        if intrinsic(v, "If").is_some() {
            return self.resolve(&self.decide(v)?);
        }
        None
    }

    /// The strings of a value that may be one or a list.
    pub fn resolve_all(&self, v: Option<&Value>) -> Vec<String> {
        let Some(v) = v.and_then(|v| self.decide(v)) else {
            return Vec::new();
        };
        match &v {
            Value::Sequence(items) => items.iter().filter_map(|i| self.resolve(i)).collect(),
            one => self.resolve(one).into_iter().collect(),
        }
    }

    fn substitute(&self, template: &str, vars: Option<&Value>) -> Option<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}')?;
            let name = &after[..end];
            let value = match vars.and_then(|m| field(m, name)) {
                Some(var) => self.resolve(var)?,
                None => match name.split_once('.') {
                    Some((id, attr)) => self.attribute(id, attr)?,
                    None => self.reference(name)?,
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// What `!Ref name` gives: a parameter, a pseudo parameter or a resource's
    /// physical id.
    pub fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => return Some(self.region.clone()),
            "AWS::AccountId" => return Some(ACCOUNT.into()),
            "AWS::Partition" => return Some(PARTITION.into()),
            "AWS::URLSuffix" => return Some("amazonaws.com".into()),
            "AWS::StackName" => return Some(self.stack_name()),
            _ => {}
        }
        if let Some(value) = self.params.get(name) {
            return Some(value.clone());
        }
        let resource = self.resource(name)?;
        physical_id(self, name, resource)
    }

    fn attribute(&self, id: &str, attr: &str) -> Option<String> {
        let resource = self.resource(id)?;
        match attr {
            "Arn" => crate::arns::arn_of(self, id, resource),
            "RootResourceId" => Some("rootresource1".into()),
            _ => None,
        }
    }

    /// The stack's name: a StackSet instance is named by CloudFormation
    /// `StackSet-<set name>-<uuid>`.
    pub fn stack_name(&self) -> String {
        let name = mraa::names::stack_name(self.param("AppName"), self.unit.id());
        match self.kind {
            Kind::StackSet => format!("StackSet-{name}-0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
            Kind::Stack => name,
        }
    }

    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }
}

/// What `!Ref` of a resource gives: its name where the template sets one,
/// otherwise the id CloudFormation or the service generates.
fn physical_id(t: &Instance, id: &str, resource: &Value) -> Option<String> {
    let props = field(resource, "Properties");
    let prop = |name: &str| {
        props
            .and_then(|p| field(p, name))
            .and_then(|v| t.resolve(v))
    };
    let generated = || format!("{}-{id}-1A2B3C4D5E6F", t.stack_name());
    Some(match type_of(resource) {
        "AWS::S3::Bucket" => prop("BucketName").unwrap_or_else(generated),
        "AWS::DynamoDB::Table" => prop("TableName").unwrap_or_else(generated),
        "AWS::IAM::Role" => prop("RoleName").unwrap_or_else(generated),
        "AWS::Lambda::Function" => prop("FunctionName").unwrap_or_else(generated),
        "AWS::Logs::LogGroup" => prop("LogGroupName").unwrap_or_else(generated),
        "AWS::SSM::Parameter" => prop("Name").unwrap_or_else(generated),
        "AWS::Events::Rule" => prop("Name").unwrap_or_else(generated),
        "AWS::ApiGateway::DomainName" => prop("DomainName")?,
        "AWS::Cognito::UserPool" => pool_id(&t.region),
        "AWS::Cognito::UserPoolClient" => "1example23456789abcdefghij".into(),
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => USERS_KEY_ID.into(),
        "AWS::CertificateManager::Certificate" => format!(
            "arn:{PARTITION}:acm:{}:{ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012",
            t.region
        ),
        // REST API, resource, authorizer, deployment... ids: ten characters.
        kind if kind.starts_with("AWS::ApiGateway::") => {
            format!("{:0>10.10}", id.to_ascii_lowercase())
        }
        _ => generated(),
    })
}

/// The id Cognito gives a user pool made in `region`.
pub fn pool_id(region: &str) -> String {
    format!("{region}_AbCdEf123")
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn type_of(resource: &Value) -> &str {
    field(resource, "Type").and_then(str_of).unwrap_or_default()
}
