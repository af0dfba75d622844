//! AWS behaviour the emulator cannot show: scripted SDK answers
//! (aws-smithy-mocks) for stack and replica states, throttling and AWS's own
//! answer shapes, and a fault proxy in front of the emulator for failing
//! requests.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod certificates;
mod deploy;
mod faults;
mod regions;
mod secondary;
mod status;
mod teardown;
