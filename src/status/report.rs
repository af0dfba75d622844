//! The status report for people (a table as wide as the terminal, coloured
//! only there, and never cut when stdout is not a terminal) and for
//! programs (one JSON document).

use std::io::{IsTerminal, Write};

use crate::config::OutputFormat;
use crate::config::Settings;

use super::{Health, StatusReport};

/// A terminal whose width cannot be read is taken as this wide.
const WIDTH: usize = 100;
/// Below this, DETAIL would have no room: lines wrap instead.
const MIN_WIDTH: usize = 72;
const NAME: usize = 18;
const REGION: usize = 15;
const STATUS: usize = 12;

pub fn write(
    settings: &Settings,
    report: &StatusReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if settings.output == OutputFormat::Json {
        let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
        return writeln!(out, "{text}");
    }
    let color = settings.color && std::io::stdout().is_terminal();
    write_table(report, table_width(), color, out)
}

/// The terminal's width when stdout is one; `None` (nothing is cut) when
/// it is a pipe or a file, so that `grep` and logs see every detail.
fn table_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let columns = console::Term::stdout()
        .size_checked()
        .map_or(WIDTH, |(_, columns)| usize::from(columns));
    Some(columns.max(MIN_WIDTH))
}

fn write_table(
    report: &StatusReport,
    width: Option<usize>,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "app {}  primary {}  secondary {}  mode {}{}",
        report.app,
        report.primary,
        report.secondary,
        report.mode,
        if report.endpoint == "custom" {
            "  (custom endpoint)"
        } else {
            ""
        }
    )?;
    match &report.state {
        Some(state) => {
            let mut line = format!("state {}", state.state.as_deref().unwrap_or("unknown"));
            if let Some(previous) = &state.previous_state {
                line.push_str(&format!(" (was {previous})"));
            }
            if let Some(at) = &state.updated_at {
                line.push_str(&format!(", since {at}"));
            }
            if let Some(by) = &state.updated_by {
                line.push_str(&format!(" by {by}"));
            }
            writeln!(out, "{}", fit(&line, width))?;
            if let Some(reason) = &state.reason {
                writeln!(out, "{}", fit(&format!("      why: {reason}"), width))?;
            }
        }
        None => writeln!(out, "state unknown: no region returned the state item")?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<NAME$} {:<REGION$} {:<STATUS$} DETAIL",
        "CHECK", "REGION", "STATUS"
    )?;
    let detail_width = width.map(|w| w.saturating_sub(NAME + REGION + STATUS + 3));
    for check in &report.checks {
        let status = check.status.as_str();
        let padded = format!("{status:<STATUS$}");
        let status = if color {
            paint(check.status, &padded)
        } else {
            padded
        };
        let mut detail = check.detail.clone();
        if let Some(updated) = &check.updated {
            detail = format!("{detail} {updated}");
        }
        writeln!(
            out,
            "{:<NAME$} {:<REGION$} {status} {}",
            fit(&check.name, width.map(|_| NAME)),
            check.region,
            fit(&detail, detail_width)
        )?;
    }
    writeln!(out)?;
    if let Some(site) = &report.endpoints.site_url {
        writeln!(out, "{}", fit(&format!("site  {site}"), width))?;
    }
    if let Some(custom) = &report.endpoints.custom_domain {
        writeln!(out, "{}", fit(&format!("site  {}", custom.site_url), width))?;
        writeln!(
            out,
            "{}",
            fit(&format!("api   failover {}", custom.api_url), width)
        )?;
    }
    for (region, endpoints) in &report.endpoints.regions {
        if let Some(api) = &endpoints.api_url {
            writeln!(out, "{}", fit(&format!("api   {region} {api}"), width))?;
        }
    }
    writeln!(
        out,
        "overall {} (exit {})",
        report.overall.as_str(),
        report.exit_code
    )
}

/// `text` cut to `width` characters, with an ellipsis; whole when `None`.
fn fit(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn paint(health: Health, text: &str) -> String {
    let code = match health {
        Health::Ok => "32",
        Health::Unverified => "33",
        Health::Degraded | Health::Missing => "31",
        Health::Unreachable => "35",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_column() {
        assert_eq!(fit("abcdef", Some(4)), "abc…");
        assert_eq!(fit("abc", Some(4)), "abc");
        assert_eq!(fit("abcdef", None), "abcdef");
    }
}
