//! What a deployment consists of, as plain data: the units, where each one
//! goes, what it needs, its parameters, and the wave it deploys in. `render`,
//! `deploy`, `status` and `teardown` all read this one description.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::names;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Bootstrap,
    ObjectStore,
    KvStore,
    Routing,
    Edge,
    Frontend,
    Application,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// One CloudFormation stack in the primary region.
    Stack,
    /// A self-managed StackSet with an instance in every region.
    StackSet,
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamSource {
    Value(String),
    /// Another unit's stack output in the primary or the secondary region,
    /// read once that unit is deployed. (Region-specific values are passed as
    /// two parameters the template picks from, so that one StackSet operation
    /// serves both regions instead of one per-region override each.)
    FromOutput {
        unit: Unit,
        output: &'static str,
        region: RegionRole,
        /// Used while the output does not exist (e.g. rendering offline).
        default: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionRole {
    Primary,
    Secondary,
}

impl Unit {
    /// In dependency order, which is also the order of the rendered summary.
    pub const ALL: [Unit; 7] = [
        Unit::Bootstrap,
        Unit::Edge,
        Unit::ObjectStore,
        Unit::KvStore,
        Unit::Routing,
        Unit::Frontend,
        Unit::Application,
    ];

    /// The unit's id: in stack names, template file names and output.
    pub fn id(self) -> &'static str {
        match self {
            Unit::Bootstrap => "bootstrap",
            Unit::ObjectStore => "object-store",
            Unit::KvStore => "kv-store",
            Unit::Routing => "routing",
            Unit::Edge => "edge",
            Unit::Frontend => "frontend",
            Unit::Application => "application",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Unit::Bootstrap | Unit::Edge => Kind::Stack,
            _ => Kind::StackSet,
        }
    }

    pub fn template_file(self) -> String {
        format!("{}.yaml", self.id())
    }

    /// What must be deployed before this unit starts, and why.
    pub fn depends_on(self) -> &'static [Unit] {
        match self {
            // The edge only names the website buckets' domains, which are
            // deterministic; CloudFront does not need them to exist yet. Going
            // first lets the front end admit the distribution in one pass.
            Unit::Bootstrap | Unit::Edge => &[],
            // StackSets run under the bootstrap's administration role.
            Unit::ObjectStore | Unit::KvStore | Unit::Routing => &[Unit::Bootstrap],
            // Website access logs go to the object store's log bucket; the
            // website bucket policy admits the edge's distribution.
            Unit::Frontend => &[Unit::ObjectStore, Unit::Edge],
            // The API's authorizer is the front end's user pool; it reads the
            // comments table, the photos bucket and the app-config table.
            Unit::Application => &[
                Unit::Frontend,
                Unit::KvStore,
                Unit::ObjectStore,
                Unit::Routing,
            ],
        }
    }

    /// Parameters beyond `AppName`, `PrimaryRegion` and `SecondaryRegion`.
    fn extra_parameters(self) -> Vec<(&'static str, ParamSource)> {
        let value = |v: &str| ParamSource::Value(v.to_string());
        match self {
            Unit::Bootstrap => vec![("Mode", value("active-passive"))],
            // The state API is read before sign-in, by a site whose origin is
            // the distribution; `*` keeps it reachable from a custom domain too.
            Unit::Routing => vec![("AllowedOrigin", value("*"))],
            Unit::Frontend => vec![(
                "DistributionId",
                ParamSource::FromOutput {
                    unit: Unit::Edge,
                    output: "DistributionId",
                    region: RegionRole::Primary,
                    default: "",
                },
            )],
            Unit::Application => vec![
                ("AllowedOrigin", value("*")),
                (
                    "PrimaryUserPoolId",
                    ParamSource::FromOutput {
                        unit: Unit::Frontend,
                        output: "UserPoolId",
                        region: RegionRole::Primary,
                        default: "",
                    },
                ),
                (
                    "SecondaryUserPoolId",
                    ParamSource::FromOutput {
                        unit: Unit::Frontend,
                        output: "UserPoolId",
                        region: RegionRole::Secondary,
                        default: "",
                    },
                ),
            ],
            Unit::ObjectStore | Unit::KvStore | Unit::Edge => vec![],
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A step mraa performs itself after the layers, because no single-region
/// template can express it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WiringStep {
    S3Replication,
    DynamodbReplicas,
    AppState,
    SiteUpload,
}

impl WiringStep {
    pub const ALL: [WiringStep; 4] = [
        WiringStep::S3Replication,
        WiringStep::DynamodbReplicas,
        WiringStep::AppState,
        WiringStep::SiteUpload,
    ];

    pub fn after(self) -> &'static [Unit] {
        match self {
            WiringStep::S3Replication => &[Unit::ObjectStore],
            WiringStep::DynamodbReplicas => &[Unit::KvStore, Unit::Routing, Unit::Frontend],
            WiringStep::AppState => &[Unit::Routing],
            WiringStep::SiteUpload => &[Unit::Frontend, Unit::Application, Unit::Routing],
        }
    }

    /// The step's id, as in the manifest and in progress output.
    pub fn id(self) -> &'static str {
        match self {
            WiringStep::S3Replication => "s3-replication",
            WiringStep::DynamodbReplicas => "dynamodb-replicas",
            WiringStep::AppState => "app-state",
            WiringStep::SiteUpload => "site-upload",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WiringStep::S3Replication => {
                "replicate the primary object-store bucket to the secondary's (RTC on)"
            }
            WiringStep::DynamodbReplicas => {
                "add secondary replicas to the global tables (version 2019.11.21)"
            }
            WiringStep::AppState => "seed the application state `active` if none exists",
            WiringStep::SiteUpload => "upload the web site and its config.json to every region",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedUnit {
    pub unit: Unit,
    pub kind: Kind,
    pub name: String,
    pub template: String,
    pub regions: Vec<String>,
    pub wave: usize,
    pub depends_on: Vec<Unit>,
    pub parameters: BTreeMap<String, ParamSource>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub app: String,
    pub primary: String,
    pub secondary: String,
    pub units: Vec<PlannedUnit>,
}

impl Plan {
    pub fn new(app: &str, primary: &str, secondary: &str) -> Plan {
        let units = Unit::ALL
            .iter()
            .map(|&unit| {
                let regions = match unit.kind() {
                    Kind::Stack => vec![primary.to_string()],
                    Kind::StackSet => vec![primary.to_string(), secondary.to_string()],
                };
                let mut parameters = BTreeMap::from([
                    ("AppName".to_string(), ParamSource::Value(app.to_string())),
                    (
                        "PrimaryRegion".to_string(),
                        ParamSource::Value(primary.to_string()),
                    ),
                    (
                        "SecondaryRegion".to_string(),
                        ParamSource::Value(secondary.to_string()),
                    ),
                ]);
                parameters.extend(
                    unit.extra_parameters()
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v)),
                );
                PlannedUnit {
                    unit,
                    kind: unit.kind(),
                    name: names::stack_name(app, unit.id()),
                    template: unit.template_file(),
                    regions,
                    wave: wave_of(unit),
                    depends_on: unit.depends_on().to_vec(),
                    parameters,
                }
            })
            .collect();
        Plan {
            app: app.to_string(),
            primary: primary.to_string(),
            secondary: secondary.to_string(),
            units,
        }
    }

    /// Units grouped by wave: every unit of a wave can deploy concurrently.
    pub fn waves(&self) -> Vec<Vec<&PlannedUnit>> {
        let count = self.units.iter().map(|u| u.wave + 1).max().unwrap_or(0);
        (0..count)
            .map(|wave| self.units.iter().filter(|u| u.wave == wave).collect())
            .collect()
    }

    /// Sets the CORS origin of the regional APIs (the units that take one).
    pub fn with_allowed_origin(mut self, origin: &str) -> Plan {
        for unit in &mut self.units {
            if let Some(value) = unit.parameters.get_mut("AllowedOrigin") {
                *value = ParamSource::Value(origin.to_string());
            }
        }
        self
    }

    pub fn unit(&self, unit: Unit) -> Option<&PlannedUnit> {
        self.units.iter().find(|u| u.unit == unit)
    }

    pub fn region_of(&self, role: RegionRole) -> &str {
        match role {
            RegionRole::Primary => &self.primary,
            RegionRole::Secondary => &self.secondary,
        }
    }
}

/// The longest chain of dependencies below `unit`.
fn wave_of(unit: Unit) -> usize {
    unit.depends_on()
        .iter()
        .map(|&dep| wave_of(dep) + 1)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_deploys_after_what_it_needs() {
        let plan = Plan::new("demo", "us-east-1", "ap-northeast-1");
        for planned in &plan.units {
            for dep in &planned.depends_on {
                let dep_wave = plan.unit(*dep).map(|d| d.wave);
                assert!(
                    dep_wave < Some(planned.wave),
                    "{} after {dep}",
                    planned.unit
                );
            }
        }
        let waves: Vec<Vec<Unit>> = plan
            .waves()
            .iter()
            .map(|w| w.iter().map(|u| u.unit).collect())
            .collect();
        assert_eq!(
            waves,
            vec![
                vec![Unit::Bootstrap, Unit::Edge],
                vec![Unit::ObjectStore, Unit::KvStore, Unit::Routing],
                vec![Unit::Frontend],
                vec![Unit::Application],
            ]
        );
    }

    #[test]
    fn stack_sets_go_to_both_regions_and_stacks_to_the_primary() {
        let plan = Plan::new("demo", "eu-west-1", "eu-central-1");
        let routing = plan.unit(Unit::Routing).expect("routing planned");
        assert_eq!(routing.regions, ["eu-west-1", "eu-central-1"]);
        assert_eq!(routing.name, "mraa-demo-routing");
        let edge = plan.unit(Unit::Edge).expect("edge planned");
        assert_eq!(edge.regions, ["eu-west-1"]);
        assert_eq!(edge.kind, Kind::Stack);
    }

    #[test]
    fn wiring_runs_after_the_units_it_reads() {
        for step in WiringStep::ALL {
            assert!(!step.after().is_empty(), "{step:?}");
            // The id is the serialized name the manifest shows.
            assert_eq!(serde_json::to_value(step).ok(), Some(step.id().into()));
        }
    }
}
