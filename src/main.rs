use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match mraa::cli::parse() {
        Ok(cli) => cli,
        Err(err) => {
            let command = mraa::cli::command_named();
            if err.kind() == clap::error::ErrorKind::DisplayHelp
                && let Some(help) = command.as_deref().and_then(mraa::cli::subcommand_help)
            {
                print!("{help}");
                return ExitCode::SUCCESS;
            }
            let code = mraa::cli::error_code(command.as_deref(), mraa::error::EXIT_USAGE);
            let json = mraa::cli::json_requested();
            return ExitCode::from(mraa::ui::report_usage(err, command.as_deref(), json, code));
        }
    };
    // Not locked: the progress reporter writes JSON events to stdout from
    // other tasks while the command runs.
    let code = mraa::run(cli, &mut std::io::stdout()).await;
    ExitCode::from(code)
}
