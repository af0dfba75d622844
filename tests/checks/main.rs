//! Offline checks of the templates and policies mraa renders: their
//! structure, cfn-lint and checkov over them, the example configuration, no
//! secret in any output; and what AWS enforces and the emulator does not:
//! handler permissions from AWS's registry schemas, trust policies as AWS
//! evaluates them, and the service rules the templates rely on, each citing
//! its page.

#[path = "../support/mod.rs"]
mod support;

mod arns;
mod aws_data;
mod call_context;
mod cfn;
mod examples;
mod handler_permissions;
mod iam;
mod key_policy;
mod operator_policy;
mod opt_in_regions;
mod pool_issuer;
mod rules;
mod secrets;
mod security_review;
mod template_lint;
mod templates;
