//! Errors users see, and the exit codes they map to.
//!
//! Exit codes (documented in the README):
//! 0 success · 1 an operation failed · 2 bad input or configuration (nothing
//! was done) · 3 the deployment is degraded or missing · 4 a region did not
//! answer · 5 the credentials are missing, expired or rejected, or access was
//! denied · 130 interrupted (Ctrl-C) · 141 stdout closed by its reader.

use std::path::PathBuf;

use thiserror::Error;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_DEGRADED: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
/// Credentials and access, never taken for an outage: the fix is the
/// operator's identity, not waiting for a region.
pub const EXIT_CREDENTIALS: u8 = 5;
/// stdout was closed by its reader (128 + SIGPIPE, as tools killed by it).
pub const EXIT_CLOSED_PIPE: u8 = 141;
/// Interrupted by Ctrl-C (128 + SIGINT, the shells' convention).
pub const EXIT_INTERRUPTED: u8 = 130;

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

    #[error("--notify {value}: {reason}")]
    InvalidNotify { value: String, reason: String },

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

/// What is wrong with the caller's credentials or access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// No credentials were found anywhere the SDK looks.
    Missing,
    /// Found, but their session has expired.
    Expired,
    /// Found, but AWS does not recognise them (unknown key, bad signature).
    Invalid,
    /// Recognised, but not allowed this call.
    Denied,
}

/// A call refused for the caller's credentials or access: which call, in
/// which region, AWS's answer, and where the credentials came from (filled
/// in by [`MraaError::with_credential_source`] once the settings are known).
#[derive(Debug, Clone)]
pub struct AccessError {
    pub kind: AccessKind,
    /// The call, as `service:Operation` or the resource it was about.
    pub call: String,
    pub region: String,
    pub cause: String,
    pub credentials: Option<String>,
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (call, region, cause) = (&self.call, &self.region, &self.cause);
        let from = self
            .credentials
            .as_deref()
            .map(|c| format!(" (from {c})"))
            .unwrap_or_default();
        match self.kind {
            AccessKind::Missing => write!(
                f,
                "no AWS credentials found{from} for {call} in {region}: {cause}"
            ),
            AccessKind::Expired => write!(
                f,
                "the AWS credentials{from} have expired: {call} in {region} answered {cause}"
            ),
            AccessKind::Invalid => write!(
                f,
                "the AWS credentials{from} were rejected: {call} in {region} answered {cause}"
            ),
            AccessKind::Denied => write!(
                f,
                "access denied to the AWS credentials{from}: {call} in {region} answered {cause}"
            ),
        }
    }
}

impl std::error::Error for AccessError {}

/// Every error a command can end with.
#[derive(Debug, Error)]
pub enum MraaError {
    #[error(transparent)]
    Input(#[from] InputError),

    /// Credentials missing, expired or rejected, or access denied: exit 5,
    /// never taken for a region that did not answer.
    #[error(transparent)]
    Credentials(AccessError),

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
            MraaError::Input(_) => EXIT_USAGE,
            MraaError::Credentials(_) => EXIT_CREDENTIALS,
            MraaError::Busy(_) | MraaError::Refused(_) | MraaError::Aws(_) | MraaError::Io(_) => {
                EXIT_FAILED
            }
            MraaError::Unreachable { .. } => EXIT_UNREACHABLE,
            MraaError::NotDeployed { .. } => EXIT_DEGRADED,
        }
    }

    /// The command that retries or fixes this after `command` failed, when
    /// there is one. Only deploy and teardown resume where they stopped;
    /// refusals and bad input say what to do in their own message.
    pub fn next_step(&self, command: &str) -> Option<String> {
        match self {
            MraaError::Aws(_) => Some(match command {
                "deploy" => {
                    "fix the cause above, then run `mraa deploy` again: it resumes where it stopped"
                        .to_string()
                }
                "teardown" => {
                    "fix the cause above, then run `mraa teardown` again: it finishes the job"
                        .to_string()
                }
                other => format!("fix the cause above, then run `mraa {other}` again"),
            }),
            MraaError::Busy(_) => {
                Some("wait for it to finish (`mraa status`), then run the command again".into())
            }
            MraaError::Credentials(access) => Some(
                match access.kind {
                    AccessKind::Missing => {
                        "set AWS_PROFILE or --profile, export AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY, or run `aws sso login`; then run the command again"
                    }
                    AccessKind::Expired => {
                        "refresh the credentials (`aws sso login`, or new keys), then run the \
                         command again"
                    }
                    AccessKind::Invalid => {
                        "check --profile/AWS_PROFILE or AWS_ACCESS_KEY_ID (`aws sts \
                         get-caller-identity` shows whose they are), then run the command again"
                    }
                    AccessKind::Denied => {
                        "allow the call to this identity (`mraa permissions --for all` prints \
                         the policy mraa needs), then run the command again"
                    }
                }
                .to_string(),
            ),
            _ => None,
        }
    }

    /// The same error naming where the credentials came from, once known.
    pub fn with_credential_source(self, source: &str) -> MraaError {
        match self {
            MraaError::Credentials(mut access) if access.credentials.is_none() => {
                access.credentials = Some(source.to_string());
                MraaError::Credentials(access)
            }
            other => other,
        }
    }

    /// A short name for the kind of error, for JSON consumers.
    pub fn kind(&self) -> &'static str {
        match self {
            MraaError::Input(_) => "input",
            MraaError::Credentials(_) => "credentials",
            MraaError::Busy(_) => "busy",
            MraaError::Refused(_) => "refused",
            MraaError::Aws(_) => "aws",
            MraaError::NotDeployed { .. } => "not_deployed",
            MraaError::Unreachable { .. } => "unreachable",
            MraaError::Io(_) => "io",
        }
    }
}

pub type Result<T, E = MraaError> = std::result::Result<T, E>;
