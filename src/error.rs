//! Errors users see, and the exit codes they map to.
//!
//! Exit codes (documented in the README):
//! 0 success · 1 an operation failed · 2 bad input or configuration (nothing
//! was done) · 3 the deployment is degraded or missing · 4 a region did not
//! answer.

use std::path::PathBuf;

use thiserror::Error;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_DEGRADED: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;

/// Bad input: refused before any AWS call, exit code 2. Every message is one
/// line and names the offending value and where it came from.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("unknown {role} region `{region}`{}", hint_suggestion(.suggestion))]
    UnknownRegion {
        region: String,
        role: &'static str,
        suggestion: Option<&'static str>,
    },

    #[error(
        "the secondary region must differ from the primary (both are {region}); pick another --secondary"
    )]
    SameRegions { region: String },

    #[error(
        "no secondary region: pass --secondary REGION, set MRAA_SECONDARY, or add `secondary:` to the config file"
    )]
    MissingSecondary,

    #[error(
        "no primary region: pass --primary REGION, set AWS_REGION, or set `region` in the AWS profile"
    )]
    MissingPrimary,

    #[error("invalid app name `{name}`: {reason}")]
    InvalidAppName { name: String, reason: &'static str },

    #[error(
        "app name `{name}` is too long: bucket `{bucket}` would be {len} characters, S3 allows 63; use at most {max} characters"
    )]
    AppNameTooLong {
        name: String,
        bucket: String,
        len: usize,
        max: usize,
    },

    #[error("invalid admin e-mail `{0}`: expected an address like admin@example.com")]
    InvalidEmail(String),

    #[error(
        "invalid admin phone `{0}`: expected E.164, a + and up to 15 digits, like +15555550100"
    )]
    InvalidPhone(String),

    #[error("invalid admin name `{0}`: expected 1 to 128 printable characters")]
    InvalidAdminName(String),

    #[error("invalid endpoint URL `{0}`: expected http://host[:port] or https://host[:port]")]
    InvalidEndpoint(String),

    #[error(
        "invalid allowed origin `{0}`: expected * or an origin such as https://photos.example.com (no path)"
    )]
    InvalidOrigin(String),

    #[error("invalid domain `{domain}`: {reason}")]
    InvalidDomain {
        domain: String,
        reason: &'static str,
    },

    #[error(
        "invalid hosted zone id `{0}`: expected the id Route 53 shows, like Z0123456789ABCDEFGHIJ"
    )]
    InvalidHostedZoneId(String),

    #[error("--hosted-zone-id needs --domain: the zone is where the records of that domain go")]
    HostedZoneWithoutDomain,

    #[error(
        "--secondary {given} does not match the deployment, which records {recorded} as its secondary region"
    )]
    SecondaryMismatch { given: String, recorded: String },

    #[error(
        "--user-replication native: Cognito's multi-Region replication cannot be deployed in \
         {region} (CloudFormation offers no AWS::Cognito::UserPoolReplica there); use \
         --user-replication import, or a region pair where both offer it"
    )]
    NativeReplicationUnavailable { region: String },

    #[error(
        "--user-replication {given}: this deployment replicates users by {recorded}, and \
         changing it would leave the {recorded} mode's pools behind; deploy with \
         --user-replication {recorded}, or `mraa teardown --delete-data` first"
    )]
    UserReplicationMismatch { given: String, recorded: String },

    #[error("cannot read config file {}: {reason}", path.display())]
    ConfigUnreadable { path: PathBuf, reason: String },

    #[error("config file {}{}: {message}", path.display(), at_line(*line))]
    ConfigMalformed {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("cannot write {}: {reason}", path.display())]
    OutputUnwritable { path: PathBuf, reason: String },
}

fn hint_suggestion(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(region) => format!("; did you mean `{region}`?"),
        None => "; expected a region code such as us-east-1 or ap-northeast-1".to_string(),
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map(|line| format!(", line {line}"))
        .unwrap_or_default()
}

/// A failed AWS operation, at a named place: which unit (layer or wiring
/// step), which region, which resource, and the root cause AWS gave.
#[derive(Debug, Error)]
#[error("{unit} in {region}: {resource}: {cause}")]
pub struct AwsError {
    pub unit: String,
    pub region: String,
    pub resource: String,
    pub cause: String,
}

/// Every error a command can end with.
#[derive(Debug, Error)]
pub enum MraaError {
    #[error(transparent)]
    Input(#[from] InputError),

    #[error("AWS credentials are missing or invalid: {0}")]
    Credentials(String),

    #[error("{0}")]
    Busy(String),

    /// Refused before any change, for a reason the message explains.
    #[error("{0}")]
    Refused(String),

    #[error(transparent)]
    Aws(#[from] AwsError),

    #[error(
        "no deployment of app {app} found in {region} (no stack mraa-{app}-bootstrap); deploy it with `mraa deploy`, or name another --app/--primary"
    )]
    NotDeployed { app: String, region: String },

    #[error("region {region} did not answer: {cause}")]
    Unreachable { region: String, cause: String },

    #[error("{0}")]
    Io(String),
}

impl MraaError {
    pub fn exit_code(&self) -> u8 {
        match self {
            MraaError::Input(_) | MraaError::Credentials(_) => EXIT_USAGE,
            MraaError::Busy(_) | MraaError::Refused(_) | MraaError::Aws(_) | MraaError::Io(_) => {
                EXIT_FAILED
            }
            MraaError::Unreachable { .. } => EXIT_UNREACHABLE,
            MraaError::NotDeployed { .. } => EXIT_DEGRADED,
        }
    }

    /// The command that retries or fixes this, when there is one.
    pub fn next_step(&self) -> Option<&'static str> {
        match self {
            MraaError::Aws(_) => Some(
                "fix the cause above, then run `mraa deploy` again: it resumes where it stopped",
            ),
            MraaError::Busy(_) => {
                Some("wait for it to finish (`mraa status`), then run the command again")
            }
            _ => None,
        }
    }
}

pub type Result<T, E = MraaError> = std::result::Result<T, E>;
