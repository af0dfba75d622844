//! The plan of changes as people read it: text for a terminal or a log (what
//! `mraa diff` prints and `mraa deploy` shows before it asks), markdown for a
//! pull-request comment, JSON for machines. Pure functions of the report.

use std::fmt::Write as _;

use super::report::{DiffReport, ResourceChange, UnitChange, UnitDiff};

const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn json(report: &DiffReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn change_word(change: UnitChange) -> &'static str {
    match change {
        UnitChange::Created => "created",
        UnitChange::Updated => "updated",
        UnitChange::Unchanged => "unchanged",
    }
}

fn resource_line(r: &ResourceChange) -> String {
    let mut line = format!("{} {} ({})", r.action, r.logical_id, r.resource_type);
    if let Some(replacement) = &r.replacement {
        let _ = write!(line, ", replacement: {replacement}");
    }
    if !r.properties.is_empty() {
        let _ = write!(line, ", properties: {}", r.properties.join(", "));
    }
    line
}

fn parameter_value(value: &Option<String>) -> String {
    match value {
        Some(v) if v.is_empty() => "\"\"".into(),
        Some(v) => v.clone(),
        None => "(none)".into(),
    }
}

fn changed(units: &[UnitDiff]) -> impl Iterator<Item = &UnitDiff> {
    units.iter().filter(|u| u.change != UnitChange::Unchanged)
}

/// Plain text; `color` paints the dangers red (a terminal only).
pub fn text(report: &DiffReport, color: bool) -> String {
    let mut out = String::new();
    let (red, bold, reset) = if color {
        (RED, BOLD, RESET)
    } else {
        ("", "", "")
    };
    if !report.dangers.is_empty() {
        let _ = writeln!(out, "{red}{bold}DATA STORES A DEPLOY WOULD REPLACE{reset}");
        for d in &report.dangers {
            let _ = writeln!(
                out,
                "{red}  {} {} in {} ({}): replacement {}{reset}",
                d.unit, d.logical_id, d.region, d.resource_type, d.replacement
            );
        }
        out.push('\n');
    }
    if !report.changes {
        let _ = writeln!(
            out,
            "no changes: a deploy of app {} would change nothing",
            report.app
        );
    }
    for unit in &report.units {
        let _ = writeln!(
            out,
            "{:<16} {:<16} {}",
            unit.unit,
            unit.region,
            change_word(unit.change)
        );
        for p in &unit.parameters {
            let _ = writeln!(
                out,
                "    parameter {}: {} -> {}",
                p.key,
                parameter_value(&p.from),
                parameter_value(&p.to)
            );
        }
        for r in &unit.resources {
            let (start, end) = if r.danger { (red, reset) } else { ("", "") };
            let _ = writeln!(out, "    {start}{}{end}", resource_line(r));
        }
    }
    if !report.imports.is_empty() {
        let _ = writeln!(
            out,
            "\nimport (kept by an earlier teardown; taken back, not created)"
        );
        for i in &report.imports {
            let _ = writeln!(
                out,
                "{:<16} {:<16} import {} {} ({})",
                i.unit, i.region, i.logical_id, i.physical_id, i.resource_type
            );
        }
    }
    if !report.wiring.is_empty() {
        let _ = writeln!(out, "\nwiring");
        for w in &report.wiring {
            let _ = writeln!(out, "{:<16} {:<16} {}", w.step, w.region, w.change);
        }
    }
    if let Some(drift) = &report.drift {
        let _ = writeln!(out, "\ndrift");
        if drift.is_empty() {
            let _ = writeln!(out, "  none: every stack matches its template");
        }
        for stack in drift {
            let _ = writeln!(
                out,
                "{:<16} {:<16} {}",
                stack.unit, stack.region, stack.stack
            );
            for r in &stack.resources {
                let _ = writeln!(
                    out,
                    "    {} {} ({})",
                    r.status, r.logical_id, r.resource_type
                );
                for p in &r.properties {
                    let _ = writeln!(
                        out,
                        "        {} {}: expected {}, actual {}",
                        p.difference, p.path, p.expected, p.actual
                    );
                }
            }
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A pull-request comment: a headline, the dangers, a table of the units
/// that change, details per unit, wiring and drift.
pub fn markdown(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### mraa diff: app `{}`\n", report.app);
    if !report.dangers.is_empty() {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> A deploy would replace these data stores:"
        );
        for d in &report.dangers {
            let _ = writeln!(
                out,
                "> - **{}** `{}` in {} ({}, replacement {})",
                d.unit, d.logical_id, d.region, d.resource_type, d.replacement
            );
        }
        out.push('\n');
    }
    if !report.changes {
        let _ = writeln!(out, "No changes: a deploy would change nothing.");
    } else {
        let _ = writeln!(out, "| unit | region | change | resources | parameters |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for u in changed(&report.units) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                u.unit,
                u.region,
                change_word(u.change),
                u.resources.len(),
                u.parameters.len()
            );
        }
        for u in changed(&report.units) {
            if u.resources.is_empty() && u.parameters.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n<details><summary>{} in {}</summary>\n",
                u.unit, u.region
            );
            for p in &u.parameters {
                let _ = writeln!(
                    out,
                    "- parameter `{}`: `{}` → `{}`",
                    p.key,
                    cell(&parameter_value(&p.from)),
                    cell(&parameter_value(&p.to))
                );
            }
            for r in &u.resources {
                let mark = if r.danger { "**danger** " } else { "" };
                let _ = writeln!(out, "- {mark}{}", cell(&resource_line(r)));
            }
            let _ = writeln!(out, "\n</details>");
        }
    }
    if !report.wiring.is_empty() {
        let _ = writeln!(out, "\n| wiring step | region | change |\n|---|---|---|");
        for w in &report.wiring {
            let _ = writeln!(out, "| {} | {} | {} |", w.step, w.region, cell(&w.change));
        }
    }
    if let Some(drift) = &report.drift {
        if drift.is_empty() {
            let _ = writeln!(out, "\nNo drift: every stack matches its template.");
        } else {
            let _ = writeln!(
                out,
                "\n**Drift**\n\n| unit | region | resource | property | expected | actual |\n|---|---|---|---|---|---|"
            );
            for s in drift {
                for r in &s.resources {
                    if r.properties.is_empty() {
                        let _ = writeln!(
                            out,
                            "| {} | {} | {} ({}) | | | |",
                            s.unit, s.region, r.logical_id, r.status
                        );
                    }
                    for p in &r.properties {
                        let _ = writeln!(
                            out,
                            "| {} | {} | {} | {} | `{}` | `{}` |",
                            s.unit,
                            s.region,
                            r.logical_id,
                            cell(&p.path),
                            cell(&p.expected),
                            cell(&p.actual)
                        );
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::report::*;
    use super::*;

    fn unit(name: &str, region: &str, change: UnitChange) -> UnitDiff {
        UnitDiff {
            unit: name.into(),
            region: region.into(),
            stack: format!("mraa-demo-{name}"),
            change,
            parameters: Vec::new(),
            resources: Vec::new(),
        }
    }

    fn sample() -> DiffReport {
        let mut kv = unit("kv-store", "us-east-1", UnitChange::Updated);
        kv.resources.push(ResourceChange {
            logical_id: "CommentsTable".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            action: "modify".into(),
            replacement: Some("true".into()),
            properties: vec!["TableName".into()],
            danger: true,
        });
        let mut routing = unit("routing", "ap-northeast-1", UnitChange::Updated);
        routing.parameters.push(ParameterChange {
            key: "AllowedOrigin".into(),
            from: Some("*".into()),
            to: Some("https://a|b".into()),
        });
        let drift = StackDrift {
            unit: "routing".into(),
            region: "us-east-1".into(),
            stack: "StackSet-mraa-demo-routing-1".into(),
            resources: vec![DriftedResource {
                logical_id: "StateUpdater".into(),
                resource_type: "AWS::Lambda::Function".into(),
                status: "modified".into(),
                properties: vec![PropertyDrift {
                    path: "/Timeout".into(),
                    expected: "10".into(),
                    actual: "42".into(),
                    difference: "not_equal".into(),
                }],
            }],
        };
        DiffReport::new(
            ("demo", "us-east-1", "ap-northeast-1"),
            vec![
                unit("bootstrap", "us-east-1", UnitChange::Unchanged),
                kv,
                routing,
            ],
            vec![WiringDiff {
                step: "s3-replication".into(),
                region: "us-east-1".into(),
                change: "put the replication rule".into(),
            }],
            Some(vec![drift]),
        )
    }

    #[test]
    fn markdown_puts_dangers_first_and_tables_the_changes() {
        let md = markdown(&sample());
        let expected = "\
### mraa diff: app `demo`

> [!CAUTION]
> A deploy would replace these data stores:
> - **kv-store** `CommentsTable` in us-east-1 (AWS::DynamoDB::Table, replacement true)

| unit | region | change | resources | parameters |
|---|---|---|---|---|
| kv-store | us-east-1 | updated | 1 | 0 |
| routing | ap-northeast-1 | updated | 0 | 1 |

<details><summary>kv-store in us-east-1</summary>

- **danger** modify CommentsTable (AWS::DynamoDB::Table), replacement: true, properties: TableName

</details>

<details><summary>routing in ap-northeast-1</summary>

- parameter `AllowedOrigin`: `*` → `https://a\\|b`

</details>

| wiring step | region | change |
|---|---|---|
| s3-replication | us-east-1 | put the replication rule |

**Drift**

| unit | region | resource | property | expected | actual |
|---|---|---|---|---|---|
| routing | us-east-1 | StateUpdater | /Timeout | `10` | `42` |
";
        assert_eq!(md, expected);
    }

    #[test]
    fn markdown_of_nothing_says_no_changes() {
        let report = DiffReport::new(
            ("demo", "us-east-1", "ap-northeast-1"),
            vec![unit("bootstrap", "us-east-1", UnitChange::Unchanged)],
            Vec::new(),
            None,
        );
        assert_eq!(
            markdown(&report),
            "### mraa diff: app `demo`\n\nNo changes: a deploy would change nothing.\n"
        );
        assert_eq!(report.exit_code, 0);
    }

    #[test]
    fn text_names_dangers_first_in_red_only_on_a_terminal() {
        let report = sample();
        assert_eq!(report.exit_code, EXIT_CHANGES);
        let plain = text(&report, false);
        let expected = "\
DATA STORES A DEPLOY WOULD REPLACE
  kv-store CommentsTable in us-east-1 (AWS::DynamoDB::Table): replacement true

bootstrap        us-east-1        unchanged
kv-store         us-east-1        updated
    modify CommentsTable (AWS::DynamoDB::Table), replacement: true, properties: TableName
routing          ap-northeast-1   updated
    parameter AllowedOrigin: * -> https://a|b

wiring
s3-replication   us-east-1        put the replication rule

drift
routing          us-east-1        StackSet-mraa-demo-routing-1
    modified StateUpdater (AWS::Lambda::Function)
        not_equal /Timeout: expected 10, actual 42
";
        assert_eq!(plain, expected);
        assert!(!plain.contains('\x1b'));
        let painted = text(&report, true);
        assert!(painted.starts_with("\x1b[31m\x1b[1mDATA STORES"));
        assert!(painted.contains("    \x1b[31mmodify CommentsTable"));
    }

    #[test]
    fn json_carries_the_danger_flag_and_the_schema_version() {
        let value: serde_json::Value = serde_json::from_str(&json(&sample())).expect("JSON");
        assert_eq!(value["schema_version"], 1);
        assert_eq!(value["units"][1]["resources"][0]["danger"], true);
        assert_eq!(value["dangers"][0]["logical_id"], "CommentsTable");
        assert_eq!(value["exit_code"], 2);
    }
}
