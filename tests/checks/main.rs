//! Offline checks of the templates and policies mraa renders: their
//! structure, cfn-lint and checkov over them, the example configuration, and
//! no secret in any output.

#[path = "../support/mod.rs"]
mod support;

mod examples;
mod secrets;
mod security_review;
mod template_lint;
mod templates;
