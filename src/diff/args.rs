//! `mraa diff`'s own arguments: those of `deploy` that decide what would be
//! deployed, and `--drift`.

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub custom_domain: crate::config::DomainArgs,

    /// How the two Regions serve: active-passive or active-active (as
    /// `mraa deploy --mode`) [default: the deployment's own, else active-passive]
    #[arg(long, env = "MRAA_MODE", value_name = "MODE")]
    pub mode: Option<crate::plan::Mode>,

    /// Also run CloudFormation drift detection on every stack of the
    /// deployment and list what was changed outside mraa
    #[arg(long)]
    pub drift: bool,
}
