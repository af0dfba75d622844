//! `mraa failover`, `mraa fence`, `mraa activate`: the application state
//! (see [`crate::app_state`]) switched. With a custom domain, DNS follows by
//! itself: the health checks read the state (see `wire::route53`), so these
//! commands make no Route 53 call.

mod command;
mod users;

pub use command::{StateArgs, run};
