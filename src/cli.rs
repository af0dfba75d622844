//! The command line, assembled: the global options (`config::GlobalArgs`)
//! and one subcommand per command, each with the arguments its own module
//! defines. Nothing below this module imports it.

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::config::GlobalArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mraa",
    version,
    about = "Provision and operate the Multi-Region Application Architecture on AWS",
    long_about = "mraa renders the CloudFormation templates of a multi-region application, \
                  rolls them out as StackSets to a primary and a secondary region, wires \
                  cross-region replication, and switches the application between its \
                  active, fenced and failover states."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy (or update) every unit to both regions and wire them together
    Deploy(crate::deploy::DeployArgs),
    /// Show what a deploy would change in every unit and region (and, with --drift, what changed
    /// behind the deployment's back); exit 0 no changes, 2 changes
    Diff(crate::diff::DiffArgs),
    /// Show what is deployed, whether it is healthy, and the application state
    Status,
    /// Switch the application to the secondary region (read-only); works while the primary is down
    Failover(crate::state::StateArgs),
    /// Make the application read-only in the primary region
    Fence(crate::state::StateArgs),
    /// Return the application to normal operation in the primary region
    Activate(crate::state::StateArgs),
    /// Render every template and the deployment manifest; makes no AWS call
    Render(crate::render::RenderArgs),
    /// Delete everything mraa made for the app in both regions; data is kept unless --delete-data
    Teardown(crate::teardown::TeardownArgs),
    /// Print the least-privilege IAM policy an operator or CI role needs; makes no AWS call
    Permissions(crate::permissions::PermissionsArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
}

impl Command {
    /// The subcommand's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Deploy(_) => "deploy",
            Command::Diff(_) => "diff",
            Command::Status => "status",
            Command::Failover(_) => "failover",
            Command::Fence(_) => "fence",
            Command::Activate(_) => "activate",
            Command::Render(_) => "render",
            Command::Teardown(_) => "teardown",
            Command::Permissions(_) => "permissions",
            Command::Completions { .. } => "completions",
        }
    }
}

/// The subcommand of this process's arguments, when they name one, even if
/// they fail to parse: clap's lenient pass still finds it.
pub fn command_named() -> Option<String> {
    Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(std::env::args_os())
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_string))
}

/// The exit code of a failed command. `mraa diff` keeps 2 for "changes", so
/// every error of its own, bad input included, is 1: the convention of
/// `terraform plan -detailed-exitcode`.
pub fn error_code(command: Option<&str>, code: u8) -> u8 {
    match (command, code) {
        (Some("diff"), crate::error::EXIT_USAGE) => crate::error::EXIT_FAILED,
        _ => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_errors_never_exit_2() {
        assert_eq!(error_code(Some("diff"), 2), 1);
        assert_eq!(error_code(Some("diff"), 4), 4);
        assert_eq!(error_code(Some("deploy"), 2), 2);
        assert_eq!(error_code(None, 2), 2);
    }
}
