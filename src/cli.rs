//! The command line: global options shared by every command, and one
//! subcommand per operation. Options are all `Option`s with no clap default,
//! so that `config::Settings` can layer flags > environment > file > defaults
//! in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

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

#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Application name: lower-case letters, digits and hyphens [default: mraa]
    #[arg(long, global = true, env = "MRAA_APP", value_name = "NAME")]
    pub app: Option<String>,

    /// Primary region [default: the region of the AWS profile/environment]
    #[arg(long, global = true, env = "MRAA_PRIMARY", value_name = "REGION")]
    pub primary: Option<String>,

    /// Secondary (failover) region
    #[arg(long, global = true, env = "MRAA_SECONDARY", value_name = "REGION")]
    pub secondary: Option<String>,

    /// AWS shared-config profile to use
    #[arg(long, global = true, env = "MRAA_PROFILE", value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Send every AWS call to this endpoint (an emulator); AWS_ENDPOINT_URL is honoured too
    #[arg(long, global = true, env = "MRAA_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Origin the regional APIs admit (CORS), e.g. https://photos.example.com [default: *]
    #[arg(
        long,
        global = true,
        env = "MRAA_ALLOWED_ORIGIN",
        value_name = "ORIGIN"
    )]
    pub allowed_origin: Option<String>,

    /// YAML configuration file (see examples/mraa.yaml)
    #[arg(long, global = true, env = "MRAA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Result format on stdout [default: text]
    #[arg(long, global = true, env = "MRAA_OUTPUT", value_name = "FORMAT")]
    pub output: Option<OutputFormat>,

    /// More detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Never colour the output (NO_COLOR is honoured too)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Answer yes to confirmations (required for destructive commands without a TTY)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy (or update) every unit to both regions and wire them together
    Deploy(crate::deploy::DeployArgs),
    /// Show what is deployed, whether it is healthy, and the application state
    Status,
    /// Switch the application to the secondary region (read-only); works while the primary is down
    Failover(crate::state::StateArgs),
    /// Make the application read-only in the primary region
    Fence(crate::state::StateArgs),
    /// Return the application to normal operation in the primary region
    Activate(crate::state::StateArgs),
    /// Render every template and the deployment manifest; makes no AWS call
    Render(RenderArgs),
    /// Delete everything mraa made for the app in both regions; data is kept unless --delete-data
    Teardown(crate::teardown::TeardownArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct RenderArgs {
    /// Write the rendered templates and manifest.json into this directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Include the custom domain's units (as `mraa deploy --domain NAME`)
    #[arg(long, env = "MRAA_DOMAIN", value_name = "NAME")]
    pub domain: Option<String>,

    /// Route 53 hosted zone for --domain [default: looked up at deploy]
    #[arg(long, env = "MRAA_HOSTED_ZONE_ID", value_name = "ID")]
    pub hosted_zone_id: Option<String>,
}

/// The administrator user the original solution creates in the primary
/// user pool. All optional; validated before any AWS call.
#[derive(Debug, Clone, Default, Args)]
pub struct AdminArgs {
    /// Name of the admin user to create in the primary user pool
    #[arg(long, env = "MRAA_ADMIN_NAME", value_name = "NAME")]
    pub admin_name: Option<String>,

    /// E-mail address of the admin user; Cognito sends it a temporary password
    #[arg(long, env = "MRAA_ADMIN_EMAIL", value_name = "EMAIL")]
    pub admin_email: Option<String>,

    /// Phone number of the admin user, E.164 (+15555550100)
    #[arg(long, env = "MRAA_ADMIN_PHONE", value_name = "PHONE")]
    pub admin_phone: Option<String>,
}
