use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = mraa::cli::Cli::parse();
    let code = mraa::run(cli, &mut std::io::stdout().lock()).await;
    ExitCode::from(code)
}
