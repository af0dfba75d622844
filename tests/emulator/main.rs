//! The real `mraa` binary against the local AWS emulator, a module per
//! command, the outcome checked through the services' own APIs. Every test
//! starts an emulator of its own, so tests run in parallel without sharing
//! any state.

#[path = "../support/mod.rs"]
mod support;

mod active_active;
mod adopt;
mod approval;
mod concurrency;
mod deploy;
mod diff;
mod domain;
mod drill;
mod failures;
mod lag;
mod permissions;
mod promises;
mod replica_settings;
mod smoke;
mod status;
mod teardown;
mod users;
