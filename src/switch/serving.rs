//! Per-Region serving state of active-active: the state item's string set
//! `drained` names the Regions taken out (absent or without a Region: it
//! serves). `drain` adds a Region, `return` removes it, each written through
//! the Region that stays serving and read back in every Region. The state
//! API reports a drained Region as not serving, so its Route 53 health check
//! fails and its latency record stops answering: nothing here calls Route 53.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::app_state::{self, StateRecord};
use crate::aws::{Aws, is_unreachable, sdk_message};
use crate::error::{MraaError, Result};
use crate::names;
use crate::plan::Mode;

/// What changes a Region's serving state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Serving {
    Drain,
    Return,
}

impl Serving {
    /// The command, as typed.
    pub fn verb(self) -> &'static str {
        match self {
            Serving::Drain => "drain",
            Serving::Return => "return",
        }
    }

    /// Whether `record` already has `region` where this change puts it.
    pub fn done(self, record: &StateRecord, region: &str) -> bool {
        let drained = record.drained.iter().any(|r| r == region);
        match self {
            Serving::Drain => drained,
            Serving::Return => !drained,
        }
    }
}

/// The refusals that need only the deployment's regions and mode: an
/// unknown Region, and active-passive (which has failover and activate).
pub fn refuse(
    change: Serving,
    region: &str,
    (primary, secondary): (&str, &str),
    mode: Mode,
) -> Option<String> {
    if region != primary && region != secondary {
        return Some(format!(
            "error: {region} is not a Region of this deployment ({primary}, {secondary}); \
             nothing was changed: run `mraa {} {secondary}` or `mraa {} {primary}`",
            change.verb(),
            change.verb()
        ));
    }
    if mode == Mode::ActivePassive {
        let instead = match change {
            Serving::Drain => "`mraa failover` moves users to the secondary",
            Serving::Return => "`mraa activate` returns them to the primary",
        };
        return Some(format!(
            "error: `mraa {}` is for active-active deployments, and this one is active-passive: \
             {instead}; nothing was changed (`mraa deploy --mode active-active` changes the mode)",
            change.verb()
        ));
    }
    None
}

/// The Region that stays serving while `region` changes: the other one.
pub fn stays<'a>(region: &str, (primary, secondary): (&'a str, &'a str)) -> &'a str {
    if region == primary {
        secondary
    } else {
        primary
    }
}

/// The mode as the deployment record in `aws`'s region `through` holds it.
pub async fn recorded_mode(aws: &Aws, app: &str, through: &str) -> Result<Mode> {
    let client = &aws.region(through).dynamodb;
    let table = names::table_name(app, "app-config");
    let record = app_state::read_record(client, app)
        .await
        .map_err(|cause| crate::aws::aws_error("mode", through, table.as_str(), cause))?;
    Ok(record.and_then(|r| r.mode).unwrap_or_default())
}

/// The outcome of a write.
pub enum Wrote {
    /// Written through the Region that stays; the drained set before.
    Changed(Vec<String>),
    /// Already so: nothing written.
    AlreadySo,
}

/// Writes the change of `region` through `through`, conditionally: a drain
/// is refused when `through` itself is drained, so that one Region always
/// serves (the condition is the state API's and the handlers' own rule).
pub async fn write(
    aws: &Aws,
    app: &str,
    change: Serving,
    region: &str,
    through: &str,
    reason: Option<&str>,
) -> Result<Wrote> {
    let client = &aws.region(through).dynamodb;
    let table = names::table_name(app, "app-config");
    let fail = |cause: String| crate::aws::aws_error(change.verb(), through, table.as_str(), cause);
    let current = app_state::read(client, app).await.map_err(fail)?;
    let Some(current) = current else {
        return Err(fail(
            "no state item: run `mraa deploy`, which seeds the state `active`".into(),
        ));
    };
    if change.done(&current, region) {
        return Ok(Wrote::AlreadySo);
    }
    let caller = aws.caller_in(through).await?;
    let mut values = HashMap::from([(
        ":region".to_string(),
        AttributeValue::Ss(vec![region.to_string()]),
    )]);
    let (set, remove) = super::stamp(&mut values, caller.arn, through, reason);
    let mut request = client
        .update_item()
        .table_name(&table)
        .key("appId", AttributeValue::S(app.to_string()));
    request = match change {
        Serving::Drain => {
            values.insert(":other".into(), AttributeValue::S(through.to_string()));
            request
                .update_expression(format!("SET {set} ADD drained :region{remove}"))
                .condition_expression(
                    "attribute_exists(appId) AND (attribute_not_exists(drained) OR NOT contains(drained, :other))",
                )
        }
        Serving::Return => request
            .update_expression(format!("SET {set} DELETE drained :region{remove}"))
            .condition_expression("attribute_exists(appId)"),
    };
    match request
        .set_expression_attribute_values(Some(values))
        .send()
        .await
    {
        Ok(_) => Ok(Wrote::Changed(current.drained)),
        Err(e) if is_unreachable(&e) => Err(MraaError::Unreachable {
            region: through.to_string(),
            cause: sdk_message(&e),
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Err(fail(format!(
                "{through} is drained itself, so draining {region} would leave no Region \
                 serving: run `mraa return {through}` first"
            )))
        }
        Err(e) => Err(fail(sdk_message(&e))),
    }
}

/// One Region's read of the drained set after the change.
#[derive(Debug, Serialize)]
pub struct DrainedRead {
    pub region: String,
    pub drained: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long after the write this Region first read the change, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicated_after_ms: Option<u64>,
}

/// Reads the state item back in every Region until each shows the change
/// (a global table replicates asynchronously), bounded like the state
/// switch's read-back; a Region still behind is reported with what it reads.
pub async fn read_back(aws: &Aws, app: &str, change: Serving, region: &str) -> Vec<DrainedRead> {
    let started = std::time::Instant::now();
    let mut backoff = app_state::replication_backoff(aws.custom_endpoint);
    let mut reads: Vec<DrainedRead> = aws
        .regions()
        .iter()
        .map(|c| DrainedRead {
            region: c.region.clone(),
            drained: Vec::new(),
            error: Some("not read yet".into()),
            replicated_after_ms: None,
        })
        .collect();
    loop {
        let pending: Vec<usize> = (0..reads.len())
            .filter(|&i| reads[i].replicated_after_ms.is_none())
            .collect();
        let results = futures::future::join_all(pending.iter().map(|&i| {
            let client = &aws.region(&reads[i].region).dynamodb;
            app_state::read(client, app)
        }))
        .await;
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        for (&i, result) in pending.iter().zip(results) {
            let read = &mut reads[i];
            match result {
                Ok(Some(record)) => {
                    read.error = None;
                    if change.done(&record, region) {
                        read.replicated_after_ms = Some(elapsed);
                    }
                    read.drained = record.drained;
                }
                Ok(None) => read.error = Some("no state item in this region".into()),
                Err(e) => read.error = Some(e),
            }
        }
        if reads.iter().all(|r| r.replicated_after_ms.is_some()) || !backoff.wait().await {
            break;
        }
    }
    for read in &mut reads {
        if read.replicated_after_ms.is_none() && read.error.is_none() {
            read.error = Some(format!(
                "still reads drained [{}] after {} s: replication has not caught up; run `mraa status` to follow it",
                read.drained.join(", "),
                app_state::REPLICATION_LIMIT.as_secs()
            ));
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONS: (&str, &str) = ("us-east-1", "eu-west-1");

    #[test]
    fn drain_and_return_are_refused_in_active_passive_naming_failover_and_activate() {
        let drain =
            refuse(Serving::Drain, "us-east-1", REGIONS, Mode::ActivePassive).unwrap_or_default();
        assert!(drain.contains("`mraa failover`"), "{drain}");
        assert!(drain.contains("nothing was changed"), "{drain}");
        let back =
            refuse(Serving::Return, "eu-west-1", REGIONS, Mode::ActivePassive).unwrap_or_default();
        assert!(back.contains("`mraa activate`"), "{back}");
        assert!(refuse(Serving::Drain, "eu-west-1", REGIONS, Mode::ActiveActive).is_none());
        let unknown =
            refuse(Serving::Drain, "ap-south-1", REGIONS, Mode::ActiveActive).unwrap_or_default();
        assert!(
            unknown.contains("not a Region of this deployment"),
            "{unknown}"
        );
    }

    #[test]
    fn the_other_region_stays() {
        assert_eq!(stays("us-east-1", REGIONS), "eu-west-1");
        assert_eq!(stays("eu-west-1", REGIONS), "us-east-1");
    }
}
