//! The alarms `mraa deploy --notify` makes (templates/alarms.yaml), read
//! through CloudWatch's DescribeAlarms in the Region each lives in: their
//! names are deterministic, so they are asked for by name.

use aws_sdk_cloudwatch::primitives::DateTimeFormat;
use aws_sdk_cloudwatch::types::StateValue;

use crate::aws::{Aws, is_unreachable, sdk_message};
use crate::health::Health;

/// The tables whose replication the template watches (its
/// `CommentsLatencyAlarm` and `StateLatencyAlarm`).
pub const WATCHED_TABLES: [&str; 2] = ["comments", "app-config"];

/// The alarms of a Region (`primary` says whether it is the primary), named
/// as the template names them: items per table towards the other Region; in
/// the primary, where S3 publishes them, the objects' latency and failures.
pub fn names(app: &str, other: &str, primary: bool) -> Vec<String> {
    let mut names: Vec<String> = WATCHED_TABLES
        .iter()
        .map(|table| format!("mraa-{app}-items-{table}-to-{other}"))
        .collect();
    if primary {
        names.push(format!("mraa-{app}-objects-latency"));
        names.push(format!("mraa-{app}-objects-failed"));
    }
    names
}

/// One alarm as CloudWatch holds it, or its absence.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmState {
    pub name: String,
    pub region: String,
    /// `None`: CloudWatch has no such alarm.
    pub state: Option<String>,
    pub reason: String,
    pub since: Option<String>,
    /// What it notifies (its AlarmActions).
    pub actions: Vec<String>,
}

impl AlarmState {
    /// ALARM is degraded (someone is being notified); INSUFFICIENT_DATA is
    /// not yet known; a missing one wakes no one.
    pub fn verdict(&self) -> (Health, String) {
        let since = self
            .since
            .as_deref()
            .map(|t| format!(" since {t}"))
            .unwrap_or_default();
        match self.state.as_deref() {
            None => (
                Health::Missing,
                "CloudWatch has no such alarm: `mraa deploy --notify ...` makes it again".into(),
            ),
            Some("OK") => (Health::Ok, format!("OK{since}")),
            Some("ALARM") => (Health::Degraded, format!("ALARM{since}: {}", self.reason)),
            Some(other) => (
                Health::Unverified,
                format!("{other}{since}: {}", self.reason),
            ),
        }
    }
}

/// The alarms of one Region; an empty list when none of them exists (the
/// deployment was made without `--notify`).
pub async fn read(
    aws: &Aws,
    region: &str,
    names: Vec<String>,
) -> Result<Vec<AlarmState>, super::lag::Unread> {
    let answer = aws
        .cloudwatch_in(region)
        .describe_alarms()
        .set_alarm_names(Some(names.clone()))
        .send()
        .await
        .map_err(|e| super::lag::Unread {
            region: region.to_string(),
            cause: format!("CloudWatch DescribeAlarms in {region}: {}", sdk_message(&e)),
            unreachable: is_unreachable(&e),
        })?;
    let found = answer.metric_alarms();
    if found.is_empty() {
        return Ok(Vec::new());
    }
    Ok(names
        .into_iter()
        .map(|name| {
            let alarm = found.iter().find(|a| a.alarm_name() == Some(name.as_str()));
            AlarmState {
                region: region.to_string(),
                state: alarm
                    .and_then(|a| a.state_value())
                    .map(|s: &StateValue| s.as_str().to_string()),
                reason: alarm
                    .and_then(|a| a.state_reason())
                    .unwrap_or_default()
                    .to_string(),
                since: alarm
                    .and_then(|a| a.state_updated_timestamp())
                    .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
                actions: alarm
                    .map(|a| a.alarm_actions().to_vec())
                    .unwrap_or_default(),
                name,
            }
        })
        .collect())
}

/// Who a topic wakes: an e-mail address wakes no one until it follows the
/// link AWS mailed it, and SNS lists it as `PendingConfirmation` until then
/// ("Amazon SNS email notifications", SNS Developer Guide).
pub async fn subscriptions(aws: &Aws, region: &str, topic: &str) -> (Health, String) {
    let sns = aws.sns_in(region);
    let (mut confirmed, mut pending) = (0, 0);
    let mut next: Option<String> = None;
    loop {
        let page = match sns
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .set_next_token(next.take())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) => {
                let cause = format!(
                    "SNS ListSubscriptionsByTopic in {region}: {}",
                    sdk_message(&e)
                );
                return (Health::Unverified, cause);
            }
        };
        for subscription in page.subscriptions() {
            match subscription.subscription_arn() {
                Some(arn) if arn.starts_with("arn:") => confirmed += 1,
                _ => pending += 1,
            }
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    if confirmed == 0 {
        let detail = format!(
            "{topic}: no confirmed subscription ({pending} pending): the alarms wake no one \
             until an address follows the link AWS mailed it"
        );
        return (Health::Unverified, detail);
    }
    (
        Health::Ok,
        format!("{topic}: {confirmed} confirmed, {pending} pending"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_also_watches_objects() {
        assert_eq!(
            names("shop", "ap-northeast-1", true),
            [
                "mraa-shop-items-comments-to-ap-northeast-1",
                "mraa-shop-items-app-config-to-ap-northeast-1",
                "mraa-shop-objects-latency",
                "mraa-shop-objects-failed",
            ]
        );
        assert_eq!(names("shop", "eu-west-1", false).len(), 2);
    }

    #[test]
    fn an_alarm_in_alarm_is_degraded_and_a_missing_one_says_how_to_make_it() {
        let alarm = |state: Option<&str>| AlarmState {
            name: "a".into(),
            region: "eu-west-1".into(),
            state: state.map(str::to_string),
            reason: "Threshold Crossed".into(),
            since: None,
            actions: Vec::new(),
        };
        assert_eq!(alarm(Some("OK")).verdict().0, Health::Ok);
        assert_eq!(alarm(Some("ALARM")).verdict().0, Health::Degraded);
        assert_eq!(
            alarm(Some("INSUFFICIENT_DATA")).verdict().0,
            Health::Unverified
        );
        let (health, detail) = alarm(None).verdict();
        assert_eq!(health, Health::Missing);
        assert!(detail.contains("--notify"), "{detail}");
    }
}
