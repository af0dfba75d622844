//! `mraa deploy`'s own arguments (the global ones are `config::GlobalArgs`).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct DeployArgs {
    /// Also write the endpoints (site URL, API URLs, buckets, tables, user
    /// pools) to this file as JSON
    #[arg(long, value_name = "PATH")]
    pub outputs_file: Option<PathBuf>,

    /// How the two Regions serve: active-passive (the primary serves, the
    /// secondary takes over) or active-active (both serve; `mraa drain`
    /// takes one out) [default: the deployment's own, else active-passive]
    #[arg(long, env = "MRAA_MODE", value_name = "MODE")]
    pub mode: Option<crate::plan::Mode>,

    /// Who CloudWatch alarms on replication wake: an e-mail address
    /// (repeatable, up to 5; each confirms the subscription AWS mails it),
    /// or an SNS topic ARN in each of the two Regions. Without it, no alarms
    #[arg(long, value_name = "EMAIL|TOPIC_ARN")]
    pub notify: Vec<String>,

    #[command(flatten)]
    pub admin: AdminArgs,

    #[command(flatten)]
    pub custom_domain: crate::config::DomainArgs,
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
