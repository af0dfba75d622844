//! The alarm rows: each alarm `mraa deploy --notify` made, with its state
//! read through CloudWatch, and each topic they notify with whether anyone
//! confirmed its subscription (`crate::health::alarms`). No rows without them.

use crate::aws::Aws;
use crate::health::Check;
use crate::health::alarms::{self, AlarmState};

use super::Down;

fn row(alarm: &AlarmState) -> Check {
    let (status, detail) = alarm.verdict();
    Check {
        kind: "alarm",
        name: alarm.name.clone(),
        region: alarm.region.clone(),
        status,
        detail,
        updated: None,
    }
}

pub async fn alarm_checks(aws: &Aws, app: &str, down: &Down) -> Vec<Check> {
    let (p, s) = (&aws.primary.region, &aws.secondary.region);
    let reads = futures::future::join_all([(p, s, true), (s, p, false)].into_iter().map(
        |(region, other, primary)| async move {
            if down.contains_key(region.as_str()) {
                // The region's own rows already say it does not answer.
                return Ok(Vec::new());
            }
            alarms::read(aws, region, alarms::names(app, other, primary)).await
        },
    ))
    .await;
    let mut checks = Vec::new();
    for read in reads {
        match read {
            Ok(found) => {
                checks.extend(found.iter().map(row));
                let mut topics: Vec<(&str, &str)> = found
                    .iter()
                    .flat_map(|a| a.actions.iter().map(|t| (a.region.as_str(), t.as_str())))
                    .collect();
                topics.sort();
                topics.dedup();
                for (region, topic) in topics {
                    let (status, detail) = alarms::subscriptions(aws, region, topic).await;
                    checks.push(Check {
                        kind: "alarm",
                        name: "alarm-topic".into(),
                        region: region.to_string(),
                        status,
                        detail,
                        updated: None,
                    });
                }
            }
            Err(unread) => checks.push(unread.check("alarm", "alarms")),
        }
    }
    checks
}
