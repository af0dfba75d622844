//! The deploy summary as text for people (JSON is the summary serialized).

use std::io::Write;

use super::summary::Summary;
use crate::context::Change;

impl Summary {
    pub(super) fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.no_changes {
            writeln!(
                out,
                "no changes: app {} is up to date ({:.1}s)",
                self.app, self.elapsed_s
            )?;
        } else if self.result == "ok" {
            writeln!(
                out,
                "deployed app {} to {} (primary) and {} in {:.1}s",
                self.app, self.primary, self.secondary, self.elapsed_s
            )?;
        } else {
            writeln!(
                out,
                "deploy of app {} FAILED after {:.1}s",
                self.app, self.elapsed_s
            )?;
        }
        for (label, change) in [
            ("created", Change::Created),
            ("updated", Change::Updated),
            ("unchanged", Change::Unchanged),
        ] {
            let steps: Vec<&str> = self
                .steps
                .iter()
                .filter(|s| s.change == change)
                .map(|s| s.step.as_str())
                .collect();
            if !steps.is_empty() {
                writeln!(out, "  {label:<10} {}", steps.join(", "))?;
            }
        }
        for u in &self.unverified {
            writeln!(out, "  unverified {} ({}): {}", u.step, u.region, u.reason)?;
        }
        match &self.endpoints.site_url {
            Some(url) => writeln!(out, "  site       {url}")?,
            None => writeln!(out, "  site       (no CloudFront distribution to show)")?,
        }
        if let Some(custom) = &self.endpoints.custom_domain {
            writeln!(out, "  site       {} (custom domain)", custom.site_url)?;
            writeln!(
                out,
                "  api        {} (Route 53 failover between the regions)",
                custom.api_url
            )?;
        }
        for (region, endpoints) in &self.endpoints.regions {
            if let Some(api) = &endpoints.endpoints.api_url {
                writeln!(out, "  api        {region}: {api}")?;
            }
        }
        Ok(())
    }
}
