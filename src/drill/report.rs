//! What a drill measured, each figure beside its objective, as text, JSON
//! or a Markdown table for a ticket.

use std::io::Write;

use serde::Serialize;

use crate::config::OutputFormat;
use crate::health::lag::seconds;

/// How a figure compares with its objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Measured within the objective.
    Ok,
    /// Measured past the objective, or not reached within the drill's bound,
    /// or not measurable: the objective is not shown to hold.
    Missed,
    /// The endpoint cannot show it (an emulator's API Gateway invoke URLs).
    Unverified,
    /// Not part of this drill (no custom domain, no `--failover`).
    Skipped,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Missed => "missed",
            Verdict::Unverified => "unverified",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One figure of the drill.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// `rpo-items`, `rto-state`, `return-dns`...
    pub name: String,
    pub verdict: Verdict,
    /// Measured, in seconds; `None` when not measured.
    pub seconds: Option<f64>,
    pub objective_seconds: f64,
    /// What was measured, or why it was not.
    pub detail: String,
}

impl Figure {
    /// A figure measured (`Some`) or not reached within the bound (`None`).
    pub fn measured(name: &str, took: Option<f64>, objective: f64, detail: String) -> Figure {
        let verdict = match took {
            Some(secs) if secs <= objective => Verdict::Ok,
            _ => Verdict::Missed,
        };
        Figure {
            name: name.to_string(),
            verdict,
            seconds: took,
            objective_seconds: objective,
            detail,
        }
    }

    /// A figure that could not be measured: the objective is not shown to
    /// hold.
    pub fn failed(name: &str, objective: f64, detail: String) -> Figure {
        Figure::measured(name, None, objective, detail)
    }

    pub fn not_measured(name: &str, verdict: Verdict, objective: f64, detail: String) -> Figure {
        Figure {
            name: name.to_string(),
            verdict,
            seconds: None,
            objective_seconds: objective,
            detail,
        }
    }

    /// `rpo-items 8.2 s (objective 5.0 s)`.
    pub fn summary(&self) -> String {
        let took = self.seconds.map_or("not reached".into(), seconds);
        format!(
            "{} {took} (objective {})",
            self.name,
            seconds(self.objective_seconds)
        )
    }
}

/// The drill's report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub app: String,
    pub primary: String,
    pub secondary: String,
    pub failover: bool,
    pub figures: Vec<Figure>,
    /// The figures that missed their objective, by name.
    pub missed: Vec<String>,
    /// The probes written and removed, as `table key` / `bucket key`.
    pub probes: Vec<String>,
}

impl Report {
    pub fn missed(figures: &[Figure]) -> Vec<String> {
        figures
            .iter()
            .filter(|f| f.verdict == Verdict::Missed)
            .map(Figure::summary)
            .collect()
    }
}

fn took(figure: &Figure) -> String {
    figure.seconds.map_or("—".into(), seconds)
}

pub fn write(format: OutputFormat, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let text = serde_json::to_string(report).map_err(std::io::Error::other)?;
            writeln!(out, "{text}")
        }
        OutputFormat::Markdown => markdown(report, out),
        OutputFormat::Text => text(report, out),
    }
}

fn text(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "drill of app {} (primary {}, secondary {})",
        report.app, report.primary, report.secondary
    )?;
    for figure in &report.figures {
        writeln!(
            out,
            "  {:<22} {:>8}  objective {:>7}  {:<10} {}",
            figure.name,
            took(figure),
            seconds(figure.objective_seconds),
            figure.verdict.as_str(),
            figure.detail
        )?;
    }
    writeln!(out, "  probes removed: {}", report.probes.join(", "))
}

fn markdown(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "### Drill of app `{}` (primary {}, secondary {})\n",
        report.app, report.primary, report.secondary
    )?;
    writeln!(out, "| figure | measured | objective | verdict | detail |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for figure in &report.figures {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            figure.name,
            took(figure),
            seconds(figure.objective_seconds),
            figure.verdict.as_str(),
            figure.detail.replace('|', "\\|")
        )?;
    }
    writeln!(out, "\nProbes removed: {}", report.probes.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_past_its_objective_or_not_reached_is_missed() {
        let within = Figure::measured("rpo-items", Some(0.4), 5.0, String::new());
        assert_eq!(within.verdict, Verdict::Ok);
        let past = Figure::measured("rpo-items", Some(8.2), 5.0, String::new());
        assert_eq!(past.verdict, Verdict::Missed);
        assert_eq!(past.summary(), "rpo-items 8.2 s (objective 5.0 s)");
        let never = Figure::failed("rto-dns", 120.0, "no answer".into());
        assert_eq!(never.verdict, Verdict::Missed);
        assert_eq!(never.summary(), "rto-dns not reached (objective 2 min)");
        let unverified = Figure::not_measured("rto-api", Verdict::Unverified, 30.0, "x".into());
        assert_eq!(
            Report::missed(&[within, past, never, unverified]),
            [
                "rpo-items 8.2 s (objective 5.0 s)",
                "rto-dns not reached (objective 2 min)"
            ]
        );
    }

    #[test]
    fn markdown_is_a_table_with_each_figure_beside_its_objective() {
        let report = Report {
            schema_version: 1,
            app: "shop".into(),
            primary: "us-east-1".into(),
            secondary: "eu-west-1".into(),
            failover: false,
            figures: vec![Figure::measured(
                "rpo-objects",
                Some(3.0),
                900.0,
                "a|b".into(),
            )],
            missed: Vec::new(),
            probes: vec!["bucket mraa-drill/1".into()],
        };
        let mut out = Vec::new();
        write(OutputFormat::Markdown, &report, &mut out).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("| rpo-objects | 3.0 s | 15 min | ok | a\\|b |"),
            "{text}"
        );
    }
}
