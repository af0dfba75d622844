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
            if let Some(api) = &endpoints.api_url {
                writeln!(out, "  api        {region}: {api}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Outputs;
    use crate::deploy::summary::{Check, Deployed, StepResult};
    use crate::error::MraaError;
    use crate::wire::Verdict;

    const RUN: Deployed<'static> = Deployed {
        user_replication: crate::plan::UserReplication::Import,
        app: "shop",
        account: "123456789012",
        primary: "us-east-1",
        secondary: "ap-northeast-1",
        domain: Some("photos.example.com"),
        elapsed_s: 12.34,
    };

    fn step(step: &str, change: Change, verdict: Verdict) -> StepResult {
        StepResult {
            step: step.into(),
            change,
            checks: vec![Check {
                region: "us-east-1".into(),
                verdict,
            }],
        }
    }

    fn text(summary: &Summary) -> String {
        let mut out = Vec::new();
        summary.write_text(&mut out).expect("writes to memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn the_text_view_names_each_change_and_what_was_not_verified() {
        let steps = vec![
            step("routing", Change::Updated, Verdict::Ok),
            step("bootstrap", Change::Created, Verdict::Ok),
            step(
                "s3-replication",
                Change::Unchanged,
                Verdict::Unverified("the emulator cannot show RTC".into()),
            ),
        ];
        let summary = Summary::new(&RUN, steps, &Outputs::default(), None, None);
        let text = text(&summary);
        assert!(
            text.starts_with(
                "deployed app shop to us-east-1 (primary) and ap-northeast-1 in 12.3s\n"
            ),
            "{text}"
        );
        assert!(text.contains("  created    bootstrap\n"), "{text}");
        assert!(text.contains("  updated    routing\n"), "{text}");
        assert!(
            text.contains(
                "  unverified s3-replication (us-east-1): the emulator cannot show RTC\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  site       (no CloudFront distribution to show)\n"),
            "{text}"
        );
        assert!(
            text.contains("  site       https://photos.example.com (custom domain)\n"),
            "{text}"
        );
    }

    #[test]
    fn nothing_changed_and_a_failure_read_differently_in_text_and_json() {
        let unchanged = vec![step("routing", Change::Unchanged, Verdict::Ok)];
        let summary = Summary::new(&RUN, unchanged.clone(), &Outputs::default(), None, None);
        assert!(text(&summary).starts_with("no changes: app shop is up to date (12.3s)\n"));

        let failure = MraaError::Io("disk full".into());
        let failed = Summary::new(&RUN, unchanged, &Outputs::default(), None, Some(&failure));
        assert!(text(&failed).starts_with("deploy of app shop FAILED after 12.3s\n"));
        let json = serde_json::to_value(&failed).expect("serializes");
        assert_eq!(json["type"], "summary");
        assert_eq!(json["result"], "failed");
        assert_eq!(json["no_changes"], false);
        assert_eq!(
            json["endpoints"]["regions"]["ap-northeast-1"]["object_bucket"],
            crate::names::bucket_name("shop", "objects", "123456789012", "ap-northeast-1")
        );
    }
}
