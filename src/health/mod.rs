//! Checks of a deployment's health, each through the service's own API:
//! what `mraa status` shows and what the state commands check before they
//! switch. A check is `ok`, `degraded`, `missing`, `unverified` (the
//! endpoint cannot show it) or `unreachable`.

pub mod alarms;
pub mod lag;
pub mod links;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Unverified,
    Degraded,
    Missing,
    Unreachable,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Unverified => "unverified",
            Health::Degraded => "degraded",
            Health::Missing => "missing",
            Health::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `unit`, `link`, `lag`, `alarm` or `state`.
    pub kind: &'static str,
    pub name: String,
    pub region: String,
    pub status: Health,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

impl Check {
    pub fn link(name: &str, region: &str, status: Health, detail: String) -> Check {
        Check {
            kind: "link",
            name: name.to_string(),
            region: region.to_string(),
            status,
            detail,
            updated: None,
        }
    }
}
