//! The application state as each region's replica reads it, and whether
//! the two agree.

use crate::health::{Check, Health};

use super::{Down, StateView};
use crate::app_state::{self, StateRecord};
use crate::aws::{Aws, RegionClients};

/// Marks a read that was not attempted because the region is down.
pub(super) const UNREACHABLE: &str = "\u{0}unreachable: ";

/// The state item as each region reads it.
pub(super) async fn state_checks(
    aws: &Aws,
    app: &str,
    down: &Down,
) -> (Option<StateView>, Vec<Check>) {
    let read = |clients: &RegionClients| {
        let cause = down.get(&clients.region).cloned();
        let dynamodb = clients.dynamodb.clone();
        async move {
            match cause {
                Some(cause) => Err(format!("{UNREACHABLE}{cause}")),
                None => app_state::read(&dynamodb, app).await,
            }
        }
    };
    let (primary, secondary) =
        futures::future::join(read(&aws.primary), read(&aws.secondary)).await;
    let view = |r: &StateRecord| StateView {
        state: r.raw_state.clone(),
        previous_state: r.previous_state.clone(),
        updated_at: r.updated_at.clone(),
        updated_by: r.updated_by.clone(),
        reason: r.reason.clone(),
        drained: r.drained.clone(),
    };
    let check = |region: &str, status, detail: String| Check {
        kind: "state",
        name: "app-state".into(),
        region: region.to_string(),
        status,
        detail,
        updated: None,
    };
    let mut checks = Vec::new();
    let primary_state = match &primary {
        Ok(Some(record)) => {
            checks.push(check(
                &aws.primary.region,
                Health::Ok,
                record.raw_state.clone().unwrap_or_default(),
            ));
            record.raw_state.clone()
        }
        Ok(None) => {
            checks.push(check(
                &aws.primary.region,
                Health::Missing,
                "no state item".into(),
            ));
            None
        }
        Err(e) if e.starts_with(UNREACHABLE) => {
            checks.push(check(
                &aws.primary.region,
                Health::Unreachable,
                e[UNREACHABLE.len()..].to_string(),
            ));
            None
        }
        Err(e) => {
            checks.push(check(&aws.primary.region, Health::Degraded, e.clone()));
            None
        }
    };
    match &secondary {
        Ok(Some(record)) if primary_state.is_none() || record.raw_state == primary_state => checks
            .push(check(
                &aws.secondary.region,
                Health::Ok,
                record.raw_state.clone().unwrap_or_default(),
            )),
        Ok(Some(record)) => checks.push(check(
            &aws.secondary.region,
            Health::Degraded,
            format!(
                "reads {} while the primary reads {} (replication lag?)",
                record.raw_state.as_deref().unwrap_or("nothing"),
                primary_state.as_deref().unwrap_or("nothing")
            ),
        )),
        Ok(None) => checks.push(check(
            &aws.secondary.region,
            Health::Missing,
            "no state item".into(),
        )),
        Err(e) if e.starts_with(UNREACHABLE) => checks.push(check(
            &aws.secondary.region,
            Health::Unreachable,
            e[UNREACHABLE.len()..].to_string(),
        )),
        Err(e) => checks.push(check(&aws.secondary.region, Health::Missing, e.clone())),
    }
    // Prefer the primary's record; in failover it may not answer.
    let record = match (&primary, &secondary) {
        (Ok(Some(r)), _) => Some(view(r)),
        (_, Ok(Some(r))) => Some(view(r)),
        _ => None,
    };
    (record, checks)
}
