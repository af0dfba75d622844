use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match mraa::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return ExitCode::from(mraa::ui::report_usage(err)),
    };
    // Not locked: the progress reporter writes JSON events to stdout from
    // other tasks while the command runs.
    let code = mraa::run(cli, &mut std::io::stdout()).await;
    ExitCode::from(code)
}
