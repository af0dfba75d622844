//! The plan shown before a teardown, and the account given after it: text
//! for people, one JSON object for pipelines.

use std::io::Write;

use serde::Serialize;

use crate::config::Settings;
use crate::error::MraaError;
use crate::ui::progress::Reporter;

use super::inventory::Inventory;
use super::{Item, Planned, Run};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Everything planned was deleted and verified.
    #[serde(rename = "ok")]
    Done,
    /// Nothing of the app exists (beyond kept data).
    #[serde(rename = "nothing")]
    Nothing,
    #[serde(rename = "failed")]
    Failed,
    /// No terminal to confirm on, and no `--yes`.
    #[serde(rename = "refused")]
    Refused,
    /// The user answered no.
    #[serde(rename = "declined")]
    Declined,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    kind: &'static str,
    schema_version: u32,
    command: &'static str,
    result: Outcome,
    app: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    primary: String,
    secondary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secondary_found_by: Option<String>,
    delete_data: bool,
    elapsed_s: f64,
    planned: Planned,
    deleted: Vec<Item>,
    kept: Vec<Item>,
    failed: Vec<Item>,
    unverified: Vec<Item>,
    /// The command that deletes the kept data too.
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_data_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    profile: Option<String>,
}

impl Summary {
    pub fn new(
        run: &Run,
        settings: &Settings,
        planned: &Planned,
        outcome: Outcome,
        failure: Option<&MraaError>,
    ) -> Summary {
        let inv = &run.inventory;
        let ledger = run.ledger();
        let acted = matches!(outcome, Outcome::Done | Outcome::Failed | Outcome::Nothing);
        let kept = if acted {
            planned.keep.clone()
        } else {
            Vec::new()
        };
        let mut summary = Summary {
            kind: "summary",
            schema_version: 1,
            command: "teardown",
            result: outcome,
            app: inv.app.clone(),
            account: Some(inv.account.clone()),
            primary: inv.primary.clone(),
            secondary: inv.secondary.clone(),
            secondary_found_by: (!inv.secondary_source.is_empty())
                .then(|| inv.secondary_source.clone()),
            delete_data: run.delete_data,
            elapsed_s: (run.reporter.elapsed().as_millis() as f64) / 1000.0,
            planned: planned.clone(),
            deleted: ledger.deleted,
            kept,
            failed: ledger.failed,
            unverified: ledger.unverified,
            delete_data_command: None,
            error: failure.map(|e| e.to_string()),
            profile: settings.profile.clone(),
        };
        let data_kept = summary
            .kept
            .iter()
            .any(|i| ["bucket", "table", "user-pool"].contains(&i.kind.as_str()));
        if !run.delete_data && data_kept {
            summary.delete_data_command = Some(summary.command_line(true));
        }
        summary
    }

    /// A failure before anything was read or done (a region that does not
    /// answer, an unreadable record).
    pub fn failed_early(
        settings: &Settings,
        delete_data: bool,
        reporter: &Reporter,
        err: &MraaError,
    ) -> Summary {
        Summary {
            kind: "summary",
            schema_version: 1,
            command: "teardown",
            result: Outcome::Failed,
            app: settings.app.clone(),
            account: None,
            primary: settings.primary.clone(),
            secondary: settings.secondary.clone(),
            secondary_found_by: None,
            delete_data,
            elapsed_s: (reporter.elapsed().as_millis() as f64) / 1000.0,
            planned: Planned::default(),
            deleted: Vec::new(),
            kept: Vec::new(),
            failed: vec![Item::new("teardown", "", None).detail(err.to_string())],
            unverified: Vec::new(),
            delete_data_command: None,
            error: Some(err.to_string()),
            profile: settings.profile.clone(),
        }
    }

    pub fn outcome(&self) -> Outcome {
        self.result
    }

    /// `mraa teardown` with every setting spelled out, so that it works from
    /// any machine and after the bootstrap record is gone.
    fn command_line(&self, delete_data: bool) -> String {
        let mut line = String::from("mraa teardown");
        if delete_data {
            line.push_str(" --delete-data");
        }
        line.push_str(&format!(
            " --yes --app {} --primary {}",
            self.app, self.primary
        ));
        if let Some(secondary) = &self.secondary {
            line.push_str(&format!(" --secondary {secondary}"));
        }
        if let Some(profile) = &self.profile {
            line.push_str(&format!(" --profile {profile}"));
        }
        line
    }

    /// The same teardown again (after a failure).
    pub fn retry_command(&self) -> String {
        self.command_line(self.delete_data)
    }

    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let regions = match &self.secondary {
            Some(secondary) => format!("{} (primary) and {secondary}", self.primary),
            None => self.primary.clone(),
        };
        match self.result {
            Outcome::Done => writeln!(
                out,
                "tore down app {} in {regions} in {:.1}s",
                self.app, self.elapsed_s
            )?,
            Outcome::Nothing => writeln!(
                out,
                "nothing to tear down for app {} in {regions}",
                self.app
            )?,
            Outcome::Failed => writeln!(
                out,
                "teardown of app {} FAILED after {:.1}s",
                self.app, self.elapsed_s
            )?,
            Outcome::Refused | Outcome::Declined => {
                writeln!(out, "teardown of app {}: nothing was changed", self.app)?
            }
        }
        for (label, items) in [
            ("deleted", &self.deleted),
            ("kept", &self.kept),
            ("failed", &self.failed),
            ("unverified", &self.unverified),
        ] {
            for item in items {
                writeln!(out, "  {label:<10} {item}")?;
            }
        }
        if let Some(command) = &self.delete_data_command {
            writeln!(out, "the kept data stays until you delete it with:")?;
            writeln!(out, "  {command}")?;
        }
        Ok(())
    }
}

/// The plan, for the confirmation (stderr).
pub fn write_plan(
    out: &mut dyn Write,
    inv: &Inventory,
    planned: &Planned,
    delete_data: bool,
) -> std::io::Result<()> {
    match &inv.secondary {
        Some(secondary) => writeln!(
            out,
            "app {} in {} (primary) and {secondary} (secondary, from {}), account {}:",
            inv.app, inv.primary, inv.secondary_source, inv.account
        )?,
        None => writeln!(
            out,
            "app {} in {} (no secondary region found; pass --secondary to include one), account {}:",
            inv.app, inv.primary, inv.account
        )?,
    }
    for (label, items) in [
        ("delete", &planned.delete),
        ("keep", &planned.keep),
        ("REFUSE", &planned.refuse),
    ] {
        for item in items {
            writeln!(out, "  {label:<7} {item}")?;
        }
    }
    if !delete_data
        && planned
            .keep
            .iter()
            .any(|i| ["bucket", "table", "user-pool"].contains(&i.kind.as_str()))
    {
        writeln!(
            out,
            "  (data is kept; --delete-data deletes the buckets, tables and user pools too)"
        )?;
    }
    Ok(())
}
