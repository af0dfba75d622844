use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match mraa::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let command = mraa::cli::command_named();
            let code = mraa::ui::report_usage(err);
            return ExitCode::from(mraa::cli::error_code(command.as_deref(), code));
        }
    };
    // Not locked: the progress reporter writes JSON events to stdout from
    // other tasks while the command runs.
    let code = mraa::run(cli, &mut std::io::stdout()).await;
    ExitCode::from(code)
}
