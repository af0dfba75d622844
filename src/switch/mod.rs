//! The state switch of `failover`, `fence`, `activate` and `drill`: a
//! conditional write of the state item through one region, then a read-back
//! in every region that answers.
//!
//! `failover` writes through the secondary, so it works while the primary is
//! down; `fence` and `activate` write through the primary and fall back to
//! the secondary (a global table replicates either way). They call nothing
//! but DynamoDB and STS: with a custom domain, Route 53's health checks read
//! the state and move DNS themselves.

pub mod guard;
pub mod serving;

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::app_state::{AppState, StateRecord, read};
use crate::aws::{Aws, is_unreachable, sdk_message};
use crate::config::Settings;
use crate::context::now;
use crate::discover;
use crate::error::{MraaError, Result};
use crate::health::links;
use crate::names;

#[derive(Debug, Serialize)]
pub struct RegionRead {
    pub region: String,
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long after the write this region first read the new state
    /// (replication is asynchronous), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicated_after_ms: Option<u64>,
}

/// Where a state change goes: the deployment's clients, whether its primary
/// failed to answer, and its global tables.
pub struct Located {
    pub aws: Aws,
    pub primary_down: bool,
    pub tables: &'static [&'static str],
}

/// A state change made (or found already made).
pub struct Written {
    /// The state before, as read in the region written in.
    pub before: Option<String>,
    /// The region written in; `None` when the state was already the target.
    pub written_in: Option<String>,
}

/// Writes `target` through the first region that answers (the secondary for
/// `failover`, the primary then the secondary otherwise), once approved:
/// `approved` says the caller has asked already. `Ok(None)`: not approved,
/// nothing was changed.
pub async fn write_through(
    settings: &Settings,
    located: &Located,
    target: AppState,
    reason: Option<&str>,
    approved: bool,
    messages: &mut dyn Write,
) -> Result<Option<Written>> {
    let Located {
        aws,
        primary_down,
        tables,
    } = located;
    let (aws, primary_down, tables) = (aws, *primary_down, *tables);
    let order: Vec<&str> = match target {
        AppState::Failover => vec![&aws.secondary.region],
        AppState::Fenced | AppState::Active => {
            if primary_down {
                vec![&aws.secondary.region]
            } else {
                vec![&aws.primary.region, &aws.secondary.region]
            }
        }
    };
    if primary_down && target != AppState::Failover {
        warn(
            settings,
            messages,
            &format!(
                "the primary region {} does not answer: writing through {} instead",
                aws.primary.region, aws.secondary.region
            ),
        );
    }

    let mut written = None;
    let mut before = None;
    let mut last_error = None;
    // Asked once, also when the first region does not answer.
    let mut approved = approved;
    for region in order {
        let request = Request {
            region,
            target,
            reason,
            tables,
        };
        match write(settings, aws, &request, &mut approved, messages).await {
            Err(WriteError::NeedsConfirmation) => return Ok(None),
            Ok(previous) => {
                before = previous;
                written = Some(region.to_string());
                break;
            }
            Err(WriteError::Unreachable(cause)) => {
                warn(
                    settings,
                    messages,
                    &format!("{region} did not answer ({cause})"),
                );
                last_error = Some(MraaError::Unreachable {
                    region: region.to_string(),
                    cause,
                });
            }
            Err(WriteError::AlreadySet(record)) => {
                before = record.raw_state.clone();
                written = None;
                last_error = None;
                break;
            }
            Err(WriteError::Failed(err)) => return Err(err),
        }
    }
    if let Some(err) = last_error {
        return Err(err);
    }

    Ok(Some(Written {
        before,
        written_in: written,
    }))
}

/// The deployment's clients, whether its primary failed to answer, and its
/// global tables (with the primary down its record is not read: every table
/// either user replication has, so that none is passed over).
pub async fn locate(
    settings: &Settings,
    target: AppState,
    messages: &mut dyn Write,
) -> Result<Located> {
    locate_for(settings, target.verb(), messages).await
}

/// [`locate`] for any command that changes the state, by its name as typed.
pub async fn locate_for(
    settings: &Settings,
    verb: &str,
    messages: &mut dyn Write,
) -> Result<Located> {
    match discover::find(settings).await {
        Ok(Some((deployment, aws))) => {
            let tables = (deployment.user_replication)
                .map_or(names::ALL_GLOBAL_TABLES, names::global_tables);
            Ok(Located {
                aws,
                primary_down: false,
                tables,
            })
        }
        Ok(None) => Err(MraaError::NotDeployed {
            app: settings.app.clone(),
            region: settings.primary.clone(),
        }),
        // The bootstrap lives in the primary; with the primary down, the
        // secondary is named by flag, environment or config file, or by the
        // deployment record in another region.
        Err(MraaError::Unreachable { region, cause }) => {
            let Some(aws) = discover::without_primary(settings, messages).await else {
                return Err(MraaError::Unreachable {
                    region,
                    cause: format!(
                        "{cause}; {}; so that mraa can {} without the primary, {}",
                        discover::RECORD_NOT_FOUND,
                        verb,
                        discover::SECONDARY_SOURCES
                    ),
                });
            };
            Ok(Located {
                aws,
                primary_down: true,
                tables: names::ALL_GLOBAL_TABLES,
            })
        }
        Err(other) => Err(other),
    }
}

enum WriteError {
    /// Not approved: the question declined, or activation without a
    /// terminal while replication is not known to be healthy.
    NeedsConfirmation,
    Unreachable(String),
    AlreadySet(StateRecord),
    Failed(MraaError),
}

/// A state change, as asked for, through one region.
struct Request<'a> {
    region: &'a str,
    target: AppState,
    reason: Option<&'a str>,
    tables: &'a [&'static str],
}

/// Writes the target state in the request's region if the state there is
/// still what was read, once approved (`approved` remembers it). Returns
/// the previous state.
async fn write(
    settings: &Settings,
    aws: &Aws,
    request: &Request<'_>,
    approved: &mut bool,
    messages: &mut dyn Write,
) -> Result<Option<String>, WriteError> {
    let (region, target, reason) = (request.region, request.target, request.reason);
    let client = &aws.region(region).dynamodb;
    let table = names::table_name(&settings.app, "app-config");
    let failed = |cause: String| {
        WriteError::Failed(crate::aws::aws_error(
            target.verb(),
            region,
            table.as_str(),
            cause,
        ))
    };
    let current = match client
        .get_item()
        .table_name(&table)
        .key("appId", AttributeValue::S(settings.app.clone()))
        .consistent_read(true)
        .send()
        .await
    {
        Ok(out) => out.item().map(StateRecord::from_item),
        Err(e) if is_unreachable(&e) => return Err(WriteError::Unreachable(sdk_message(&e))),
        Err(e) => {
            let hint = if !crate::aws::is_not_found(&e) {
                String::new()
            } else if region == aws.primary.region {
                // The primary holds the original table, never a replica.
                format!("; the table does not exist in {region}: run `mraa deploy` to create it")
            } else {
                format!("; the table has no replica in {region}: run `mraa deploy` to create it")
            };
            return Err(failed(format!("{}{hint}", sdk_message(&e))));
        }
    };
    let Some(current) = current else {
        return Err(failed(
            "no state item: run `mraa deploy`, which seeds the state `active`".into(),
        ));
    };
    if current.state == Some(target) {
        return Err(WriteError::AlreadySet(current));
    }
    if !*approved {
        if !approve(settings, aws, request, &current, messages)
            .await
            .map_err(WriteError::Failed)?
        {
            return Err(WriteError::NeedsConfirmation);
        }
        *approved = true;
    }
    let caller = aws.caller_in(region).await.map_err(WriteError::Failed)?;
    let previous = current.raw_state.clone().unwrap_or_default();
    let mut values = HashMap::from([
        (
            ":new".to_string(),
            AttributeValue::S(target.as_str().into()),
        ),
        (":old".to_string(), AttributeValue::S(previous.clone())),
    ]);
    let (set, remove) = stamp(&mut values, caller.arn, region, reason);
    let update = format!("SET #state = :new, previousState = :old, {set}{remove}");
    let result = client
        .update_item()
        .table_name(&table)
        .key("appId", AttributeValue::S(settings.app.clone()))
        .update_expression(update)
        .condition_expression("#state = :old")
        .expression_attribute_names("#state", "state")
        .set_expression_attribute_values(Some(values))
        .send()
        .await;
    match result {
        Ok(_) => Ok(Some(previous)),
        Err(e) if is_unreachable(&e) => Err(WriteError::Unreachable(sdk_message(&e))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Err(failed(format!(
                "the state changed from `{previous}` while mraa was writing; run `mraa status` and try again"
            )))
        }
        Err(e) => Err(failed(sdk_message(&e))),
    }
}

/// Who changed the state item, when, where and why, as every change of it
/// records: its SET clauses and its REMOVE clause (an old reason goes when
/// none is given), their values added to `values`.
pub(crate) fn stamp(
    values: &mut HashMap<String, AttributeValue>,
    caller_arn: String,
    region: &str,
    reason: Option<&str>,
) -> (String, &'static str) {
    values.insert(":at".into(), AttributeValue::S(now()));
    values.insert(":by".into(), AttributeValue::S(caller_arn));
    values.insert(":in".into(), AttributeValue::S(region.to_string()));
    let mut set = "updatedAt = :at, updatedBy = :by, updatedIn = :in".to_string();
    match reason {
        Some(reason) => {
            values.insert(":why".into(), AttributeValue::S(reason.to_string()));
            set.push_str(", reason = :why");
            (set, "")
        }
        None => (set, " REMOVE reason"),
    }
}

/// Reads the item back in every region until each reads `target`: the write
/// went to one region, and a global table copies it to the others
/// asynchronously, so another region reads the old state first. Waits
/// (bounded, with backoff) and reports when each region caught up; a region
/// still behind at the bound is reported with what it reads.
pub async fn read_back(
    aws: &Aws,
    app: &str,
    down: Option<&str>,
    target: AppState,
) -> Vec<RegionRead> {
    let started = std::time::Instant::now();
    let mut backoff = crate::app_state::replication_backoff(aws.custom_endpoint);
    let regions = aws.regions();
    let mut reads: Vec<Option<RegionRead>> = regions.iter().map(|_| None).collect();
    loop {
        let pending: Vec<_> = regions
            .iter()
            .zip(&reads)
            .filter(|(_, read)| {
                read.as_ref()
                    .is_none_or(|r| r.error.is_none() && !reached(r, target))
            })
            .map(|(c, _)| c)
            .collect();
        let results = futures::future::join_all(pending.iter().map(|c| async move {
            if down == Some(c.region.as_str()) {
                return Err("not read: the region did not answer".to_string());
            }
            read(&c.dynamodb, app).await
        }))
        .await;
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        for (c, result) in pending.iter().zip(results) {
            let index = regions
                .iter()
                .position(|r| r.region == c.region)
                .unwrap_or_default();
            let mut read = region_read(&c.region, result);
            if reached(&read, target) {
                read.replicated_after_ms = Some(elapsed);
            }
            reads[index] = Some(read);
        }
        let behind = reads
            .iter()
            .flatten()
            .filter(|r| r.error.is_none() && !reached(r, target))
            .count();
        if behind == 0 || !backoff.wait().await {
            break;
        }
    }
    reads
        .into_iter()
        .flatten()
        .map(|mut read| {
            if read.error.is_none() && !reached(&read, target) {
                read.error = Some(format!(
                    "still reads {} after {} s: replication has not caught up; run `mraa status` to follow it",
                    read.state.as_deref().unwrap_or("no state"),
                    crate::app_state::REPLICATION_LIMIT.as_secs()
                ));
            }
            read
        })
        .collect()
}

fn reached(read: &RegionRead, target: AppState) -> bool {
    read.state.as_deref() == Some(target.as_str())
}

fn region_read(region: &str, result: Result<Option<StateRecord>, String>) -> RegionRead {
    let (state, error) = match result {
        Ok(Some(record)) => (record.raw_state, None),
        Ok(None) => (None, Some("no state item in this region".into())),
        Err(e) => (None, Some(e)),
    };
    RegionRead {
        region: region.to_string(),
        state,
        error,
        replicated_after_ms: None,
    }
}

/// `--yes`, or the answer to the question (see [`guard`]); without a
/// terminal the reason was checked before any call. Activating before
/// replication has caught up can lose the writes the secondary took during
/// failover: without a terminal that needs `--yes`, on one the question
/// says so.
async fn approve(
    settings: &Settings,
    aws: &Aws,
    request: &Request<'_>,
    current: &StateRecord,
    messages: &mut dyn Write,
) -> Result<bool> {
    let target = request.target;
    let mut warning = None;
    if target == AppState::Active {
        let (mut problems, lag) = futures::future::join(
            links::replication_problems(aws, &settings.app, request.tables),
            crate::health::lag::describe(aws, &settings.app, request.tables),
        )
        .await;
        for line in &lag.figures {
            let _ = writeln!(messages, "replication lag: {line}");
        }
        problems.extend(lag.problems);
        if !problems.is_empty() {
            warning = Some(format!(
                "replication is not confirmed healthy ({}; see `mraa status`); writing to the primary before it has caught up risks losing the secondary's writes",
                problems.join("; ")
            ));
        }
    }
    // The figures are printed either way; `--yes` only skips the question.
    if settings.yes {
        return Ok(true);
    }
    if !crate::confirm::terminal() {
        if let Some(why) = warning {
            let _ = writeln!(
                messages,
                "error: refusing to activate: {why}; nothing was changed: pass --yes to proceed"
            );
            return Ok(false);
        }
        return Ok(true);
    }
    let question = guard::question(
        &settings.app,
        current,
        target,
        (&aws.primary.region, &aws.secondary.region),
        warning.as_deref(),
    );
    if crate::confirm::ask(&question, &mut std::io::stdin().lock(), messages) {
        return Ok(true);
    }
    let _ = writeln!(messages, "{}", guard::declined(target));
    Ok(false)
}

pub fn warn(settings: &Settings, messages: &mut dyn Write, line: &str) {
    if settings.verbosity != crate::config::Verbosity::Quiet {
        let _ = writeln!(messages, "warning: {line}");
    }
}
