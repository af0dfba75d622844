//! The settings of each global-table replica (point-in-time recovery,
//! deletion protection, encryption, time to live, stream, tags) against the
//! template's, read through the replica's region: CloudFormation never sees
//! a replica, so this is the only place a change made there shows. The
//! result goes into each replica's own row (`replica <table>`).

use crate::aws::Aws;
use crate::health::{Check, Health};
use crate::names;
use crate::wire::replica_settings::{Difference, desired, differences, read};

use super::Down;

/// What differs on each table's replica; `None` where there is no replica
/// (its row says so) or its region does not answer (its rows say so).
pub type Found = Vec<(&'static str, Result<Option<Vec<Difference>>, String>)>;

pub async fn settings(aws: &Aws, app: &str, tables: &[&'static str], down: &Down) -> Found {
    if down.contains_key(&aws.secondary.region) {
        return Vec::new();
    }
    let results = futures::future::join_all(tables.iter().map(|&short| async move {
        let table = names::table_name(app, short);
        let want = desired(app, short)?;
        Ok(read(&aws.secondary.dynamodb, &table)
            .await?
            .map(|(_, have)| differences(&want, &have)))
    }))
    .await;
    tables.iter().copied().zip(results).collect()
}

/// Each `ok` replica row keeps `ok` only while its settings are the
/// template's; a difference makes it `degraded`, naming each setting.
pub fn merge(mut rows: Vec<Check>, found: Found) -> Vec<Check> {
    for (short, result) in found {
        let Some(row) = rows
            .iter_mut()
            .find(|r| r.name == format!("replica {short}") && r.status == Health::Ok)
        else {
            continue;
        };
        match result {
            Ok(None) => {}
            Ok(Some(differ)) if differ.is_empty() => {
                row.detail = format!("{}; its settings are the template's", row.detail);
            }
            Ok(Some(differ)) => {
                row.status = Health::Degraded;
                row.detail = format!(
                    "{} in {} (changed outside mraa; `mraa deploy` sets them again); {}",
                    differ
                        .iter()
                        .map(|d| format!(
                            "{} is {}, the template says {}",
                            d.setting, d.actual, d.expected
                        ))
                        .collect::<Vec<_>>()
                        .join("; "),
                    row.region,
                    row.detail
                );
            }
            Err(e) => {
                row.status = Health::Degraded;
                row.detail = format!("{}; its settings cannot be read: {e}", row.detail);
            }
        }
    }
    rows
}
