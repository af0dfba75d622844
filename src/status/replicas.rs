//! The settings of each global-table replica (point-in-time recovery,
//! deletion protection, encryption, time to live, stream, tags) against the
//! template's, read through the replica's region: CloudFormation never sees
//! a replica, so this is the only place a change made there shows.

use crate::aws::Aws;
use crate::health::{Check, Health};
use crate::names;
use crate::wire::replica_settings::{desired, differences, read};

use super::Down;

/// One row per table whose replica exists, in the secondary's region;
/// nothing while that region does not answer (its other rows say so).
pub async fn settings_checks(
    aws: &Aws,
    app: &str,
    tables: &[&'static str],
    down: &Down,
) -> Vec<Check> {
    let region = &aws.secondary.region;
    if down.contains_key(region) {
        return Vec::new();
    }
    let results = futures::future::join_all(tables.iter().map(|short| async move {
        let table = names::table_name(app, short);
        let want = desired(app, short)?;
        Ok::<_, String>(
            read(&aws.secondary.dynamodb, &table)
                .await?
                .map(|(_, have)| differences(&want, &have)),
        )
    }))
    .await;
    tables
        .iter()
        .zip(results)
        .filter_map(|(short, result)| {
            let check = |health, detail| {
                Check::link(&format!("replica settings {short}"), region, health, detail)
            };
            match result {
                // No replica: the replica's own row reports it.
                Ok(None) => None,
                Ok(Some(found)) if found.is_empty() => Some(check(
                    Health::Ok,
                    "equal to the template: point-in-time recovery, deletion protection, \
                     encryption, time to live, stream, tags"
                        .into(),
                )),
                Ok(Some(found)) => Some(check(
                    Health::Degraded,
                    format!(
                        "{} (changed outside mraa); `mraa deploy` sets them again",
                        found
                            .iter()
                            .map(|d| format!(
                                "{} is {} in {region}, the template says {}",
                                d.setting, d.actual, d.expected
                            ))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )),
                Err(e) => Some(check(Health::Degraded, e)),
            }
        })
        .collect()
}
