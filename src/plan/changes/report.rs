//! What a deploy would change (what `mraa diff` prints and `mraa deploy`
//! shows before it asks), as plain data: per unit and region the change and
//! its resources and parameters, the wiring steps that would change, data
//! stores that would be replaced, and drift. The views read only this.

use serde::Serialize;

use crate::error::EXIT_OK;

/// Bumped only when a field changes meaning or goes; fields are only added
/// within a version.
pub const SCHEMA_VERSION: u32 = 1;

/// Changes found (or drift, with `--drift`): the plan-on-pull-request
/// convention of `terraform plan -detailed-exitcode`.
pub const EXIT_CHANGES: u8 = 2;

/// Resource types that hold data: replacing one loses what it holds.
pub const DATA_STORES: [&str; 3] = [
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::Cognito::UserPool",
];

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema_version: u32,
    pub app: String,
    pub primary: String,
    pub secondary: String,
    /// Whether a deploy would change anything (units or wiring).
    pub changes: bool,
    pub exit_code: u8,
    /// Data stores a deploy would replace or remove, first because they
    /// matter most.
    pub dangers: Vec<Danger>,
    pub units: Vec<UnitDiff>,
    pub wiring: Vec<WiringDiff>,
    /// Present with `--drift`: each stack that drifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Vec<StackDrift>>,
    /// Data kept by an earlier teardown that a deploy imports instead of
    /// creating (see [`super::import`]).
    pub imports: Vec<ImportRow>,
}

/// One resource a deploy would import: where, under which logical id, and
/// which existing resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    pub unit: String,
    pub region: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitChange {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitDiff {
    pub unit: String,
    pub region: String,
    pub stack: String,
    pub change: UnitChange,
    pub parameters: Vec<ParameterChange>,
    pub resources: Vec<ResourceChange>,
}

/// `from` is absent for a new parameter, `to` for one a deploy drops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterChange {
    pub key: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    /// `add`, `modify`, `remove` (CloudFormation's Add, Modify, Remove...).
    pub action: String,
    /// `true`, `false` or `conditional`; for a modification only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// The properties that change.
    pub properties: Vec<String>,
    pub danger: bool,
}

impl ResourceChange {
    /// A data store CloudFormation would (or may) replace, or remove from
    /// its stack.
    pub fn is_danger(resource_type: &str, action: &str, replacement: Option<&str>) -> bool {
        DATA_STORES.contains(&resource_type)
            && (action == "remove" || matches!(replacement, Some("true" | "conditional")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Danger {
    pub unit: String,
    pub region: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WiringDiff {
    pub step: String,
    pub region: String,
    /// What a deploy would do there.
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackDrift {
    pub unit: String,
    pub region: String,
    pub stack: String,
    pub resources: Vec<DriftedResource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftedResource {
    pub logical_id: String,
    pub resource_type: String,
    /// `modified` or `deleted`.
    pub status: String,
    pub properties: Vec<PropertyDrift>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDrift {
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// `add`, `remove` or `not_equal`.
    pub difference: String,
}

impl DiffReport {
    /// Puts the parts together and decides the exit code.
    pub fn new(
        (app, primary, secondary): (&str, &str, &str),
        units: Vec<UnitDiff>,
        wiring: Vec<WiringDiff>,
        drift: Option<Vec<StackDrift>>,
    ) -> DiffReport {
        let dangers: Vec<Danger> = units
            .iter()
            .flat_map(|u| {
                u.resources.iter().filter(|r| r.danger).map(|r| Danger {
                    unit: u.unit.clone(),
                    region: u.region.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    replacement: r.replacement.clone().unwrap_or_default(),
                })
            })
            .collect();
        let changes = units.iter().any(|u| u.change != UnitChange::Unchanged) || !wiring.is_empty();
        let drifted = drift.as_ref().is_some_and(|d| !d.is_empty());
        DiffReport {
            schema_version: SCHEMA_VERSION,
            app: app.into(),
            primary: primary.into(),
            secondary: secondary.into(),
            changes,
            exit_code: if changes || drifted {
                EXIT_CHANGES
            } else {
                EXIT_OK
            },
            dangers,
            units,
            wiring,
            drift,
            imports: Vec::new(),
        }
    }

    /// With the kept resources a deploy would import.
    pub fn with_imports(mut self, kept: &super::import::Kept) -> DiffReport {
        self.imports = kept
            .adopt
            .iter()
            .map(|k| ImportRow {
                unit: k.unit.id().to_string(),
                region: k.region.clone(),
                logical_id: k.logical_id.to_string(),
                resource_type: k.resource_type.to_string(),
                physical_id: k.physical_id.clone(),
            })
            .collect();
        if !self.imports.is_empty() {
            self.changes = true;
            self.exit_code = EXIT_CHANGES;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_store_that_may_be_replaced_is_a_danger() {
        let danger = ResourceChange::is_danger;
        assert!(danger("AWS::DynamoDB::Table", "modify", Some("true")));
        assert!(danger("AWS::S3::Bucket", "modify", Some("conditional")));
        assert!(danger("AWS::Cognito::UserPool", "remove", None));
        assert!(!danger("AWS::S3::Bucket", "modify", Some("false")));
        assert!(!danger("AWS::S3::Bucket", "add", None));
        assert!(!danger("AWS::Lambda::Function", "modify", Some("true")));
        assert!(!danger("AWS::Lambda::Function", "remove", None));
    }
}
