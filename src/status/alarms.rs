//! The alarm rows: each alarm `mraa deploy --notify` made, with its state
//! read through CloudWatch (`crate::health::alarms`). No rows without them.

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
    reads
        .into_iter()
        .flat_map(|read| match read {
            Ok(found) => found.iter().map(row).collect::<Vec<_>>(),
            Err(unread) => vec![unread.check("alarm", "alarms")],
        })
        .collect()
}
