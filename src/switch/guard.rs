//! The question before a state change. On a terminal, `failover`, `fence`
//! and `activate` show the current state and what the change does, and ask
//! (unless `--yes`); without a terminal there is no one to ask, so the
//! change must be deliberate: `--reason` (recorded with it) or `--yes`.
//! A declined question changes nothing and says so. `mraa drill` switches
//! the state too and runs under the same guard.

use crate::app_state::{AppState, StateRecord};

/// Without a terminal, neither `--reason` nor `--yes`: refused before any
/// AWS call, with the command line that goes ahead.
pub fn refuse_without_reason(
    target: AppState,
    yes: bool,
    reason: Option<&str>,
    terminal: bool,
) -> Option<String> {
    refuse(target.verb(), yes, reason, terminal)
}

/// The same for any command that changes the state (`drill` too), by its
/// name as typed.
pub fn refuse(verb: &str, yes: bool, reason: Option<&str>, terminal: bool) -> Option<String> {
    if terminal || yes || reason.is_some_and(|r| !r.trim().is_empty()) {
        return None;
    }
    Some(format!(
        "error: `mraa {verb}` without a terminal needs --reason \"...\" (recorded with the \
         change) or --yes; nothing was changed: run `mraa {verb} --reason \"why\"`"
    ))
}

/// What the change does, for the people who read the question.
pub fn what_changes(target: AppState, primary: &str, secondary: &str) -> String {
    match target {
        AppState::Failover => format!(
            "the secondary {secondary} serves, read-only; the primary {primary} stops serving \
             (DNS follows the health checks)"
        ),
        AppState::Fenced => {
            format!("the primary {primary} keeps serving, read-only: no new comments or uploads")
        }
        AppState::Active => format!(
            "the primary {primary} serves reads and writes again; the secondary {secondary} \
             stops serving"
        ),
    }
}

/// The question: the current state as recorded, what will change, and a
/// warning when there is one (replication not confirmed, for `activate`).
pub fn question(
    app: &str,
    current: &StateRecord,
    target: AppState,
    (primary, secondary): (&str, &str),
    warning: Option<&str>,
) -> String {
    let state = current.raw_state.as_deref().unwrap_or("unknown");
    let mut since = String::new();
    if let Some(at) = &current.updated_at {
        since.push_str(&format!(" since {at}"));
    }
    if let Some(by) = &current.updated_by {
        since.push_str(&format!(" by {by}"));
    }
    if let Some(reason) = &current.reason {
        since.push_str(&format!(" ({reason})"));
    }
    let mut text = format!(
        "app {app} is {state}{since}.\n{} → {}: {}.\n",
        state,
        target.as_str(),
        what_changes(target, primary, secondary)
    );
    if let Some(warning) = warning {
        text.push_str(&format!("warning: {warning}.\n"));
    }
    text.push_str(&format!("Switch app {app} to {}? [y/N] ", target.as_str()));
    text
}

/// Said when the question is declined.
pub fn declined(target: AppState) -> String {
    format!("{} cancelled: nothing was changed", target.verb())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> StateRecord {
        StateRecord {
            state: Some(AppState::Active),
            raw_state: Some("active".into()),
            previous_state: Some("fenced".into()),
            updated_at: Some("2026-12-07T10:00:00Z".into()),
            updated_by: Some("arn:aws:sts::123456789012:assumed-role/oncall/jane".into()),
            reason: Some("maintenance done".into()),
            drained: Vec::new(),
        }
    }

    #[test]
    fn without_a_terminal_a_reason_or_yes_is_required() {
        let failover = AppState::Failover;
        let refused = refuse_without_reason(failover, false, None, false);
        let text = refused.unwrap_or_default();
        assert!(text.contains("needs --reason"), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(refuse_without_reason(failover, false, Some("  "), false).is_some());
        assert!(refuse_without_reason(failover, false, Some("drill"), false).is_none());
        assert!(refuse_without_reason(failover, true, None, false).is_none());
        // On a terminal the question is the guard.
        assert!(refuse_without_reason(failover, false, None, true).is_none());
    }

    #[test]
    fn the_question_shows_the_state_and_the_change() {
        let q = question(
            "shop",
            &active(),
            AppState::Failover,
            ("us-east-1", "eu-west-1"),
            None,
        );
        assert!(q.starts_with("app shop is active since 2026-12-07T10:00:00Z by arn:aws:sts::123456789012:assumed-role/oncall/jane (maintenance done).\n"), "{q}");
        assert!(
            q.contains("active → failover: the secondary eu-west-1 serves, read-only"),
            "{q}"
        );
        assert!(q.ends_with("Switch app shop to failover? [y/N] "), "{q}");
        let warned = question(
            "shop",
            &active(),
            AppState::Active,
            ("us-east-1", "eu-west-1"),
            Some("replication is not confirmed healthy"),
        );
        assert!(
            warned.contains("warning: replication is not confirmed healthy.\n"),
            "{warned}"
        );
        assert_eq!(
            declined(AppState::Fenced),
            "fence cancelled: nothing was changed"
        );
    }
}
