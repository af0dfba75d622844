//! CloudFormation, shared by every command: stacks, change sets, StackSets,
//! waiting with backoff, and named predicates for what a status means. The
//! commands decide; these read, wait and explain.

pub mod change_set;
pub mod import;
pub mod stack;
pub mod stack_set;
pub mod status;
pub mod wait;
