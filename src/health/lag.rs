//! Replication lag from the figures AWS publishes in CloudWatch, held
//! against the objectives: what `mraa status` shows and what `activate`
//! decides from. One `GetMetricData` call per Region, since each metric
//! lives in the Region the data is replicated from.
//!
//! - Items: DynamoDB's `ReplicationLatency` (milliseconds, dimensions
//!   TableName and ReceivingRegion), "emitted for every source- and
//!   destination-Region pair" ("Monitoring global tables", docs.aws.amazon.com/
//!   amazondynamodb/latest/developerguide/V2globaltables_monitoring.html).
//!   DynamoDB replicates "typically within a second" ("Global tables core
//!   concepts", …/globaltables-CoreConcepts.html); the objective leaves room
//!   for distant Region pairs, whose latency is higher (AWS Knowledge Center,
//!   "replication-delay-global-table-dynamodb").
//! - Objects: S3's replication metrics under Replication Time Control
//!   (`ReplicationLatency` in seconds, `OperationsPendingReplication`,
//!   `OperationsFailedReplication`; dimensions SourceBucket,
//!   DestinationBucket, RuleId: "Metrics and dimensions", docs.aws.amazon.com/
//!   AmazonS3/latest/userguide/metrics-dimensions.html), whose objective is
//!   RTC's 15 minutes ("Meeting compliance requirements with S3 RTC").

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};

use crate::aws::{Aws, is_unreachable, sdk_message};
use crate::health::Health;
use crate::names;

/// Items: a few seconds (see the module's note).
pub const ITEMS_OBJECTIVE_SECS: f64 = 5.0;
/// Objects: S3 RTC's threshold.
pub const OBJECTS_OBJECTIVE_SECS: f64 = 15.0 * 60.0;
/// How far back the figures are read; AWS publishes them each minute.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const PERIOD_SECS: i32 = 60;

/// What is replicated from one Region to another.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A global table (its short name), towards `to`.
    Items { table: &'static str },
    /// The objects bucket, under the replication rule mraa wires.
    Objects { source: String, destination: String },
}

/// One replication path with the figures CloudWatch holds for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub subject: Subject,
    pub from: String,
    pub to: String,
    /// The latest period's latency, in seconds; `None` when nothing was
    /// replicated in the window (AWS publishes no datapoint then).
    pub latest: Option<f64>,
    /// Objects only: pending in the latest period, failed over the window.
    pub pending: Option<f64>,
    pub failed: Option<f64>,
}

impl Figure {
    pub fn objective_secs(&self) -> f64 {
        match self.subject {
            Subject::Items { .. } => ITEMS_OBJECTIVE_SECS,
            Subject::Objects { .. } => OBJECTS_OBJECTIVE_SECS,
        }
    }

    /// `items comments` or `objects`.
    pub fn name(&self) -> String {
        match &self.subject {
            Subject::Items { table } => format!("items {table}"),
            Subject::Objects { .. } => "objects".into(),
        }
    }

    /// Degraded past the objective, or with failed object replication.
    pub fn verdict(&self) -> (Health, String) {
        let objective = format!("objective {}", seconds(self.objective_secs()));
        let path = format!("{} → {}", self.from, self.to);
        if let Some(failed) = self.failed.filter(|f| *f > 0.0) {
            return (
                Health::Degraded,
                format!(
                    "{path}: {failed:.0} operations failed to replicate in the last {} min (S3's OperationsFailedReplication); {objective}",
                    WINDOW.as_secs() / 60
                ),
            );
        }
        let Some(latest) = self.latest else {
            return (
                Health::Ok,
                format!(
                    "{path}: nothing replicated in the last {} min, so no lag published; {objective}",
                    WINDOW.as_secs() / 60
                ),
            );
        };
        let pending = match self.pending {
            Some(p) if p > 0.0 => format!(", {p:.0} pending"),
            _ => String::new(),
        };
        let figure = format!("{path}: {}{pending}, {objective}", seconds(latest));
        if latest > self.objective_secs() {
            (Health::Degraded, format!("{figure}: behind"))
        } else {
            (Health::Ok, figure)
        }
    }

    /// One line for `activate`: the path and its figure.
    pub fn summary(&self) -> String {
        format!("{} {}", self.name(), self.verdict().1)
    }
}

/// A duration the way people read it: `0.5 s`, `12 s`, `15 min`.
pub fn seconds(secs: f64) -> String {
    if secs >= 120.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs >= 10.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// A Region whose figures could not be read.
#[derive(Debug, Clone)]
pub struct Unread {
    pub region: String,
    pub cause: String,
    pub unreachable: bool,
}

impl Unread {
    /// The row that stands for what could not be read.
    pub fn check(&self, kind: &'static str, name: &str) -> crate::health::Check {
        crate::health::Check {
            kind,
            name: name.to_string(),
            region: self.region.clone(),
            status: if self.unreachable {
                Health::Unreachable
            } else {
                Health::Degraded
            },
            detail: self.cause.clone(),
            updated: None,
        }
    }
}

/// The paths replicated out of `from`: each global table towards `to`, and
/// from the primary, the objects bucket.
pub fn subjects(
    app: &str,
    account: &str,
    tables: &[&'static str],
    from: &str,
    to: &str,
    primary: bool,
) -> Vec<Subject> {
    let mut subjects: Vec<Subject> = tables
        .iter()
        .map(|&table| Subject::Items { table })
        .collect();
    if primary {
        subjects.push(Subject::Objects {
            source: names::bucket_name(app, "objects", account, from),
            destination: names::bucket_name(app, "objects", account, to),
        });
    }
    subjects
}

fn query(
    id: String,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
    stat: &str,
) -> MetricDataQuery {
    let metric = dims.iter().fold(
        Metric::builder().namespace(namespace).metric_name(name),
        |m, (k, v)| m.dimensions(Dimension::builder().name(*k).value(*v).build()),
    );
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric.build())
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The queries for `subjects`, with ids `s<index>_<metric>`.
pub fn queries(app: &str, subjects: &[Subject], to: &str) -> Vec<MetricDataQuery> {
    subjects
        .iter()
        .enumerate()
        .flat_map(|(i, subject)| match subject {
            Subject::Items { table } => {
                let table = names::table_name(app, table);
                vec![query(
                    format!("s{i}_latency"),
                    "AWS/DynamoDB",
                    "ReplicationLatency",
                    &[("TableName", &table), ("ReceivingRegion", to)],
                    "Maximum",
                )]
            }
            Subject::Objects {
                source,
                destination,
            } => {
                let dims = [
                    ("SourceBucket", source.as_str()),
                    ("DestinationBucket", destination.as_str()),
                    ("RuleId", crate::wire::s3::RULE_ID),
                ];
                vec![
                    query(
                        format!("s{i}_latency"),
                        "AWS/S3",
                        "ReplicationLatency",
                        &dims,
                        "Maximum",
                    ),
                    query(
                        format!("s{i}_pending"),
                        "AWS/S3",
                        "OperationsPendingReplication",
                        &dims,
                        "Maximum",
                    ),
                    query(
                        format!("s{i}_failed"),
                        "AWS/S3",
                        "OperationsFailedReplication",
                        &dims,
                        "Sum",
                    ),
                ]
            }
        })
        .collect()
}

/// The figures from `GetMetricData`'s results (`(id, values newest first)`).
pub fn figures(
    subjects: Vec<Subject>,
    from: &str,
    to: &str,
    results: &[(String, Vec<f64>)],
) -> Vec<Figure> {
    let latest = |id: String| {
        results
            .iter()
            .find(|(r, _)| *r == id)
            .and_then(|(_, values)| values.first().copied())
    };
    let total = |id: String| {
        results
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, values)| values.iter().sum::<f64>())
    };
    subjects
        .into_iter()
        .enumerate()
        .map(|(i, subject)| {
            let is_items = matches!(subject, Subject::Items { .. });
            // DynamoDB publishes milliseconds, S3 seconds.
            let scale = if is_items { 1000.0 } else { 1.0 };
            Figure {
                latest: latest(format!("s{i}_latency")).map(|v| v / scale),
                pending: (!is_items)
                    .then(|| latest(format!("s{i}_pending")))
                    .flatten(),
                failed: (!is_items).then(|| total(format!("s{i}_failed"))).flatten(),
                subject,
                from: from.to_string(),
                to: to.to_string(),
            }
        })
        .collect()
}

/// The figures of everything replicated out of `from` towards `to`: one
/// `GetMetricData` call in `from`.
pub async fn measure(
    aws: &Aws,
    app: &str,
    account: &str,
    tables: &[&'static str],
    from: &str,
    to: &str,
) -> Result<Vec<Figure>, Unread> {
    let primary = from == aws.primary.region;
    let subjects = subjects(app, account, tables, from, to, primary);
    let end = SystemTime::now() + Duration::from_secs(60);
    let start = end - WINDOW - Duration::from_secs(60);
    let mut results: Vec<(String, Vec<f64>)> = Vec::new();
    let mut next: Option<String> = None;
    // Pages only when CloudWatch says there is more (a handful of queries
    // fit one page).
    loop {
        let answer = aws
            .cloudwatch_in(from)
            .get_metric_data()
            .set_metric_data_queries(Some(queries(app, &subjects, to)))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .scan_by(ScanBy::TimestampDescending)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| Unread {
                region: from.to_string(),
                cause: format!("CloudWatch GetMetricData in {from}: {}", sdk_message(&e)),
                unreachable: is_unreachable(&e),
            })?;
        for r in answer.metric_data_results() {
            let id = r.id().unwrap_or_default().to_string();
            match results.iter_mut().find(|(have, _)| *have == id) {
                Some((_, values)) => values.extend_from_slice(r.values()),
                None => results.push((id, r.values().to_vec())),
            }
        }
        match answer.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    Ok(figures(subjects, from, to, &results))
}

/// Both directions at once: primary → secondary and back.
pub async fn measure_both(
    aws: &Aws,
    app: &str,
    account: &str,
    tables: &[&'static str],
) -> Vec<Result<Vec<Figure>, Unread>> {
    let (p, s) = (&aws.primary.region, &aws.secondary.region);
    let (out, back) = futures::future::join(
        measure(aws, app, account, tables, p, s),
        measure(aws, app, account, tables, s, p),
    )
    .await;
    vec![out, back]
}

/// The figures in both directions as lines, and each one that is behind
/// (or unread) as a problem: what `activate` states and asks about.
#[derive(Debug, Default)]
pub struct Described {
    pub figures: Vec<String>,
    pub problems: Vec<String>,
}

pub async fn describe(aws: &Aws, app: &str, tables: &[&'static str]) -> Described {
    let account = match aws.caller_in(&aws.primary.region).await {
        Ok(caller) => caller.account,
        Err(e) => {
            return Described {
                figures: Vec::new(),
                problems: vec![format!(
                    "replication lag unread: cannot tell the account: {e}"
                )],
            };
        }
    };
    let mut described = Described::default();
    for read in measure_both(aws, app, &account, tables).await {
        match read {
            Ok(figures) => {
                for figure in figures {
                    let line = figure.summary();
                    if figure.verdict().0 != Health::Ok {
                        described.problems.push(format!("lag {line}"));
                    }
                    described.figures.push(line);
                }
            }
            Err(unread) => described
                .problems
                .push(format!("replication lag unread: {}", unread.cause)),
        }
    }
    described
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(latest: Option<f64>) -> Figure {
        Figure {
            subject: Subject::Items { table: "comments" },
            from: "us-east-1".into(),
            to: "ap-northeast-1".into(),
            latest,
            pending: None,
            failed: None,
        }
    }

    #[test]
    fn items_past_the_objective_are_behind() {
        assert_eq!(items(Some(0.4)).verdict().0, Health::Ok);
        assert_eq!(items(Some(ITEMS_OBJECTIVE_SECS)).verdict().0, Health::Ok);
        let (health, detail) = items(Some(30.0)).verdict();
        assert_eq!(health, Health::Degraded);
        assert!(
            detail.contains("30 s") && detail.contains("objective 5.0 s"),
            "{detail}"
        );
        // Nothing written: nothing to lag behind.
        assert_eq!(items(None).verdict().0, Health::Ok);
    }

    #[test]
    fn objects_fail_on_failures_and_past_rtc() {
        let objects = |latest, pending, failed| Figure {
            subject: Subject::Objects {
                source: "a".into(),
                destination: "b".into(),
            },
            latest,
            pending,
            failed,
            ..items(None)
        };
        assert_eq!(
            objects(Some(12.0), Some(0.0), Some(0.0)).verdict().0,
            Health::Ok
        );
        let (health, detail) = objects(Some(1200.0), Some(2.0), Some(0.0)).verdict();
        assert_eq!(health, Health::Degraded);
        assert!(
            detail.contains("20 min, 2 pending") && detail.contains("objective 15 min"),
            "{detail}"
        );
        assert_eq!(
            objects(Some(1.0), None, Some(1.0)).verdict().0,
            Health::Degraded
        );
    }

    #[test]
    fn figures_read_the_newest_value_in_each_unit() {
        let subjects = vec![
            Subject::Items { table: "comments" },
            Subject::Objects {
                source: "a".into(),
                destination: "b".into(),
            },
        ];
        let results = vec![
            ("s0_latency".to_string(), vec![800.0, 20_000.0]),
            ("s1_latency".to_string(), vec![30.0]),
            ("s1_failed".to_string(), vec![1.0, 2.0]),
        ];
        let f = figures(subjects, "x", "y", &results);
        assert_eq!(f[0].latest, Some(0.8));
        assert_eq!(f[1].latest, Some(30.0));
        assert_eq!(f[1].pending, None);
        assert_eq!(f[1].failed, Some(3.0));
    }

    #[test]
    fn one_query_per_table_and_three_for_objects() {
        let subjects = subjects(
            "demo",
            "123456789012",
            &["comments", "app-config"],
            "us-east-1",
            "eu-west-1",
            true,
        );
        let q = queries("demo", &subjects, "eu-west-1");
        assert_eq!(q.len(), 5);
        let dims = q[0]
            .metric_stat()
            .and_then(|s| s.metric())
            .map(|m| m.dimensions().to_vec())
            .unwrap_or_default();
        assert!(
            dims.iter()
                .any(|d| d.name() == Some("ReceivingRegion") && d.value() == Some("eu-west-1"))
        );
    }
}
