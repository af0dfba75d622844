//! The global options every command takes, and the output format: the
//! flags and `MRAA_*` variables that [`super::Settings`] layers over the
//! configuration file. All `Option`s with no clap default, so that the
//! layering is decided in one place.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

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

    /// How users reach the secondary region: native (Cognito's multi-Region
    /// replication; passwords included) or import (a pool per region, users
    /// imported without passwords) [default: native]
    #[arg(
        long,
        global = true,
        env = "MRAA_USER_REPLICATION",
        value_name = "MODE"
    )]
    pub user_replication: Option<crate::plan::UserReplication>,

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

/// The custom domain of a deployment: what `deploy` serves and `diff`
/// compares with.
#[derive(Debug, Clone, Default, Args)]
pub struct DomainArgs {
    /// Custom domain: the site at NAME, the APIs at api.NAME with Route 53
    /// health checks and failover records (see README, "Custom domain")
    #[arg(long, env = "MRAA_DOMAIN", value_name = "NAME")]
    pub domain: Option<String>,

    /// Route 53 hosted zone for --domain [default: the one zone whose name
    /// is the domain or its closest parent]
    #[arg(long, env = "MRAA_HOSTED_ZONE_ID", value_name = "ID")]
    pub hosted_zone_id: Option<String>,

    /// Remove the custom domain the deployment serves (records, health
    /// checks, the distribution's alias); the data stays. Without it, a
    /// deployed domain is kept
    #[arg(long, env = "MRAA_NO_DOMAIN", conflicts_with_all = ["domain", "hosted_zone_id"])]
    pub no_domain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
    /// A pull-request comment (`diff`); other commands print text.
    Markdown,
}

/// What an error report needs, known even when the settings cannot be
/// resolved: where the credentials come from and whether stdout takes JSON.
#[derive(Debug, Clone, Default)]
pub struct Reporting {
    pub profile: Option<String>,
    pub json: bool,
}

impl GlobalArgs {
    /// Flags and environment first, then the configuration file if it can
    /// be read (an unreadable one is reported as the error itself).
    pub fn reporting(&self) -> Reporting {
        let file = self
            .config
            .as_deref()
            .and_then(|path| super::FileConfig::load(path).ok())
            .unwrap_or_default();
        Reporting {
            profile: self.profile.clone().or(file.profile),
            json: self.output.or(file.output) == Some(OutputFormat::Json),
        }
    }
}
