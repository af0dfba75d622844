//! Cross-region wiring: what no single-region template can express. Each step
//! is idempotent, makes no mutating call when the world already matches, and
//! is verified through the service's own API afterwards.

pub mod admin;
pub mod cloudfront;
pub mod dns;
pub mod dns_identity;
pub mod dns_removal;
pub mod dynamodb;
pub mod replica_settings;
pub mod route53;
pub mod s3;
pub mod site;

use serde::Serialize;

use crate::context::Change;

/// The result of checking one effect through the service's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// The endpoint cannot show the effect (an emulator's gap): never `ok`.
    Unverified(String),
}

/// What a wiring step did, and what was verified where.
#[derive(Debug, Clone)]
pub struct WireOutcome {
    pub change: Change,
    pub checks: Vec<(String, Verdict)>,
}

impl WireOutcome {
    pub fn new(change: Change) -> Self {
        WireOutcome {
            change,
            checks: Vec::new(),
        }
    }

    pub fn check(&mut self, region: &str, verdict: Verdict) {
        self.checks.push((region.to_string(), verdict));
    }

    pub fn mark(&mut self, changed: bool) {
        if changed && self.change == Change::Unchanged {
            self.change = Change::Updated;
        }
    }
}
