//! What a CloudFormation status means, asked by name instead of by string
//! matching in each command (as the AWS CDK's `stack-status.ts` does).
//! Statuses: <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html>
//! and <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationSummary.html>.

use aws_sdk_cloudformation::types::StackSetOperationStatus;

/// An operation is running on the stack (`*_IN_PROGRESS`, cleanup included):
/// another cannot start until it ends.
pub fn is_in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS")
}

/// No operation is running: the status is final until the next one.
pub fn is_stable(status: &str) -> bool {
    !is_in_progress(status)
}

/// A resource or the stack failed (`*_FAILED`).
pub fn is_failed(status: &str) -> bool {
    status.ends_with("_FAILED")
}

/// The stack rolled back, or is rolling back, from a failed operation.
pub fn is_rollback(status: &str) -> bool {
    status.contains("ROLLBACK")
}

/// The stack's own event that starts an operation of the user's: a create,
/// an update or a delete (not a rollback or a cleanup).
pub fn starts_operation(status: &str) -> bool {
    matches!(
        status,
        "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" | "DELETE_IN_PROGRESS"
    )
}

/// A StackSet operation that has not ended: while one is queued, running or
/// stopping, CloudFormation refuses another on the same set.
pub fn is_busy_operation(status: &StackSetOperationStatus) -> bool {
    matches!(
        status,
        StackSetOperationStatus::Running
            | StackSetOperationStatus::Queued
            | StackSetOperationStatus::Stopping
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_named_by_what_they_mean() {
        assert!(is_in_progress("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(is_stable("UPDATE_ROLLBACK_FAILED"));
        assert!(is_failed("UPDATE_ROLLBACK_FAILED") && is_rollback("UPDATE_ROLLBACK_FAILED"));
        assert!(!is_failed("CREATE_COMPLETE") && !is_rollback("CREATE_COMPLETE"));
        assert!(starts_operation("DELETE_IN_PROGRESS"));
        assert!(!starts_operation("ROLLBACK_IN_PROGRESS"));
        assert!(is_busy_operation(&StackSetOperationStatus::Stopping));
        assert!(!is_busy_operation(&StackSetOperationStatus::Stopped));
    }
}
