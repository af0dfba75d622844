//! `mraa diff`: what a deploy would change, unit by unit and region by
//! region, before anything changes (the plan itself is computed by
//! [`crate::plan::changes`], which deploy shows too), and (`--drift`) what
//! was changed behind the deployment's back. Its only mutating calls are its
//! own change sets, made and deleted again, and drift detection.

mod args;
mod command;
mod drift;

pub use args::DiffArgs;
pub use command::run;
