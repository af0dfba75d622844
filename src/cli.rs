//! The command line, assembled: the global options (`config::GlobalArgs`)
//! and one subcommand per command, each with the arguments its own module
//! defines. Nothing below this module imports it.

use clap::{Parser, Subcommand};
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
