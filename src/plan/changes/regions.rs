//! A deployment stays in the regions it was made in. Moving it (another
//! secondary, another primary, the two swapped) would need StackSet
//! instances, replicas, replication and the data itself moved, which a
//! deploy cannot finish: it is refused before any mutating call, by `deploy`
//! and by `diff` alike, with what to do instead.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::Stack;

use crate::aws::Aws;
use crate::cfn::stack::{outputs_of, parameter_map};
use crate::error::{MraaError, Result};

/// The regions a deployment records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub primary: String,
    pub secondary: String,
    /// Where the record was read: the bootstrap stack, or the app-config
    /// table of a region.
    pub source: String,
}

/// The regions the bootstrap stack records: its outputs, else its
/// parameters (what it was created with, also before its outputs exist).
pub fn from_bootstrap(stack: &Stack) -> Option<Recorded> {
    let mut values: BTreeMap<String, String> = parameter_map(stack.parameters());
    values.extend(outputs_of(stack));
    Some(Recorded {
        primary: values.get("PrimaryRegion")?.clone(),
        secondary: values.get("SecondaryRegion")?.clone(),
        source: format!(
            "stack {}",
            stack.stack_name().unwrap_or("(the bootstrap stack)")
        ),
    })
}

/// Refuses when `recorded` names other regions than `primary`/`secondary`.
pub fn refuse_move(app: &str, primary: &str, secondary: &str, recorded: &Recorded) -> Result<()> {
    if recorded.primary == primary && recorded.secondary == secondary {
        return Ok(());
    }
    let (was_p, was_s) = (&recorded.primary, &recorded.secondary);
    Err(MraaError::Refused(format!(
        "app {app} is deployed to {was_p} (primary) and {was_s} (secondary), as {} records; \
         a deploy cannot move it to {primary} and {secondary}: its StackSet instances, replicas, \
         replication and data in {was_p} and {was_s} would be left half-way. \
         To keep it where it is: `mraa deploy --app {app} --primary {was_p} --secondary {was_s}`. \
         To move it: back up the data, remove the deployment with \
         `mraa teardown --app {app} --primary {was_p} --secondary {was_s}` \
         (`--delete-data` once the data is safe), then deploy to the new regions; \
         nothing was changed",
        recorded.source
    )))
}

/// With no bootstrap stack in `primary`, the deployment record another
/// deployment of the app keeps in the app-config table of either given
/// region (the primary's table, or the secondary's replica): a deploy to a
/// new primary finds the old one this way. Tables that do not exist hold
/// none.
pub async fn record_elsewhere(aws: &Aws, app: &str) -> Result<Option<Recorded>> {
    for clients in aws.regions() {
        match crate::app_state::read_record(&clients.dynamodb, app).await {
            Ok(Some(record)) => {
                return Ok(Some(Recorded {
                    primary: record.primary,
                    secondary: record.secondary,
                    source: format!(
                        "the deployment record in table {} in {}",
                        crate::names::table_name(app, "app-config"),
                        clients.region
                    ),
                }));
            }
            Ok(None) => {}
            // A region without the table holds no record.
            Err(cause) if cause.contains("ResourceNotFound") => {}
            Err(cause) => {
                return Err(crate::plan::changes::units::fail(
                    "preflight",
                    &clients.region,
                    &crate::names::table_name(app, "app-config"),
                    cause,
                ));
            }
        }
    }
    Ok(None)
}

/// The regions check of a deploy or diff, before any mutating call: against
/// the bootstrap stack when there is one, else against a deployment record
/// either region keeps.
pub async fn refuse_if_moved(
    aws: &Aws,
    app: &str,
    (primary, secondary): (&str, &str),
    bootstrap: Option<&Stack>,
) -> Result<()> {
    let recorded = match bootstrap.and_then(from_bootstrap) {
        Some(recorded) => Some(recorded),
        None => record_elsewhere(aws, app).await?,
    };
    match recorded {
        Some(recorded) => refuse_move(app, primary, secondary, &recorded),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(primary: &str, secondary: &str) -> Recorded {
        Recorded {
            primary: primary.into(),
            secondary: secondary.into(),
            source: "stack mraa-shop-bootstrap".into(),
        }
    }

    #[test]
    fn the_same_regions_pass_and_any_move_is_refused_with_the_way_out() {
        let was = recorded("us-east-1", "eu-west-1");
        assert!(refuse_move("shop", "us-east-1", "eu-west-1", &was).is_ok());
        for (primary, secondary) in [
            ("us-east-1", "ap-southeast-2"),
            ("eu-west-1", "us-east-1"),
            ("us-west-2", "eu-west-1"),
        ] {
            let err = refuse_move("shop", primary, secondary, &was).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, MraaError::Refused(_)), "{text}");
            assert!(
                text.contains("--primary us-east-1 --secondary eu-west-1"),
                "{text}"
            );
            assert!(text.contains("mraa teardown --app shop"), "{text}");
            assert!(text.ends_with("nothing was changed"), "{text}");
        }
    }
}
