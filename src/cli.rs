//! The command line, assembled: the global options (`config::GlobalArgs`)
//! and one subcommand per command, each with the arguments its own module
//! defines. Nothing below this module imports it.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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

/// The exit codes, as each command's help ends (README, "Output and exit
/// codes").
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 ok · 1 an operation failed · 2 bad input, nothing changed · 4 a region \
         did not answer · 5 credentials missing, expired or rejected, or access denied · 130 \
         interrupted"
    };
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy (or update) every unit to both regions and wire them together
    #[command(after_help = concat!(
        "Examples:\n  mraa deploy --secondary ap-northeast-1\n  \
         mraa deploy --app shop --secondary eu-west-1 --domain shop.example.com --yes\n  \
         mraa deploy --output json --outputs-file endpoints.json\n\n",
        exit_codes!(),
        "; run it again after a failure: it resumes where it stopped"
    ))]
    Deploy(crate::deploy::DeployArgs),
    /// Show what a deploy would change in every unit and region (and, with --drift, what changed
    /// behind the deployment's back); exit 0 no changes, 2 changes
    #[command(
        after_help = "Examples:\n  mraa diff\n  mraa diff --drift --output markdown\n\n\
        Exit codes: 0 no changes · 2 changes (or drift) · 1 an error, bad input included · 4 a \
        region did not answer · 5 credentials missing, expired or rejected, or access denied"
    )]
    Diff(crate::diff::DiffArgs),
    /// Show what is deployed, whether it is healthy, and the application state
    #[command(
        after_help = "Examples:\n  mraa status\n  mraa status --app shop --output json\n  \
        mraa status --secondary eu-west-1    # with the primary down\n\n\
        Exit codes: 0 ok · 2 bad input · 3 degraded, missing or not deployed · 4 a region did not \
        answer · 5 credentials missing, expired or rejected, or access denied"
    )]
    Status,
    /// Switch the application to the secondary region (read-only); works while the primary is down
    #[command(after_help = concat!(
        "Examples:\n  mraa failover --reason \"us-east-1 outage\"\n  \
         mraa failover --secondary eu-west-1 --reason drill --yes\n\n",
        exit_codes!()
    ))]
    Failover(crate::state::StateArgs),
    /// Make the application read-only in the primary region
    #[command(after_help = concat!(
        "Examples:\n  mraa fence --reason \"maintenance\"\n\n",
        exit_codes!()
    ))]
    Fence(crate::state::StateArgs),
    /// Return the application to normal operation in the primary region
    #[command(after_help = concat!(
        "Examples:\n  mraa activate --reason \"maintenance done\"\n\n",
        exit_codes!()
    ))]
    Activate(crate::state::StateArgs),
    /// Active-active: take a Region out of serving (DNS and users move to the other); data plane only
    #[command(after_help = concat!(
        "Examples:\n  mraa drain eu-west-1 --reason \"maintenance\"\n\n",
        exit_codes!()
    ))]
    Drain(crate::state::ServingArgs),
    /// Active-active: put a drained Region back into serving
    #[command(after_help = concat!(
        "Examples:\n  mraa return eu-west-1 --reason \"maintenance done\"\n\n",
        exit_codes!()
    ))]
    Return(crate::state::ServingArgs),
    /// Rehearse recovery on the live deployment: measure RPO (and, with --failover, RTO) against
    /// the objectives; puts back everything it changes
    #[command(after_help = concat!(
        "Examples:\n  mraa drill --reason \"quarterly rehearsal\"\n  \
         mraa drill --failover --reason \"quarterly rehearsal\" --output markdown\n\n",
        "Exit codes: 0 every objective met · 1 an operation failed · 2 bad input, nothing \
         changed · 3 an objective missed (named) · 4 a region did not answer · 5 credentials \
         missing, expired or rejected, or access denied · 130 interrupted"
    ))]
    Drill(crate::drill::DrillArgs),
    /// Render every template and the deployment manifest; makes no AWS call
    #[command(
        after_help = "Examples:\n  mraa render --secondary eu-west-1 --out rendered/\n\n\
        Exit codes: 0 ok · 1 a template could not be written · 2 bad input"
    )]
    Render(crate::render::RenderArgs),
    /// Delete everything mraa made for the app in both regions; data is kept unless --delete-data
    #[command(after_help = concat!(
        "Examples:\n  mraa teardown\n  mraa teardown --app shop --delete-data --yes\n\n",
        exit_codes!(),
        "; run it again after a failure: it finishes the job"
    ))]
    Teardown(crate::teardown::TeardownArgs),
    /// Print the least-privilege IAM policy an operator or CI role needs; makes no AWS call
    #[command(
        after_help = "Examples:\n  mraa permissions --app shop --for all > policy.json\n\n\
        Exit codes: 0 ok · 2 bad input"
    )]
    Permissions(crate::permissions::PermissionsArgs),
    /// Print a shell completion script
    #[command(after_help = "Examples:\n  mraa completions bash > /etc/bash_completion.d/mraa")]
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
}

/// The global flags each command reads (by clap id); the others stay
/// accepted everywhere but are hidden from that command's help.
const READS: &[(&str, &[&str])] = &[
    (
        "deploy",
        &[
            "app",
            "primary",
            "secondary",
            "profile",
            "endpoint_url",
            "allowed_origin",
            "user_replication",
            "config",
            "output",
            "verbose",
            "quiet",
            "no_color",
            "yes",
        ],
    ),
    (
        "diff",
        &[
            "app",
            "primary",
            "secondary",
            "profile",
            "endpoint_url",
            "allowed_origin",
            "user_replication",
            "config",
            "output",
            "verbose",
            "quiet",
            "no_color",
        ],
    ),
    (
        "status",
        &[
            "app",
            "primary",
            "secondary",
            "profile",
            "endpoint_url",
            "config",
            "output",
            "verbose",
            "quiet",
            "no_color",
        ],
    ),
    ("failover", STATE_READS),
    ("fence", STATE_READS),
    ("activate", STATE_READS),
    ("drill", STATE_READS),
    ("drain", STATE_READS),
    ("return", STATE_READS),
    (
        "render",
        &[
            "app",
            "primary",
            "secondary",
            "allowed_origin",
            "user_replication",
            "config",
            "verbose",
            "quiet",
        ],
    ),
    (
        "teardown",
        &[
            "app",
            "primary",
            "secondary",
            "profile",
            "endpoint_url",
            "config",
            "output",
            "verbose",
            "quiet",
            "no_color",
            "yes",
        ],
    ),
    ("permissions", &["app", "primary", "secondary", "config"]),
    ("completions", &[]),
];

const STATE_READS: &[&str] = &[
    "app",
    "primary",
    "secondary",
    "profile",
    "endpoint_url",
    "config",
    "output",
    "verbose",
    "quiet",
    "no_color",
    "yes",
];

/// The help of subcommand `name`, showing only the global flags it reads
/// (the others stay accepted, hidden). `None` for a name without a table.
pub fn subcommand_help(name: &str) -> Option<String> {
    let reads = READS.iter().find(|(n, _)| *n == name)?.1;
    let mut command = Cli::command();
    // Propagates the global flags into the subcommands (and their usage
    // line), so that they can be hidden there; only rendered, never parsed.
    command.build();
    let sub = command.find_subcommand(name)?.clone();
    let unread: Vec<String> = sub
        .get_arguments()
        .filter(|a| a.is_global_set() && !reads.contains(&a.get_id().as_str()))
        .map(|a| a.get_id().to_string())
        .collect();
    let mut sub = unread
        .iter()
        .fold(sub, |sub, id| sub.mut_arg(id, |a| a.hide(true)));
    let long = std::env::args().any(|a| a == "--help");
    Some(match long {
        true => sub.render_long_help().to_string(),
        false => sub.render_help().to_string(),
    })
}

/// Parses this process's arguments.
pub fn parse() -> Result<Cli, clap::Error> {
    let mut matches = Cli::command().try_get_matches()?;
    Cli::from_arg_matches_mut(&mut matches)
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
            Command::Drain(_) => "drain",
            Command::Return(_) => "return",
            Command::Drill(_) => "drill",
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
    let command = Cli::command();
    command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(std::env::args_os())
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_string))
        // `--help` ends even the lenient pass: the first word that names one.
        .or_else(|| {
            std::env::args()
                .skip(1)
                .find(|a| command.find_subcommand(a).is_some())
        })
}

/// Whether this process's arguments (or MRAA_OUTPUT) ask for JSON, read
/// without parsing them: for the error object of a command line that does
/// not parse.
pub fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    flag || std::env::var("MRAA_OUTPUT").is_ok_and(|v| v == "json")
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
