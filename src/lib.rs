//! mraa: provision and operate the Multi-Region Application Architecture.

pub mod app_state;
pub mod aws;
pub mod cfn;
pub mod cli;
pub mod config;
pub mod confirm;
pub mod context;
pub mod deploy;
pub mod diff;
pub mod discover;
pub mod drill;
pub mod error;
pub mod health;
#[cfg(test)]
mod layering;
pub mod lock;
pub mod names;
pub mod permissions;
pub mod plan;
pub mod pool_replica;
pub mod regions;
pub mod render;
pub mod state;
pub mod status;
pub mod switch;
pub mod teardown;
pub mod ui;
pub mod wire;

use std::io::Write;

use clap::CommandFactory;

use cli::{Cli, Command};
use config::Settings;
use error::{EXIT_OK, Result};

/// Runs one command line and returns its exit code. Results go to `out`;
/// progress and errors go to stderr.
pub async fn run(cli: Cli, out: &mut dyn Write) -> u8 {
    run_with(cli, out, &mut std::io::stderr()).await
}

/// The same with the messages (warnings, errors, prompts, the plan shown
/// before a confirmation) written to `messages`, so that a test can read
/// them as a string.
pub async fn run_with(cli: Cli, out: &mut dyn Write, messages: &mut dyn Write) -> u8 {
    ui::init_logging(cli.global.verbose, cli.global.quiet);
    let command = cli.command.name();
    let reporting = cli.global.reporting();
    let app = cli.global.app.clone();
    let primary = cli.global.primary.clone().or_else(|| {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
    });
    // Ctrl-C drops the command's future: its progress rows are ended (the
    // reporter's drop), and what goes on without mraa is said below.
    let outcome = tokio::select! {
        outcome = dispatch(cli, out, messages) => Some(outcome),
        _ = interrupted() => None,
    };
    let Some(outcome) = outcome else {
        // Tasks of the run may still hold its reporter: its rows are ended
        // here, before the message that goes below them.
        ui::progress::end_all_rows("interrupted");
        // The run's lock, released here (its slot went with the run), and
        // CloudFormation asked, at the same time, what of the run goes on.
        let (released, running) = tokio::join!(
            lock::release_held(LOCK_RELEASE_LIMIT),
            ui::in_flight::still_running(LOCK_RELEASE_LIMIT)
        );
        ui::report_interrupted(
            command,
            app.as_deref(),
            primary.as_deref(),
            &released,
            &running,
            messages,
        );
        if reporting.json {
            let detail = ui::ErrorDetail::interrupted(command);
            let _ = ui::write_error_json(command, error::EXIT_INTERRUPTED, detail, out);
        }
        return error::EXIT_INTERRUPTED;
    };
    match outcome {
        Ok(code) => code,
        // The reader of stdout went away (`mraa status | head -1`): nothing
        // to tell, and no one to tell it to.
        Err(err) if ui::is_closed_pipe(&err) => error::EXIT_CLOSED_PIPE,
        Err(err) => {
            let err =
                err.with_credential_source(&aws::credential_source(reporting.profile.as_deref()));
            let code = cli::error_code(Some(command), err.exit_code());
            ui::report_error(&err, command, messages);
            if reporting.json {
                let detail = ui::ErrorDetail::of(&err, command);
                let _ = ui::write_error_json(command, code, detail, out);
            }
            code
        }
    }
}

/// How long Ctrl-C waits for the lock stack's deletion before saying how to
/// release it by hand.
const LOCK_RELEASE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Resolves on Ctrl-C (SIGINT); never when the signal cannot be watched.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn dispatch(cli: Cli, out: &mut dyn Write, messages: &mut dyn Write) -> Result<u8> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "mraa", out);
            Ok(EXIT_OK)
        }
        Command::Deploy(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            deploy::run(&settings, args, out, messages).await
        }
        Command::Diff(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            diff::run(&settings, args, out).await
        }
        Command::Status => {
            let settings = Settings::resolve(&cli.global).await?;
            status::run(&settings, out, messages).await
        }
        Command::Failover(args) | Command::Fence(args) | Command::Activate(args) => {
            let target = match &cli.command {
                Command::Failover(_) => app_state::AppState::Failover,
                Command::Fence(_) => app_state::AppState::Fenced,
                _ => app_state::AppState::Active,
            };
            let settings = Settings::resolve(&cli.global).await?;
            state::run(&settings, target, args, out, messages).await
        }
        Command::Drain(args) | Command::Return(args) => {
            let change = match &cli.command {
                Command::Drain(_) => switch::serving::Serving::Drain,
                _ => switch::serving::Serving::Return,
            };
            let settings = Settings::resolve(&cli.global).await?;
            state::run_serving(&settings, change, args, out, messages).await
        }
        Command::Drill(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            drill::run(&settings, args, out, messages).await
        }
        Command::Teardown(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            teardown::run(&settings, args, out, messages).await
        }
        Command::Permissions(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            permissions::run(&settings, args, out)
        }
        Command::Render(args) => {
            let settings = Settings::resolve(&cli.global).await?;
            render::run(&settings, args, out)
        }
    }
}
