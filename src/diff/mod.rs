//! `mraa diff`: what a deploy would change, unit by unit and region by
//! region, before anything changes, and (`--drift`) what was changed behind
//! the deployment's back. Its only mutating calls are its own change sets,
//! made and deleted again, and drift detection.

mod args;
mod command;
mod dns;
mod drift;
pub mod report;
mod units;
mod view;
mod wiring;

pub use args::DiffArgs;
pub use command::run;
