//! The replication lag rows: items per global table and direction, objects
//! from the primary, each with the figure AWS publishes and its objective
//! (`crate::health::lag`). Users have their row already: the Cognito
//! replica's status, ACTIVE or not.

use crate::aws::Aws;
use crate::health::Check;
use crate::health::lag::{self, Figure};

use super::Down;

fn row(figure: &Figure) -> Check {
    let (status, detail) = figure.verdict();
    Check {
        kind: "lag",
        name: figure.name(),
        region: figure.from.clone(),
        status,
        detail,
        updated: None,
    }
}

pub async fn lag_checks(
    aws: &Aws,
    app: &str,
    account: &str,
    tables: &[&'static str],
    down: &Down,
) -> Vec<Check> {
    let (p, s) = (&aws.primary.region, &aws.secondary.region);
    let directions = [(p, s), (s, p)];
    let reads = futures::future::join_all(directions.iter().map(|(from, to)| async move {
        match down.get(*from) {
            Some(cause) => Err(lag::Unread {
                region: from.to_string(),
                cause: cause.clone(),
                unreachable: true,
            }),
            None => lag::measure(aws, app, account, tables, from, to).await,
        }
    }))
    .await;
    reads
        .into_iter()
        .flat_map(|read| match read {
            Ok(figures) => figures.iter().map(row).collect::<Vec<_>>(),
            Err(unread) => vec![unread.check("lag", "lag")],
        })
        .collect()
}
