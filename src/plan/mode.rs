//! How the two Regions serve: active-passive (the original: the primary
//! serves, the secondary takes over on failover) or active-active (both
//! serve reads and writes; a Region is drained and returned). The mode is a
//! template parameter of the units whose behaviour depends on it, and is
//! recorded by the bootstrap stack and the deployment record.

use serde::Serialize;

use super::{ParamSource, Plan, Unit};

/// The template parameter of the units that depend on the mode.
pub const PARAMETER: &str = "Mode";

/// The units that take [`PARAMETER`]: the bootstrap records it, the state
/// API reports it, the application's functions enforce it.
const TAKES_MODE: [Unit; 3] = [Unit::Bootstrap, Unit::Routing, Unit::Application];

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The primary serves; the secondary takes over on `mraa failover`.
    #[default]
    ActivePassive,
    /// Both Regions serve reads and writes; `mraa drain` takes one out.
    ActiveActive,
}

impl Mode {
    /// The value of the template parameter and of the records.
    pub fn id(self) -> &'static str {
        match self {
            Mode::ActivePassive => "active-passive",
            Mode::ActiveActive => "active-active",
        }
    }

    /// The mode a record holds; a record without one predates the choice
    /// (active-passive), and `None` is an unknown value.
    pub fn from_recorded(value: Option<&str>) -> Option<Mode> {
        match value.map(str::trim) {
            None | Some("") | Some("active-passive") => Some(Mode::ActivePassive),
            Some("active-active") => Some(Mode::ActiveActive),
            Some(_) => None,
        }
    }
}

/// The mode a deploy (or diff) applies: the one asked for, else the one the
/// bootstrap stack records (`bootstrap`, as read), else active-passive. A
/// change either way is allowed: no data store depends on it.
pub fn chosen(
    given: Option<Mode>,
    bootstrap: Option<&aws_sdk_cloudformation::types::Stack>,
) -> Mode {
    // The parameter is what the stack was last deployed with, on every
    // endpoint; its output echoes it.
    given
        .or_else(|| {
            let stack = bootstrap?;
            let parameter = stack
                .parameters()
                .iter()
                .find(|p| p.parameter_key() == Some(PARAMETER))
                .and_then(|p| p.parameter_value());
            Mode::from_recorded(parameter)
        })
        .unwrap_or_default()
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Plan {
    /// Sets the mode: the parameter of every unit that takes it.
    pub fn with_mode(mut self, mode: Mode) -> Plan {
        self.mode = mode;
        for planned in &mut self.units {
            if TAKES_MODE.contains(&planned.unit) {
                planned
                    .parameters
                    .insert(PARAMETER.into(), ParamSource::Value(mode.id().into()));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_reaches_the_units_that_take_it() {
        let plan = Plan::new("shop", "us-east-1", "eu-west-1");
        assert_eq!(plan.mode, Mode::ActivePassive);
        let plan = plan.with_mode(Mode::ActiveActive);
        for planned in &plan.units {
            let value = planned.parameters.get(PARAMETER);
            if TAKES_MODE.contains(&planned.unit) {
                assert!(
                    matches!(value, Some(ParamSource::Value(v)) if v == "active-active"),
                    "{:?}: {value:?}",
                    planned.unit
                );
            } else {
                assert!(value.is_none(), "{:?} takes no mode", planned.unit);
            }
        }
    }

    #[test]
    fn records_without_a_mode_are_active_passive() {
        assert_eq!(Mode::from_recorded(None), Some(Mode::ActivePassive));
        assert_eq!(
            Mode::from_recorded(Some("active-active")),
            Some(Mode::ActiveActive)
        );
        assert_eq!(Mode::from_recorded(Some("both")), None);
    }
}
