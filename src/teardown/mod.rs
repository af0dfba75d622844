//! `mraa teardown`: removes everything mraa made for an app, in both regions,
//! keeps the data unless `--delete-data` says otherwise, and finishes the job
//! when run again after any interruption.
//!
//! It finds the app from AWS alone (the bootstrap record; when that is gone,
//! `--secondary`, the StackSets' instances, the tables' replicas or the bucket
//! names), shows what it will delete and keep, asks on a terminal and refuses
//! without one unless `--yes`, then works in this order, each step idempotent
//! and checked through the service's own API:
//!
//! 1. the custom domain's failover and site records (by set identifier),
//!    then its health checks (by tag);
//! 2. claim: resources a stack of this app manages that outlive it (retained
//!    buckets, tables, user pools; replicas made by wiring) get the `mraa:app`
//!    tag, so that a later run can still prove they are this app's;
//! 3. the ACM validation records of the app's certificates that no other
//!    certificate uses (CloudFormation never deletes them), before the
//!    certificates' stacks, so that a re-run can still find them;
//! 4. the edge stack (its CloudFront distribution disabled and deployed
//!    first), then the site-certificate stack (us-east-1) it served;
//! 5. with `--delete-data`, the tables' replicas;
//! 6. the S3 replication configuration of the primary object bucket (its role
//!    goes with the object-store stack; kept buckets keep their contents);
//! 7. the site objects in the website buckets (CloudFormation cannot delete a
//!    bucket that is not empty);
//! 8. the StackSet instances, all regions in one operation, layers in reverse
//!    dependency order (the API domain, whose mappings name the APIs,
//!    first), then the StackSets; website buckets left behind are emptied and
//!    deleted;
//! 9. with `--delete-data`, the object-store and log buckets (every version,
//!    every delete marker, every multipart upload), the tables and the
//!    Cognito user pools (deletion protection off first);
//! 10. the bootstrap stack, last: its roles run the StackSets, and it is the
//!     record a re-run starts from.
//!
//! Certificates and domains are not data: they go with or without
//! `--delete-data`.
//!
//! Only resources with this app's names that carry its `mraa:app` tag (or
//! that a stack of this app manages) are touched; a same-named resource
//! without them is refused and reported, never deleted.

pub mod acm;
mod buckets;
pub mod inventory;
mod plan;
mod pools;
pub mod stacks;
mod steps;
mod summary;
mod tables;

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use clap::Args;
use serde::Serialize;

use crate::aws::{Aws, aws_error, says_unreachable};
use crate::config::Settings;
use crate::context::run_id;
use crate::discover;
use crate::error::{EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, MraaError, Result};
use crate::lock::{Claim, LockSlot};
use crate::plan::{Plan, Unit};
use crate::ui::progress::{Reporter, Status};
use crate::wire::dns_removal as dns;

use inventory::Inventory;
use summary::{Outcome, Summary};

#[derive(Debug, Clone, Default, Args)]
pub struct TeardownArgs {
    /// Also delete the data: empty (every object version and delete marker)
    /// and delete the object-store and log buckets, delete the tables and
    /// their replicas. Without it they are kept and listed
    #[arg(long)]
    pub delete_data: bool,
}

/// One resource in a plan or a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Item {
    pub fn new(kind: &str, name: impl Into<String>, region: Option<&str>) -> Item {
        Item {
            kind: kind.to_string(),
            name: name.into(),
            region: region.map(str::to_string),
            detail: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Item {
        self.detail = Some(detail.into());
        self
    }
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.name.is_empty() {
            write!(f, " {}", self.name)?;
        }
        if let Some(region) = &self.region {
            write!(f, " ({region})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// What a teardown will do: the plan shown before confirmation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Planned {
    pub delete: Vec<Item>,
    pub keep: Vec<Item>,
    pub refuse: Vec<Item>,
}

/// What a teardown did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ledger {
    pub deleted: Vec<Item>,
    pub failed: Vec<Item>,
    pub unverified: Vec<Item>,
}

/// A teardown in progress: the clients, the reporter and the lock, what was
/// found, and what has been done so far.
pub struct Run {
    pub aws: Aws,
    pub caller_arn: String,
    /// The deployment as found: its StackSets are deleted wave by wave.
    pub plan: Plan,
    /// Unique per run: StackSet operation ids.
    pub run_id: String,
    pub reporter: Arc<Reporter>,
    /// Claimed before the first deletion; see [`crate::lock`].
    pub lock: LockSlot,
    pub inventory: Inventory,
    pub delete_data: bool,
    ledger: Mutex<Ledger>,
}

impl Run {
    /// A run that deletes what `inventory` holds, keeping data.
    pub fn new(
        aws: Aws,
        caller_arn: String,
        plan: Plan,
        reporter: Arc<Reporter>,
        inventory: Inventory,
    ) -> Run {
        Run {
            aws,
            caller_arn,
            plan,
            run_id: String::from("mraa-teardown"),
            reporter,
            lock: LockSlot::default(),
            inventory,
            delete_data: false,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    pub fn report(&self, step: &str, region: &str, status: Status, detail: &str) {
        let detail = (!detail.is_empty()).then(|| detail.to_string());
        self.reporter.event(step, Some(region), status, detail);
    }

    pub fn operation_id(&self, unit: &str, what: &str) -> String {
        format!("{}-{unit}-{what}", self.run_id)
    }

    /// Takes the app's lock before the first change.
    async fn claim(&self) -> Result<()> {
        self.lock
            .claim(Claim {
                cfn: &self.aws.primary.cfn,
                region: &self.aws.primary.region,
                app: &self.inventory.app,
                operation: "teardown",
                caller_arn: &self.caller_arn,
            })
            .await
    }

    fn deleted(&self, step: &str, item: Item) {
        self.reporter.event(
            step,
            item.region.as_deref(),
            Status::Ok,
            Some(format!(
                "deleted {} {}{}",
                item.kind,
                item.name,
                item.detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )),
        );
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.deleted.push(item);
        }
    }

    fn unverified(&self, step: &str, item: Item) {
        self.reporter.event(
            step,
            item.region.as_deref(),
            Status::Unverified,
            Some(item.to_string()),
        );
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.unverified.push(item);
        }
    }

    fn failed(&self, err: &MraaError) {
        let item = match err {
            MraaError::Aws(a) => {
                Item::new(&a.unit, &a.resource, Some(&a.region)).detail(a.cause.clone())
            }
            other => Item::new("teardown", "", None).detail(other.to_string()),
        };
        self.reporter.event(
            &item.kind,
            item.region.as_deref(),
            Status::Failed,
            Some(err.to_string()),
        );
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.failed.push(item);
        }
    }

    fn refused(&self, item: Item) {
        self.reporter.event(
            &item.kind,
            item.region.as_deref(),
            Status::Failed,
            Some(item.to_string()),
        );
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.failed.push(item);
        }
    }

    fn ledger(&self) -> Ledger {
        self.ledger.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn custom_endpoint(&self) -> bool {
        self.aws.custom_endpoint
    }
}

/// An AWS failure at a named place; a cause that says the region did not
/// answer is said so plainly.
pub(crate) fn fail(
    step: &str,
    region: &str,
    resource: impl Into<String>,
    cause: impl Into<String>,
) -> MraaError {
    let cause = cause.into();
    let cause = if says_unreachable(&cause) {
        format!("{region} {NO_ANSWER} ({cause})")
    } else {
        cause
    };
    aws_error(step, region, resource, cause)
}

/// The same for an error already made elsewhere (a `wire` module).
pub(crate) fn refail(err: MraaError) -> MraaError {
    match err {
        MraaError::Aws(a) => fail(&a.unit, &a.region, a.resource, a.cause),
        other => other,
    }
}

/// How a cause says that its region did not answer (exit code 4).
const NO_ANSWER: &str = "does not answer";

/// The documented exit code of a failure: 4 when a region did not answer.
fn exit_code(err: &MraaError) -> u8 {
    match err {
        MraaError::Aws(a) if a.cause.contains(NO_ANSWER) => EXIT_UNREACHABLE,
        other => other.exit_code(),
    }
}

pub async fn run(
    settings: &Settings,
    args: &TeardownArgs,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    let reporter = Arc::new(Reporter::new(settings, Box::new(std::io::stdout())));
    let found = match find(settings).await {
        Ok(found) => found,
        // Bad input and credentials: refused before anything was done.
        Err(err @ (MraaError::Input(_) | MraaError::Credentials(_))) => return Err(err),
        Err(err) => {
            let summary = Summary::failed_early(settings, args.delete_data, &reporter, &err);
            return finish(&reporter, &summary, Some(&err), out, messages);
        }
    };
    let (inventory, aws, caller_arn) = found;
    // A deploy (or another command) still at work: not under its feet.
    if !inventory.busy.is_empty() {
        return Err(MraaError::Busy(format!(
            "another operation on app {} is in progress: {}; nothing was changed",
            inventory.app,
            inventory.busy.join("; ")
        )));
    }
    let mut planned = plan::plan(&inventory, args.delete_data);
    // The custom domain's records and health checks (by set identifier and
    // tag; nothing else in the zone), read before anything is changed.
    let dns = dns::inventory(&aws, &inventory.app, &inventory.dns_places())
        .await
        .map_err(crate::wire::route53::error)?;
    let dns_items = dns_items(&dns);
    planned.delete.splice(0..0, dns_items.iter().cloned());
    let secondary = inventory
        .secondary
        .clone()
        .unwrap_or_else(|| inventory.primary.clone());
    // The domain units in the plan: their StackSet is deleted in its wave.
    let mut deployment = Plan::new(&inventory.app, &inventory.primary, &secondary);
    if inventory.domain.is_some() || inventory.set(Unit::ApiDomain).is_some() {
        let (name, zone) = inventory
            .domain
            .as_ref()
            .map(|d| (d.name.as_str(), d.zone.as_str()))
            .unwrap_or_default();
        deployment = deployment.with_domain(name, zone);
    }
    if inventory.set(Unit::Alarms).is_some() {
        deployment = deployment.with_alarms();
    }
    let run = Run::new(aws, caller_arn, deployment, reporter.clone(), inventory);
    let run = Run {
        run_id: run_id("mraa-teardown"),
        delete_data: args.delete_data,
        ..run
    };

    if planned.delete.is_empty() && planned.refuse.is_empty() {
        let summary = Summary::new(&run, settings, &planned, Outcome::Nothing, None);
        return finish(&reporter, &summary, None, out, messages);
    }

    match confirm(settings, &run, &planned, messages).await {
        Confirmation::Yes => {}
        Confirmation::Declined => {
            let summary = Summary::new(&run, settings, &planned, Outcome::Declined, None);
            if !reporter.json_summary(&summary) {
                let _ = writeln!(messages, "teardown cancelled: nothing was changed");
            }
            return Ok(EXIT_USAGE);
        }
        Confirmation::NoTerminal => {
            let summary = Summary::new(&run, settings, &planned, Outcome::Refused, None);
            reporter.json_summary(&summary);
            let _ = writeln!(
                messages,
                "error: teardown of app {} needs confirmation and there is no terminal to ask on; \
                 nothing was changed: re-run with --yes to delete what is listed above",
                run.inventory.app
            );
            return Ok(EXIT_USAGE);
        }
    }

    reporter.note(&format!(
        "tearing down app {} in {} (account {})",
        run.inventory.app,
        run.inventory.regions().join(" and "),
        run.inventory.account
    ));
    for item in &planned.refuse {
        run.refused(item.clone());
    }
    // One changing command at a time per app (see crate::lock).
    run.claim().await?;
    let failure = match delete_dns(&run, &dns, &dns_items).await {
        Ok(()) => steps::execute(&run).await.err(),
        Err(err) => Some(err),
    };
    run.lock.release().await;
    if let Some(err) = &failure {
        run.failed(err);
    }
    let outcome = if failure.is_some() || !planned.refuse.is_empty() {
        Outcome::Failed
    } else {
        Outcome::Done
    };
    let summary = Summary::new(&run, settings, &planned, outcome, failure.as_ref());
    finish(&reporter, &summary, failure.as_ref(), out, messages)
}

fn dns_items(dns: &dns::DnsInventory) -> Vec<Item> {
    let records = dns.records.iter().map(|(zone, record)| {
        Item::new("record", record.name().trim_end_matches('.'), None).detail(format!(
            "{} {} in hosted zone {zone}",
            record.r#type().as_str(),
            record.set_identifier().unwrap_or_default()
        ))
    });
    let checks = dns.checks.iter().map(|check| {
        Item::new("health-check", &check.id, Some(&check.region))
            .detail("Route 53 health check of the state endpoint")
    });
    records.chain(checks).collect()
}

/// Records first (a health check in use cannot be deleted), then checks.
async fn delete_dns(run: &Run, dns: &dns::DnsInventory, items: &[Item]) -> Result<()> {
    if dns.is_empty() {
        return Ok(());
    }
    dns::delete(&run.aws, &run.inventory.app, dns)
        .await
        .map_err(crate::wire::route53::error)?;
    for item in items {
        run.deleted(crate::wire::route53::STEP, item.clone());
    }
    Ok(())
}

/// Prints the summary (text on `out`, or the JSON object on the event
/// stream) and the error, and returns the exit code.
fn finish(
    reporter: &Reporter,
    summary: &Summary,
    failure: Option<&MraaError>,
    out: &mut dyn Write,
    messages: &mut dyn Write,
) -> Result<u8> {
    if !reporter.json_summary(summary) {
        summary
            .write_text(out)
            .map_err(|e| MraaError::Io(e.to_string()))?;
    }
    if let Some(err) = failure {
        let _ = writeln!(messages, "error: {err}");
        let _ = writeln!(
            messages,
            "  next: fix the cause above (or wait until the region answers), then run `{}` again: it resumes where it stopped",
            summary.retry_command()
        );
    }
    Ok(match summary.outcome() {
        Outcome::Done | Outcome::Nothing => EXIT_OK,
        Outcome::Refused | Outcome::Declined => EXIT_USAGE,
        Outcome::Failed => failure.map(exit_code).unwrap_or(EXIT_FAILED),
    })
}

/// Finds the app and reads what of it exists. Makes no mutating call.
async fn find(settings: &Settings) -> Result<(Inventory, Aws, String)> {
    let probe = Aws::new(
        settings,
        settings.secondary.as_deref().unwrap_or(&settings.primary),
    )
    .await;
    let caller = probe.caller().await?;
    let app = &settings.app;
    let (aws, secondary) = match discover::find(settings).await {
        Ok(Some((deployment, aws))) => (
            aws,
            Some((deployment.secondary, "the bootstrap record".to_string())),
        ),
        Ok(None) => {
            let secondary = match &settings.secondary {
                Some(region) => Some((region.clone(), "the --secondary setting".to_string())),
                None => inventory::find_secondary(&probe.primary, app, &caller.account).await?,
            };
            let aws = match &secondary {
                Some((region, _)) if *region != probe.secondary.region => {
                    Aws::new(settings, region).await
                }
                _ => probe,
            };
            (aws, secondary)
        }
        // A cause that shows the region did not answer, said plainly.
        Err(err) => return Err(refail(err)),
    };
    let inventory = inventory::gather(&aws, app, &caller.account, secondary).await?;
    Ok((inventory, aws, caller.arn))
}

enum Confirmation {
    Yes,
    Declined,
    NoTerminal,
}

/// `--yes`, or an answer on a terminal. The plan is shown first (on
/// `messages`, unless quiet or JSON without a terminal).
async fn confirm(
    settings: &Settings,
    run: &Run,
    planned: &Planned,
    messages: &mut dyn Write,
) -> Confirmation {
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let ask = !settings.yes && terminal;
    let quiet = settings.verbosity == crate::config::Verbosity::Quiet;
    if ask || (settings.output != crate::config::OutputFormat::Json && !quiet) {
        let _ = summary::write_plan(messages, &run.inventory, planned, run.delete_data);
    }
    if settings.yes {
        return Confirmation::Yes;
    }
    if !terminal {
        return Confirmation::NoTerminal;
    }
    let app = run.inventory.app.clone();
    let inv = &run.inventory;
    let delete_data = run.delete_data
        && (inv.buckets.iter().any(|b| b.is_data() && b.owner.is_ours())
            || inv.tables.iter().any(|t| t.owner.is_ours())
            || inv.pools.iter().any(|p| p.owner.is_ours()));
    let prompt = if delete_data {
        format!("This deletes data for good. Type the app name ({app}) to go ahead: ")
    } else {
        "Delete what is listed above? [y/N] ".to_string()
    };
    let _ = write!(messages, "{prompt}");
    let _ = messages.flush();
    let answer = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    let answer = match answer {
        Ok(Ok(line)) => line.trim().to_string(),
        _ => String::new(),
    };
    let yes = if delete_data {
        answer == app
    } else {
        matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes")
    };
    if yes {
        Confirmation::Yes
    } else {
        Confirmation::Declined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_that_mean_no_answer_are_recognised() {
        assert!(says_unreachable(
            "dispatch failure: io error: connection refused"
        ));
        assert!(says_unreachable("request has timed out"));
        assert!(!says_unreachable("AccessDenied: not allowed"));
        let err = fail("site", "ap-northeast-1", "bucket", "dispatch failure: x");
        assert_eq!(exit_code(&err), EXIT_UNREACHABLE);
        assert!(err.to_string().contains("ap-northeast-1 does not answer"));
        let err = fail("site", "ap-northeast-1", "bucket", "AccessDenied");
        assert_eq!(exit_code(&err), crate::error::EXIT_CREDENTIALS);
    }
}
