//! `mraa failover`, `mraa fence`, `mraa activate`: the application state
//! (see [`crate::app_state`]) switched, and the custom domain's DNS with it.

mod command;
mod dns;

pub use command::{StateArgs, run};
