//! `mraa failover`, `mraa fence`, `mraa activate`, and in active-active
//! `mraa drain` and `mraa return`: the application state
//! (see [`crate::app_state`]) switched. With a custom domain, DNS follows by
//! itself: the health checks read the state (see `wire::route53`), so these
//! commands make no Route 53 call.

mod command;
mod drain;
mod users;

pub use command::{StateArgs, run};
pub use drain::{ServingArgs, run as run_serving};
