//! `mraa drill`: a rehearsal on the live deployment that changes nothing it
//! does not put back. It measures the recovery point (a probe item and a
//! probe object written in the primary, timed until they read in the
//! secondary, then removed) and, with `--failover`, the recovery time (the
//! state switched to the secondary through [`crate::switch`], as `mraa
//! failover` does, timed until every Region reads it, the health checks
//! flip, DNS answers the secondary and its API serves; then `activate`, and
//! the way back measured the same way). Each figure is reported beside its
//! objective; a missed one exits 3, named.

mod probes;
mod report;
mod rto;
mod users;

use std::io::Write;
use std::time::Instant;

use clap::Args;

use crate::app_state::{AppState, read};
use crate::config::Settings;
use crate::discover;
use crate::error::{EXIT_DEGRADED, EXIT_OK, EXIT_USAGE, MraaError, Result};
use crate::names;
use crate::switch::{self, Located, guard};

use report::{Figure, Report, Verdict};

#[derive(Debug, Clone, Default, Args)]
pub struct DrillArgs {
    /// Also switch to the secondary and back, measuring the recovery time
    /// (the application is read-only meanwhile)
    #[arg(long)]
    pub failover: bool,

    /// Why the drill runs; recorded with its state changes
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub async fn run(
    settings: &Settings,
    args: &DrillArgs,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    // The state commands' guard: without a terminal, deliberate or refused
    // before any AWS call.
    let terminal = crate::confirm::terminal();
    if let Some(refusal) = guard::refuse("drill", settings.yes, args.reason.as_deref(), terminal) {
        let _ = writeln!(messages, "{refusal}");
        return Ok(EXIT_USAGE);
    }
    let (deployment, aws) = match discover::find(settings).await? {
        Some(found) => found,
        None => {
            return Err(MraaError::NotDeployed {
                app: settings.app.clone(),
                region: settings.primary.clone(),
            });
        }
    };
    let app = &settings.app;
    // Active-active has no switch to the secondary to time: both Regions
    // serve, and taking one out is a drain. Refused before any write.
    if args.failover
        && crate::plan::Mode::from_recorded(Some(&deployment.mode))
            == Some(crate::plan::Mode::ActiveActive)
    {
        let (primary, secondary) = (&aws.primary.region, &aws.secondary.region);
        let _ = writeln!(
            messages,
            "error: `mraa drill --failover` rehearses active-passive's switch, and app {app} is \
             active-active: both Regions serve, there is no failover to time; run `mraa drill` \
             for the recovery point, and rehearse losing {primary} with `mraa drain {primary}` \
             then `mraa return {primary}` (each read back in {primary} and {secondary}); \
             nothing was changed"
        );
        return Ok(EXIT_USAGE);
    }
    // A drill starts from normal operation: it puts back `active`.
    let state = read(&aws.primary.dynamodb, app)
        .await
        .map_err(|e| crate::aws::aws_error("drill", &aws.primary.region, "app-config", e))?;
    if state.as_ref().and_then(|s| s.state) != Some(AppState::Active) {
        let found = state.and_then(|s| s.raw_state);
        return Err(MraaError::Refused(format!(
            "app {app} is {}, not active: a drill starts from normal operation and returns to \
             it; nothing was changed: run `mraa status`, and `mraa activate` once it is safe",
            found.as_deref().unwrap_or("without a state")
        )));
    }
    if terminal && !settings.yes && !approved(settings, &aws, args, messages) {
        return Ok(EXIT_USAGE);
    }
    let account = aws.caller_in(&aws.primary.region).await?.account;
    let probes = probes::Probes::new(&aws, app, &account);
    let mut left = Left::default();
    left.probes = probes.listed();

    // The recovery point; the probes are removed whatever it measured.
    let native = deployment.user_replication != Some(crate::plan::UserReplication::Import);
    let measured = futures::future::join3(
        probes::item(&aws, &probes),
        probes::object(&aws, &probes),
        users::attribute_change(&aws, &probes, native),
    )
    .await;
    let removed = futures::future::join(
        probes::remove_item(&aws, &probes),
        probes::remove_object(&aws, &probes),
    )
    .await;
    let (item, object, user) = (measured.0?, measured.1?, measured.2?);
    removed.0?;
    removed.1?;
    left.probes.clear();
    let mut figures = vec![item, object, user];

    if args.failover {
        let located = Located {
            aws: aws.clone(),
            primary_down: false,
            tables: deployment
                .user_replication
                .map_or(names::ALL_GLOBAL_TABLES, names::global_tables),
        };
        let reason = args.reason.as_deref().unwrap_or("drill");
        figures.extend(recovery(settings, &located, reason, &mut left, messages).await?);
    } else {
        let skipped = "run `mraa drill --failover` to measure it";
        figures.push(Figure::not_measured(
            "rto-state",
            Verdict::Skipped,
            rto::STATE_OBJECTIVE_SECS,
            skipped.into(),
        ));
    }

    let missed = Report::missed(&figures);
    let report = Report {
        schema_version: 1,
        app: app.clone(),
        primary: aws.primary.region.clone(),
        secondary: aws.secondary.region.clone(),
        failover: args.failover,
        missed: figures
            .iter()
            .filter(|f| f.verdict == Verdict::Missed)
            .map(|f| f.name.clone())
            .collect(),
        figures,
        probes: probes.listed(),
    };
    report::write(settings.output, &report, out).map_err(|e| MraaError::Io(e.to_string()))?;
    if missed.is_empty() {
        return Ok(EXIT_OK);
    }
    let _ = writeln!(
        messages,
        "error: the drill missed {} objective(s): {}; run `mraa status` to see replication and DNS",
        missed.len(),
        missed.join("; ")
    );
    Ok(EXIT_DEGRADED)
}

/// What a drill that stops early (an error, or Ctrl-C, which drops its
/// future and this with it) leaves behind, said on stderr as it stops.
#[derive(Default)]
struct Left {
    probes: Vec<String>,
    /// The app, from the failover's write until the return's.
    failover: Option<String>,
}

impl Left {
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.probes.is_empty() {
            lines.push(format!(
                "the drill stopped before removing its probes, which may be left (marked, safe to \
                 delete): {}",
                self.probes.join("; ")
            ));
        }
        if let Some(app) = &self.failover {
            lines.push(format!(
                "the drill stopped before returning: app {app} may be in failover; run `mraa \
                 status --app {app}`, then `mraa activate --app {app} --reason \"drill\"`"
            ));
        }
        lines
    }
}

impl Drop for Left {
    fn drop(&mut self) {
        let mut stderr = std::io::stderr();
        for line in self.lines() {
            let _ = writeln!(stderr, "warning: {line}");
        }
    }
}

/// On a terminal: what the drill does, and the question.
fn approved(
    settings: &Settings,
    aws: &crate::aws::Aws,
    args: &DrillArgs,
    messages: &mut dyn Write,
) -> bool {
    let (primary, secondary) = (&aws.primary.region, &aws.secondary.region);
    let mut question = format!(
        "drill of app {}: writes a probe item (app-config) and object ({}) in {primary}, times \
         their arrival in {secondary}, and removes them.\n",
        settings.app,
        probes::OBJECT_PREFIX
    );
    if args.failover {
        question.push_str(&format!(
            "Then fails over: {}; and activates again.\n",
            guard::what_changes(AppState::Failover, primary, secondary)
        ));
    }
    question.push_str("Run the drill? [y/N] ");
    if crate::confirm::ask(&question, &mut std::io::stdin().lock(), messages) {
        return true;
    }
    let _ = writeln!(messages, "drill cancelled: nothing was changed");
    false
}

/// Fails over and back, measuring each way. The way back is taken whatever
/// the way there measured.
async fn recovery(
    settings: &Settings,
    located: &Located,
    reason: &str,
    left: &mut Left,
    messages: &mut dyn Write,
) -> Result<Vec<Figure>> {
    let aws = &located.aws;
    let app = &settings.app;
    let domain = rto::domain(aws, app).await;
    let mut figures = Vec::new();
    for (target, prefix, serving) in [
        (AppState::Failover, "rto", &aws.secondary.region),
        (AppState::Active, "return", &aws.primary.region),
    ] {
        let started = Instant::now();
        // From the failover's write until the return's: said if the drill
        // stops in between.
        left.failover = Some(app.clone());
        switch::write_through(settings, located, target, Some(reason), true, messages).await?;
        if target == AppState::Active {
            left.failover = None;
        }
        let name = |what: &str| format!("{prefix}-{what}");
        let state = async {
            let reads = switch::read_back(aws, app, None, target).await;
            rto::state(&name("state"), target, started, &reads)
        };
        let dns = async {
            match &domain {
                Ok(Some(domain)) => {
                    let (checks_name, dns_name) = (name("health-checks"), name("dns"));
                    let primary_serves = target == AppState::Active;
                    let (checks, dns) = futures::future::join(
                        rto::checks(aws, domain, &checks_name, started, primary_serves),
                        rto::dns(aws, app, domain, &dns_name, started, serving),
                    )
                    .await;
                    vec![checks, dns]
                }
                Ok(None) => ["health-checks", "dns"]
                    .map(|what| {
                        Figure::not_measured(
                            &name(what),
                            Verdict::Skipped,
                            rto::DNS_OBJECTIVE_SECS,
                            "no custom domain: DNS does not move".into(),
                        )
                    })
                    .to_vec(),
                Err(cause) => ["health-checks", "dns"]
                    .map(|what| {
                        Figure::failed(
                            &name(what),
                            rto::DNS_OBJECTIVE_SECS,
                            format!("Route 53's health checks cannot be listed: {cause}"),
                        )
                    })
                    .to_vec(),
            }
        };
        let api_name = name("api");
        let api = rto::api(aws, app, &api_name, started, serving);
        let (state, dns, api) = futures::future::join3(state, dns, api).await;
        figures.push(state);
        figures.extend(dns);
        figures.push(api);
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_that_stops_early_says_what_it_leaves_and_the_way_back() {
        let mut left = Left {
            probes: vec!["item shop#drill-1 of table mraa-shop-app-config".into()],
            failover: Some("shop".into()),
        };
        let lines = left.lines();
        assert!(lines[0].contains("item shop#drill-1"), "{lines:?}");
        assert!(
            lines[1].contains("mraa activate --app shop --reason \"drill\""),
            "{lines:?}"
        );
        // Removed and returned: nothing to say.
        left.probes.clear();
        left.failover = None;
        assert!(left.lines().is_empty());
    }
}
