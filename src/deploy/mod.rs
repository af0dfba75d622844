//! `mraa deploy`: preflight, the units in dependency order (independent ones
//! concurrently), then the cross-region wiring, then a truthful summary.

mod adopt;
pub mod api_account;
pub mod api_stage;
mod approval;
mod args;
mod command;
mod dns;
mod health_checks;
mod post_checks;
mod preflight;
mod schedule;
pub mod stack;
pub mod stack_set;
mod summary;
mod view;

pub use args::{AdminArgs, DeployArgs};
pub use command::run;
