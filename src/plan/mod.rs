//! What a deployment consists of, as plain data: the units, where each one
//! goes, what it needs, its parameters, and the wave it deploys in. `render`,
//! `deploy`, `status` and `teardown` all read this one description.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::health::lag;
use crate::names;

pub mod api_logging;
pub mod changes;
pub mod mode;
pub mod notify;
pub mod parameters;
pub mod users;

pub use mode::Mode;
pub use users::UserReplication;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Bootstrap,
    SiteCertificate,
    ObjectStore,
    KvStore,
    Routing,
    Edge,
    Frontend,
    WebsitePolicy,
    Application,
    ApiDomain,
    Alarms,
}

/// CloudFront takes certificates from US East (N. Virginia) only.
pub const CERTIFICATE_REGION: &str = "us-east-1";

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
    pub const ALL: [Unit; 11] = [
        Unit::Bootstrap,
        Unit::SiteCertificate,
        Unit::Edge,
        Unit::ObjectStore,
        Unit::KvStore,
        Unit::Routing,
        Unit::Frontend,
        Unit::WebsitePolicy,
        Unit::Application,
        Unit::ApiDomain,
        Unit::Alarms,
    ];

    /// Units deployed only with a custom domain (`--domain`).
    pub fn needs_domain(self) -> bool {
        matches!(self, Unit::SiteCertificate | Unit::ApiDomain)
    }

    /// Units deployed only with someone to notify (`--notify`).
    pub fn needs_notify(self) -> bool {
        self == Unit::Alarms
    }

    /// The unit's id: in stack names, template file names and output.
    pub fn id(self) -> &'static str {
        match self {
            Unit::Bootstrap => "bootstrap",
            Unit::SiteCertificate => "site-certificate",
            Unit::ObjectStore => "object-store",
            Unit::KvStore => "kv-store",
            Unit::Routing => "routing",
            Unit::Edge => "edge",
            Unit::Frontend => "frontend",
            Unit::WebsitePolicy => "website-policy",
            Unit::Application => "application",
            Unit::ApiDomain => "api-domain",
            Unit::Alarms => "alarms",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Unit::Bootstrap | Unit::SiteCertificate | Unit::Edge => Kind::Stack,
            _ => Kind::StackSet,
        }
    }

    pub fn template_file(self) -> String {
        format!("{}.yaml", self.id())
    }

    /// What must be deployed before this unit starts: only what AWS
    /// requires to exist first (a role, an id AWS assigns, a resource a
    /// property names and the service checks), each with its reason. A name
    /// mraa chooses (a table's, a bucket's) needs no wait where the service
    /// does not check it: IAM policies, environment variables and origins
    /// take names of things yet to be made.
    pub fn depends_on(self) -> &'static [Unit] {
        match self {
            Unit::Bootstrap | Unit::SiteCertificate => &[],
            // The edge names the website buckets by their deterministic
            // domains, which CloudFront does not resolve at creation. With a
            // custom domain it serves the certificate by its ARN, which ACM
            // assigns (ViewerCertificate.AcmCertificateArn).
            Unit::Edge => &[Unit::SiteCertificate],
            // A self-managed StackSet needs its administration and execution
            // roles to exist ("Grant self-managed permissions", CloudFormation
            // User Guide); routing's API stage logs through the account's
            // CloudWatch role, set once the bootstrap made it.
            Unit::ObjectStore | Unit::KvStore | Unit::Routing => &[Unit::Bootstrap],
            // The pool is encrypted with the bootstrap's users key (by ARN);
            // website access logs go to the object store's log bucket, which
            // S3 requires to exist (PutBucketLogging); the pool's replica
            // needs the key's replica in the secondary, made by the object
            // store (Cognito's multi-Region replication prerequisites).
            Unit::Frontend => &[Unit::Bootstrap, Unit::ObjectStore],
            // The policy goes on each website bucket, which must exist
            // (PutBucketPolicy: NoSuchBucket), and names the distribution by
            // the id CloudFront assigns at creation (AWS:SourceArn).
            Unit::WebsitePolicy => &[Unit::Frontend, Unit::Edge],
            // The authorizer names the pool by the id Cognito assigns; the
            // secondary activates the replica, which must exist; the stage
            // logs through the account's CloudWatch role.
            Unit::Application => &[Unit::Bootstrap, Unit::Frontend],
            // Its base path mappings name both regions' APIs by the ids API
            // Gateway assigns.
            Unit::ApiDomain => &[Unit::Bootstrap, Unit::Routing, Unit::Application],
            // The StackSet's roles. The alarms name tables and buckets by
            // the names mraa chooses; CloudWatch does not check that a
            // metric's resource exists (PutMetricAlarm).
            Unit::Alarms => &[Unit::Bootstrap],
        }
    }

    /// Parameters beyond `AppName`, `PrimaryRegion` and `SecondaryRegion`.
    fn extra_parameters(self) -> Vec<(&'static str, ParamSource)> {
        let value = |v: &str| ParamSource::Value(v.to_string());
        match self {
            Unit::Bootstrap => vec![
                // Decided at deploy from the account settings (`with_api_logging`).
                (
                    api_logging::PARAMETER,
                    value(api_logging::parameter_value(true)),
                ),
            ],
            // Empty without a custom domain; `Plan::with_domain` fills them.
            Unit::Edge => vec![("SiteDomain", value("")), ("SiteCertificateArn", value(""))],
            // The state API is read before sign-in, by a site whose origin is
            // the distribution; `*` keeps it reachable from a custom domain too.
            Unit::Routing => vec![("AllowedOrigin", value("*"))],
            Unit::WebsitePolicy => vec![(
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
            Unit::ApiDomain => {
                let api = |unit, output, region| ParamSource::FromOutput {
                    unit,
                    output,
                    region,
                    default: "",
                };
                vec![
                    (
                        "PrimaryStateApiId",
                        api(Unit::Routing, "StateApiId", RegionRole::Primary),
                    ),
                    (
                        "SecondaryStateApiId",
                        api(Unit::Routing, "StateApiId", RegionRole::Secondary),
                    ),
                    (
                        "PrimaryAppApiId",
                        api(Unit::Application, "AppApiId", RegionRole::Primary),
                    ),
                    (
                        "SecondaryAppApiId",
                        api(Unit::Application, "AppApiId", RegionRole::Secondary),
                    ),
                ]
            }
            // The objectives status holds the figures against; the topics
            // are filled by `Plan::with_notify`, the only way this is planned.
            Unit::Alarms => vec![
                ("NotifyEmails", value("")),
                ("PrimaryTopicArn", value(notify::NO_TOPIC)),
                ("SecondaryTopicArn", value(notify::NO_TOPIC)),
                (
                    "ItemsObjectiveMillis",
                    value(&format!("{:.0}", lag::ITEMS_OBJECTIVE_SECS * 1000.0)),
                ),
                (
                    "ObjectsObjectiveSeconds",
                    value(&format!("{:.0}", lag::OBJECTS_OBJECTIVE_SECS)),
                ),
            ],
            // Filled by `Plan::with_domain`, the only way these are planned.
            Unit::SiteCertificate | Unit::ObjectStore | Unit::KvStore | Unit::Frontend => vec![],
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

    /// The units whose resources the step needs to exist, and why (only
    /// what AWS requires; the step starts once they are deployed).
    pub fn after(self, users: UserReplication) -> &'static [Unit] {
        match (self, users) {
            // Both buckets, versioned, and the replication role the rule
            // names by ARN (PutBucketReplication).
            (WiringStep::S3Replication, _) => &[Unit::ObjectStore],
            // A replica is added to a table that exists (UpdateTable): the
            // comments and app-config tables; with import, also the users
            // table, which the front end makes. Native users are replicated
            // by Cognito, so nothing of the front end is waited for.
            (WiringStep::DynamodbReplicas, UserReplication::Native) => {
                &[Unit::KvStore, Unit::Routing]
            }
            (WiringStep::DynamodbReplicas, UserReplication::Import) => {
                &[Unit::KvStore, Unit::Routing, Unit::Frontend]
            }
            // The state item goes into the app-config table.
            (WiringStep::AppState, _) => &[Unit::Routing],
            // Into the website buckets, with a config.json naming the pool,
            // its client and both APIs by the ids AWS assigned them.
            (WiringStep::SiteUpload, _) => &[Unit::Frontend, Unit::Application, Unit::Routing],
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
            WiringStep::AppState => {
                "seed the application state `active` if none exists; record the two regions beside it"
            }
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
    /// The custom domain, when deployed with `--domain`.
    pub domain: Option<PlanDomain>,
    pub user_replication: UserReplication,
    /// Active-passive unless deployed `--mode active-active`.
    pub mode: Mode,
    pub units: Vec<PlannedUnit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanDomain {
    pub name: String,
    /// The Route 53 hosted zone id without `/hostedzone/`.
    pub hosted_zone_id: String,
}

impl Plan {
    /// The deployment without a custom domain.
    pub fn new(app: &str, primary: &str, secondary: &str) -> Plan {
        let mut plan = Plan {
            app: app.to_string(),
            primary: primary.to_string(),
            secondary: secondary.to_string(),
            domain: None,
            user_replication: UserReplication::default_for(primary, secondary),
            mode: Mode::ActivePassive,
            units: Vec::new(),
        };
        plan.units = Unit::ALL
            .iter()
            .filter(|u| !u.needs_domain() && !u.needs_notify())
            .map(|&unit| plan.planned(unit))
            .collect();
        plan.assign_waves();
        let users = plan.user_replication;
        plan.with_user_replication(users)
            .with_mode(Mode::ActivePassive)
    }

    /// Adds the custom domain: the site certificate (us-east-1), the regional
    /// API domains, and the edge's name and certificate.
    pub fn with_domain(mut self, name: &str, hosted_zone_id: &str) -> Plan {
        self.domain = Some(PlanDomain {
            name: name.to_string(),
            hosted_zone_id: hosted_zone_id.to_string(),
        });
        let mut units: Vec<PlannedUnit> = Unit::ALL
            .iter()
            .filter(|u| !u.needs_notify() || self.includes(**u))
            .map(|&unit| match self.units.iter().find(|u| u.unit == unit) {
                Some(planned) => planned.clone(),
                None => self.planned(unit),
            })
            .collect();
        let value = |v: &str| ParamSource::Value(v.to_string());
        for planned in &mut units {
            if planned.unit.needs_domain() {
                planned.parameters.insert("SiteDomain".into(), value(name));
                planned
                    .parameters
                    .insert("HostedZoneId".into(), value(hosted_zone_id));
            }
            if planned.unit == Unit::Edge {
                planned.parameters.insert("SiteDomain".into(), value(name));
                planned.parameters.insert(
                    "SiteCertificateArn".into(),
                    ParamSource::FromOutput {
                        unit: Unit::SiteCertificate,
                        output: "CertificateArn",
                        region: RegionRole::Primary,
                        default: "",
                    },
                );
            }
        }
        self.units = units;
        self.assign_waves();
        self
    }

    fn planned(&self, unit: Unit) -> PlannedUnit {
        let (app, primary, secondary) = (&self.app, &self.primary, &self.secondary);
        let regions = match (unit, unit.kind()) {
            (Unit::SiteCertificate, _) => vec![CERTIFICATE_REGION.to_string()],
            (_, Kind::Stack) => vec![primary.clone()],
            (_, Kind::StackSet) => vec![primary.clone(), secondary.clone()],
        };
        let mut parameters = BTreeMap::from([
            ("AppName".to_string(), ParamSource::Value(app.clone())),
            (
                "PrimaryRegion".to_string(),
                ParamSource::Value(primary.clone()),
            ),
            (
                "SecondaryRegion".to_string(),
                ParamSource::Value(secondary.clone()),
            ),
        ]);
        parameters.extend(
            unit.extra_parameters()
                .into_iter()
                .chain(users::parameters(unit))
                .map(|(k, v)| (k.to_string(), v)),
        );
        if unit == Unit::Bootstrap {
            let opt_in = crate::regions::opt_in_parameter(primary, secondary);
            parameters.insert("OptInRegions".into(), ParamSource::Value(opt_in.into()));
        }
        PlannedUnit {
            unit,
            kind: unit.kind(),
            name: names::stack_name(app, unit.id()),
            template: unit.template_file(),
            regions,
            wave: 0,
            depends_on: Vec::new(),
            parameters,
        }
    }

    /// Dependencies on units this plan does not deploy are dropped; each
    /// unit's wave is the longest chain of dependencies below it.
    fn assign_waves(&mut self) {
        let included: Vec<Unit> = self.units.iter().map(|u| u.unit).collect();
        let deps = |unit: Unit| -> Vec<Unit> {
            unit.depends_on()
                .iter()
                .copied()
                .filter(|d| included.contains(d))
                .collect()
        };
        fn wave(unit: Unit, deps: &dyn Fn(Unit) -> Vec<Unit>) -> usize {
            deps(unit)
                .into_iter()
                .map(|d| wave(d, deps) + 1)
                .max()
                .unwrap_or(0)
        }
        for planned in &mut self.units {
            planned.depends_on = deps(planned.unit);
            planned.wave = wave(planned.unit, &deps);
        }
    }

    /// Where a unit's output is read: a stack's one region, or the given
    /// region of a StackSet.
    pub fn output_region(&self, unit: Unit, role: RegionRole) -> &str {
        match self.unit(unit) {
            Some(planned) if planned.kind == Kind::Stack => planned
                .regions
                .first()
                .map_or(self.region_of(role), String::as_str),
            _ => self.region_of(role),
        }
    }

    pub fn includes(&self, unit: Unit) -> bool {
        self.unit(unit).is_some()
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

    /// Whether the bootstrap stack creates the API Gateway logging role
    /// (see `deploy::api_account`).
    pub fn with_api_logging(mut self, creates_role: bool) -> Plan {
        for unit in &mut self.units {
            if let Some(value) = unit.parameters.get_mut(api_logging::PARAMETER) {
                *value = ParamSource::Value(api_logging::parameter_value(creates_role).to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wave_units(plan: &Plan) -> Vec<Vec<Unit>> {
        plan.waves()
            .iter()
            .map(|w| w.iter().map(|u| u.unit).collect())
            .collect()
    }

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
        let waves = wave_units(&plan);
        assert_eq!(
            waves,
            vec![
                vec![Unit::Bootstrap, Unit::Edge],
                vec![Unit::ObjectStore, Unit::KvStore, Unit::Routing],
                vec![Unit::Frontend],
                vec![Unit::WebsitePolicy, Unit::Application],
            ]
        );
    }

    #[test]
    fn a_custom_domain_adds_its_units_in_the_waves_they_need() {
        let plan =
            Plan::new("demo", "eu-west-1", "ap-northeast-1").with_domain("app.example.com", "Z123");
        let waves = wave_units(&plan);
        assert_eq!(
            waves,
            vec![
                vec![Unit::Bootstrap, Unit::SiteCertificate],
                vec![Unit::Edge, Unit::ObjectStore, Unit::KvStore, Unit::Routing],
                vec![Unit::Frontend],
                vec![Unit::WebsitePolicy, Unit::Application],
                vec![Unit::ApiDomain],
            ]
        );
        let certificate = plan.unit(Unit::SiteCertificate).expect("planned");
        assert_eq!(certificate.regions, [CERTIFICATE_REGION]);
        assert_eq!(
            plan.output_region(Unit::SiteCertificate, RegionRole::Primary),
            CERTIFICATE_REGION
        );
        let edge = plan.unit(Unit::Edge).expect("planned");
        assert_eq!(
            edge.parameters.get("SiteDomain"),
            Some(&ParamSource::Value("app.example.com".into()))
        );
        assert_eq!(edge.depends_on, [Unit::SiteCertificate]);
        let api = plan.unit(Unit::ApiDomain).expect("planned");
        assert_eq!(api.regions, ["eu-west-1", "ap-northeast-1"]);
        assert_eq!(
            api.parameters.get("HostedZoneId"),
            Some(&ParamSource::Value("Z123".into()))
        );
    }

    #[test]
    fn without_a_domain_nothing_of_it_is_planned() {
        let plan = Plan::new("demo", "eu-west-1", "ap-northeast-1");
        assert!(!plan.includes(Unit::SiteCertificate));
        assert!(!plan.includes(Unit::ApiDomain));
        let edge = plan.unit(Unit::Edge).expect("planned");
        assert!(edge.depends_on.is_empty());
        assert_eq!(
            edge.parameters.get("SiteDomain"),
            Some(&ParamSource::Value(String::new()))
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
            for users in [UserReplication::Native, UserReplication::Import] {
                assert!(!step.after(users).is_empty(), "{step:?}");
            }
            // The id is the serialized name the manifest shows.
            assert_eq!(serde_json::to_value(step).ok(), Some(step.id().into()));
        }
    }
}
