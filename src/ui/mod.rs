//! What the user sees on stderr: errors and diagnostics. Results go to the
//! writer each command is given.

pub mod echo;
pub mod in_flight;
pub mod progress;
pub mod silence;

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::MraaError;

/// `-v` shows mraa's own steps, `-vv` its debug detail, `-vvv` the AWS SDK's.
pub fn init_logging(verbose: u8, quiet: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "error,mraa=warn",
        (false, 1) => "mraa=info",
        (false, 2) => "mraa=debug",
        (false, _) => "mraa=trace,aws_config=debug,aws_smithy_runtime=debug,aws_sigv4=debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}

/// One line per error, `error: ` first, so that CI logs and `grep` work;
/// then the command that fixes or resumes it, when there is one.
pub fn report_error(err: &MraaError, command: &str, to: &mut dyn Write) {
    let _ = writeln!(to, "error: {err}");
    if let Some(next) = err.next_step(command) {
        let _ = writeln!(to, "  next: {next}");
    }
}

/// The version of the error object's shape.
pub const ERROR_SCHEMA_VERSION: u32 = 1;

/// The error object `--output json` prints on stdout when a command ends in
/// an error, so that a pipeline always reads one JSON document (README,
/// "JSON output").
#[derive(Debug, Serialize)]
pub struct ErrorReport<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub schema_version: u32,
    pub command: &'a str,
    pub exit_code: u8,
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    /// `input`, `credentials`, `busy`, `refused`, `aws`, `not_deployed`,
    /// `unreachable`, `io`, `usage` or `interrupted`.
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// For `credentials`: missing, expired, invalid or denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::error::AccessKind>,
    /// For `credentials`: where they came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

impl ErrorDetail {
    pub fn of(err: &MraaError, command: &str) -> ErrorDetail {
        let (region, problem, credentials) = match err {
            MraaError::Credentials(a) => {
                (Some(a.region.clone()), Some(a.kind), a.credentials.clone())
            }
            MraaError::Aws(a) => (Some(a.region.clone()), None, None),
            MraaError::Unreachable { region, .. } | MraaError::NotDeployed { region, .. } => {
                (Some(region.clone()), None, None)
            }
            _ => (None, None, None),
        };
        ErrorDetail {
            kind: err.kind(),
            message: err.to_string(),
            next: err.next_step(command),
            region,
            problem,
            credentials,
        }
    }
}

impl ErrorDetail {
    /// Ctrl-C: what the run leaves behind is in the message.
    pub fn interrupted(command: &str) -> ErrorDetail {
        ErrorDetail {
            kind: "interrupted",
            message: "interrupted (Ctrl-C)".into(),
            next: Some(format!("`mraa status`, then `mraa {command}` again")),
            region: None,
            problem: None,
            credentials: None,
        }
    }
}

/// After Ctrl-C: what goes on in AWS without mraa, the lock (released by
/// the caller when this run held it: `released`), and the command that
/// resumes.
pub fn report_interrupted(
    command: &str,
    app: Option<&str>,
    primary: Option<&str>,
    released: &crate::lock::Released,
    running: &Result<Vec<in_flight::Running>, String>,
    to: &mut dyn Write,
) {
    let _ = writeln!(to, "interrupted: mraa stopped; nothing more is started");
    if !matches!(
        command,
        "deploy" | "teardown" | "failover" | "fence" | "activate"
    ) {
        return;
    }
    let app = app.unwrap_or(crate::config::DEFAULT_APP);
    let region = primary.unwrap_or("<primary>");
    let _ = match running {
        Ok(running) if running.is_empty() => writeln!(
            to,
            "  CloudFormation: nothing this run started is still in progress"
        ),
        Ok(running) => {
            let _ = writeln!(to, "  still running in CloudFormation (unit, Region):");
            let prefix = format!("mraa-{app}-");
            for r in running {
                let unit = r.name.strip_prefix(&prefix).unwrap_or(&r.name);
                // Short enough for an 80-column terminal: the unit names
                // the stack or StackSet.
                let what = match r.kind {
                    "stack" => format!("stack {}", r.what),
                    _ => r.what.clone(),
                };
                let _ = writeln!(to, "    {unit} {}: {what}", r.region);
            }
            writeln!(
                to,
                "  CloudFormation goes on with them; `mraa status --app {app}` shows where they stand"
            )
        }
        Err(why) => writeln!(
            to,
            "  CloudFormation goes on with the stack and StackSet operations already started \
             ({why}); `mraa status --app {app}` shows where they stand"
        ),
    };
    let release = |name: &str| {
        format!("`aws cloudformation delete-stack --stack-name {name} --region {region}`")
    };
    let _ = match released {
        crate::lock::Released::Released { name } => {
            writeln!(to, "  lock: released (stack {name} deleted)")
        }
        crate::lock::Released::Left { name, why } => writeln!(
            to,
            "  lock: NOT released: stack {name}: {why}; once no mraa command runs, release it \
             with {}",
            release(name)
        ),
        crate::lock::Released::NotHeld => writeln!(
            to,
            "  lock: this run held none; if the stack mraa-{app}-lock is left, the next mraa run \
             on this host takes it over, or release it with {}",
            release(&format!("mraa-{app}-lock"))
        ),
    };
    let _ = writeln!(
        to,
        "  next: run `mraa {command}` again: it resumes where it stopped"
    );
}

/// Writes the error object as one line of JSON.
pub fn write_error_json(
    command: &str,
    exit_code: u8,
    error: ErrorDetail,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let report = ErrorReport {
        kind: "error",
        schema_version: ERROR_SCHEMA_VERSION,
        command,
        exit_code,
        error,
    };
    let line = serde_json::to_string(&report).map_err(std::io::Error::other)?;
    writeln!(out, "{line}")?;
    out.flush()
}

/// Whether a failed write means that the reader of stdout went away
/// (`mraa status | head -1`): the command then ends quietly.
pub fn is_closed_pipe(err: &MraaError) -> bool {
    matches!(err, MraaError::Io(text) if text.contains("Broken pipe") || text.contains("os error 32"))
}

/// Command-line parse errors as clap renders them, every line kept (help
/// and version requests are printed the same way, on stdout). `error_code`
/// is the exit code a parse error ends with for this command. With
/// `--output json` on the command line, the error object goes to stdout too.
pub fn report_usage(err: clap::Error, command: Option<&str>, json: bool, error_code: u8) -> u8 {
    let _ = err.print();
    if !err.use_stderr() {
        return crate::error::EXIT_OK;
    }
    if json && err.kind() != clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let rendered = err.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        let detail = ErrorDetail {
            kind: "usage",
            message,
            next: Some(format!(
                "see `mraa {}--help`",
                command.map(|c| format!("{c} ")).unwrap_or_default()
            )),
            region: None,
            problem: None,
            credentials: None,
        };
        let _ = write_error_json(
            command.unwrap_or("mraa"),
            error_code,
            detail,
            &mut std::io::stdout(),
        );
    }
    error_code
}
