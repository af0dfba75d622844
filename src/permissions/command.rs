//! `mraa permissions [--for deploy|status|state|teardown|all]`: prints the
//! operator policy as JSON on stdout, offline (no credentials, no AWS call).

use std::io::Write;

use crate::error::{EXIT_OK, MraaError, Result};

use super::{Purpose, policy};

#[derive(Debug, Clone, clap::Args)]
pub struct PermissionsArgs {
    /// The commands the policy must allow.
    #[arg(long = "for", value_enum, default_value = "all")]
    pub purpose: Purpose,
}

pub fn run(app: &str, args: &PermissionsArgs, out: &mut dyn Write) -> Result<u8> {
    let text = serde_json::to_string_pretty(&policy(args.purpose, app))
        .map_err(|e| MraaError::Io(format!("cannot encode the policy: {e}")))?;
    writeln!(out, "{text}").map_err(|e| MraaError::Io(format!("cannot write the policy: {e}")))?;
    Ok(EXIT_OK)
}
