//! How users reach the secondary region: Cognito's multi-Region replication
//! (the default) or the older trigger-and-import replication, and what each
//! asks of the plan's parameters.

use serde::Serialize;

use super::{ParamSource, Plan, RegionRole, Unit};

/// The template parameter every unit that depends on the mode takes.
pub const PARAMETER: &str = "UserReplication";

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum UserReplication {
    /// Cognito replicates the primary's pool to the secondary (same pool id;
    /// users keep their passwords), encrypted with a multi-Region key.
    #[default]
    Native,
    /// A pool per region; users who signed in to the primary are imported
    /// into the secondary without their password (for pools that cannot
    /// use native replication).
    Import,
}

/// Regions where CloudFormation offers `AWS::Cognito::UserPoolReplica` and
/// `AWS::Cognito::UserPoolRegionalConfigurationAttachment`, by the registry
/// schemas AWS publishes per region (as cfn-lint 1.58.0 ships them; a check
/// in tests/checks keeps this list equal to that data).
pub const NATIVE_REGIONS: [&str; 24] = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

impl UserReplication {
    /// Native where both regions offer it, import elsewhere.
    pub fn default_for(primary: &str, secondary: &str) -> UserReplication {
        match unavailable_in(primary, secondary) {
            None => UserReplication::Native,
            Some(_) => UserReplication::Import,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            UserReplication::Native => "native",
            UserReplication::Import => "import",
        }
    }

    /// The mode a deployed stack's `UserReplication` output or parameter
    /// names; deployments made before the parameter existed used import.
    pub fn from_recorded(value: Option<&str>) -> UserReplication {
        match value {
            Some("native") => UserReplication::Native,
            _ => UserReplication::Import,
        }
    }
}

impl std::fmt::Display for UserReplication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The first of the two regions where native replication cannot be
/// deployed, if any.
pub fn unavailable_in<'a>(primary: &'a str, secondary: &'a str) -> Option<&'a str> {
    [primary, secondary]
        .into_iter()
        .find(|r| !NATIVE_REGIONS.contains(r))
}

/// The units whose templates take the mode.
const TAKES_MODE: [Unit; 4] = [
    Unit::Bootstrap,
    Unit::ObjectStore,
    Unit::Frontend,
    Unit::Application,
];

/// The users key parameter of the units that use it.
pub(super) fn parameters(unit: Unit) -> Vec<(&'static str, ParamSource)> {
    let key = ParamSource::FromOutput {
        unit: Unit::Bootstrap,
        output: "UsersKeyArn",
        region: RegionRole::Primary,
        default: "",
    };
    match unit {
        Unit::ObjectStore | Unit::Frontend => vec![("UsersKeyArn", key)],
        _ => vec![],
    }
}

impl Plan {
    /// Sets how users are replicated. Native: the secondary's API accepts
    /// the tokens of the primary's pool id, which its replica shares.
    pub fn with_user_replication(mut self, mode: UserReplication) -> Plan {
        self.user_replication = mode;
        for planned in &mut self.units {
            if TAKES_MODE.contains(&planned.unit) {
                planned
                    .parameters
                    .insert(PARAMETER.into(), ParamSource::Value(mode.id().into()));
            }
            if planned.unit == Unit::Application {
                planned.parameters.insert(
                    "SecondaryUserPoolId".into(),
                    ParamSource::FromOutput {
                        unit: Unit::Frontend,
                        output: "UserPoolId",
                        region: match mode {
                            UserReplication::Native => RegionRole::Primary,
                            UserReplication::Import => RegionRole::Secondary,
                        },
                        default: "",
                    },
                );
            }
        }
        self
    }
}
