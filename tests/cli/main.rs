//! What mraa does with what it is given: flags, environment and
//! configuration files, refused before any change when they are wrong.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod input;
mod outcomes;
