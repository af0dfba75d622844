//! Plan, then apply: a deploy to an existing deployment first shows the plan
//! `mraa diff` prints (computed by the same code, [`crate::plan::changes`]),
//! then asks on a terminal. Without one it goes ahead only when nothing
//! destructive is planned (no data store replaced or removed); otherwise
//! `--yes` is the approval, as terraform's `apply -auto-approve` and the CDK
//! CLI's `--require-approval never` are. A fresh deployment and a deploy with
//! nothing to change are not asked about.

use crate::plan::changes::report::DiffReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// Go ahead without a question.
    Proceed,
    /// Ask on the terminal.
    Ask,
    /// No terminal to ask on and something destructive is planned.
    Refuse,
}

pub(super) fn decide(report: &DiffReport, yes: bool, terminal: bool) -> Decision {
    if !report.changes || yes {
        Decision::Proceed
    } else if terminal {
        Decision::Ask
    } else if report.dangers.is_empty() {
        Decision::Proceed
    } else {
        Decision::Refuse
    }
}

/// The question asked about the plan shown.
pub(super) fn question(report: &DiffReport) -> String {
    if report.dangers.is_empty() {
        format!("Apply these changes to app {}? [y/N] ", report.app)
    } else {
        format!(
            "This replaces or removes {} data store(s) of app {}. Apply these changes? [y/N] ",
            report.dangers.len(),
            report.app
        )
    }
}

/// What is said when the plan is not applied; nothing was changed.
pub(super) fn not_applied(report: &DiffReport, decision: Decision) -> String {
    match decision {
        Decision::Refuse => format!(
            "error: the plan above replaces or removes data stores of app {} ({}) and there is \
             no terminal to ask on; nothing was changed: review it (`mraa diff`), then re-run \
             `mraa deploy` with --yes to apply it",
            report.app,
            report
                .dangers
                .iter()
                .map(|d| format!("{} {} in {}", d.unit, d.logical_id, d.region))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "deploy cancelled: nothing was changed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::changes::report::{ResourceChange, UnitChange, UnitDiff};

    fn report(change: UnitChange, danger: bool) -> DiffReport {
        let resources = match change {
            UnitChange::Unchanged => Vec::new(),
            _ => vec![ResourceChange {
                logical_id: "CommentsTable".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                action: "modify".into(),
                replacement: Some(if danger { "true" } else { "false" }.into()),
                properties: vec!["KeySchema".into()],
                danger,
            }],
        };
        let unit = UnitDiff {
            unit: "kv-store".into(),
            region: "us-east-1".into(),
            stack: "StackSet-mraa-shop-kv-store".into(),
            change,
            parameters: Vec::new(),
            resources,
        };
        DiffReport::new(("shop", "us-east-1", "eu-west-1"), vec![unit], vec![], None)
    }

    #[test]
    fn only_a_destructive_plan_needs_yes_without_a_terminal() {
        use Decision::*;
        let (none, safe, risky) = (
            report(UnitChange::Unchanged, false),
            report(UnitChange::Updated, false),
            report(UnitChange::Updated, true),
        );
        // (report, yes, terminal) → decision
        for (r, yes, terminal, want) in [
            (&none, false, true, Proceed),
            (&none, false, false, Proceed),
            (&safe, false, true, Ask),
            (&safe, false, false, Proceed),
            (&safe, true, true, Proceed),
            (&risky, false, true, Ask),
            (&risky, false, false, Refuse),
            (&risky, true, false, Proceed),
        ] {
            assert_eq!(decide(r, yes, terminal), want, "{:?}", r.dangers);
        }
    }

    #[test]
    fn the_question_and_the_refusal_name_the_stores() {
        let risky = report(UnitChange::Updated, true);
        assert!(
            question(&risky).starts_with("This replaces or removes 1 data store(s) of app shop.")
        );
        let safe = report(UnitChange::Updated, false);
        assert_eq!(question(&safe), "Apply these changes to app shop? [y/N] ");
        let text = not_applied(&risky, Decision::Refuse);
        assert!(
            text.contains("kv-store CommentsTable in us-east-1"),
            "{text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(not_applied(&risky, Decision::Ask).ends_with("nothing was changed"));
    }
}
