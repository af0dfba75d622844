//! What the mode adds to `mraa status`: in active-active, whether each
//! Region serves or is drained, and the reverse replication rule (secondary
//! → primary) as S3 stores it; in active-passive, a reverse rule left behind.

use crate::aws::Aws;
use crate::health::{Check, Health};
use crate::names;
use crate::plan::Mode;
use crate::wire::s3::{
    REVERSE_RULE_ID, current_configuration, replicates_delete_markers, rule_summary,
    syncs_replica_modifications,
};

use super::StateView;

/// In active-active, one `serving` row per Region, from the state item's
/// `drained` set (a drained Region is a deliberate state, not a fault).
pub(super) fn serving_rows(mode: Mode, state: Option<&StateView>, aws: &Aws) -> Vec<Check> {
    if mode != Mode::ActiveActive {
        return Vec::new();
    }
    let Some(state) = state else {
        return Vec::new();
    };
    aws.regions()
        .iter()
        .map(|c| {
            let region = c.region.as_str();
            let detail = if state.drained.iter().any(|r| r == region) {
                format!(
                    "drained{}: its APIs refuse writes and DNS answers the other Region; \
                     `mraa return {region}` puts it back",
                    state
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            } else {
                "serving".to_string()
            };
            Check {
                kind: "state",
                name: "serving".into(),
                region: region.to_string(),
                status: Health::Ok,
                detail,
                updated: None,
            }
        })
        .collect()
}

/// The reverse rule on the secondary's bucket: wanted (enabled, towards the
/// primary's bucket, RTC, delete markers, replica modification sync) in
/// active-active, absent in active-passive. `None`: active-passive and no
/// rule, nothing to say.
pub(super) async fn reverse_replication(
    aws: &Aws,
    app: &str,
    account: &str,
    mode: Mode,
) -> Option<Check> {
    let region = aws.secondary.region.as_str();
    let source = names::bucket_name(app, "objects", account, region);
    let target = names::bucket_name(app, "objects", account, &aws.primary.region);
    let check =
        |health, detail: String| Some(Check::link("s3-replication", region, health, detail));
    let config = match current_configuration(&aws.secondary.s3, &source).await {
        Ok(config) => config,
        Err(e) => return check(Health::Degraded, e),
    };
    let rule = config
        .as_ref()
        .and_then(|c| c.rules().iter().find(|r| r.id() == Some(REVERSE_RULE_ID)));
    match (mode, rule, &config) {
        (Mode::ActivePassive, None, _) => None,
        (Mode::ActivePassive, Some(_), _) => check(
            Health::Degraded,
            format!(
                "{source} still replicates to {target} (rule {REVERSE_RULE_ID}, from active-active): \
                 run `mraa deploy` to remove it"
            ),
        ),
        (Mode::ActiveActive, None, _) | (Mode::ActiveActive, _, None) => check(
            Health::Missing,
            format!("no rule {REVERSE_RULE_ID} on {source}: run `mraa deploy`"),
        ),
        (Mode::ActiveActive, Some(rule), Some(config)) => {
            let destination = rule.destination().map(|d| d.bucket()).unwrap_or_default();
            let (summary, rtc) = rule_summary(rule);
            let sync = syncs_replica_modifications(config);
            let detail = format!(
                "{summary}, replica modification sync {}",
                if sync { "on" } else { "off" }
            );
            let healthy = rule.status().as_str() == "Enabled"
                && destination == format!("arn:aws:s3:::{target}")
                && rtc
                && replicates_delete_markers(config)
                && sync;
            check(
                if healthy {
                    Health::Ok
                } else {
                    Health::Degraded
                },
                detail,
            )
        }
    }
}
