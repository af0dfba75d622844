//! What the user sees on stderr: errors and diagnostics. Results go to the
//! writer each command is given.

pub mod progress;

use std::io::{IsTerminal, Write};

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

/// One line per error, `error: ` first, so that CI logs and `grep` work.
pub fn report_error(err: &MraaError, to: &mut dyn Write) {
    let _ = writeln!(to, "error: {err}");
    if let Some(next) = err.next_step() {
        let _ = writeln!(to, "  next: {next}");
    }
}

/// Command-line parse errors in the same one-line shape as every other error
/// (help and version requests are printed as clap renders them).
pub fn report_usage(err: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return if err.use_stderr() {
            crate::error::EXIT_USAGE
        } else {
            crate::error::EXIT_OK
        };
    }
    let rendered = err.render().to_string();
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
        })
        .collect();
    let line = parts.join("; ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    let _ = writeln!(std::io::stderr(), "error: {line} (see `mraa --help`)");
    crate::error::EXIT_USAGE
}
