//! `mraa permissions [--for deploy|status|state|teardown|diff|drill|all]`: prints
//! the operator policy of one app, in its two regions (`--primary`,
//! `--secondary`) and, with `--account`, one account, as JSON on stdout,
//! offline (no credentials, no AWS call).

use std::io::Write;

use crate::config::Settings;
use crate::error::{EXIT_OK, MraaError, Result};

use super::{Purpose, Scope, policy};

#[derive(Debug, Clone, clap::Args)]
pub struct PermissionsArgs {
    /// The commands the policy must allow.
    #[arg(long = "for", value_enum, default_value = "all")]
    pub purpose: Purpose,

    /// The AWS account (12 digits) the policy is limited to; any account
    /// when not given
    #[arg(long, value_name = "ID", value_parser = account_id)]
    pub account: Option<String>,
}

fn account_id(text: &str) -> std::result::Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not an AWS account id: expected 12 digits, like 123456789012"
        ))
    }
}

pub fn run(settings: &Settings, args: &PermissionsArgs, out: &mut dyn Write) -> Result<u8> {
    // The regions are the deployment's: the policy denies every other one.
    let secondary = settings.require_secondary()?;
    let scope =
        Scope::new(&settings.app, &settings.primary, secondary).with_account(args.account.clone());
    let text = serde_json::to_string_pretty(&policy(args.purpose, &scope))
        .map_err(|e| MraaError::Io(format!("cannot encode the policy: {e}")))?;
    writeln!(out, "{text}").map_err(|e| MraaError::Io(format!("cannot write the policy: {e}")))?;
    Ok(EXIT_OK)
}
