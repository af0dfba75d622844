//! A half-made move: StackSet instances in a region that is neither the
//! deployment's primary nor its secondary, as a deploy to other regions
//! left them before deploy refused moves (see `plan::changes::regions`), or
//! as an interrupted one leaves them. Each is named, with the command that
//! removes it: `mraa teardown` deletes the instances in every region a
//! StackSet lists, not only the two of the record.

use crate::aws::{Aws, is_not_found, sdk_message};
use crate::health::{Check, Health};
use crate::plan::{Kind, Plan};

use super::Down;
use super::units::unit_check;

/// One `degraded` unit row per StackSet instance outside the deployment's
/// regions. The StackSets are listed in the primary, their home: nothing is
/// said while it does not answer.
pub(super) async fn stray_instances(aws: &Aws, plan: &Plan, down: &Down) -> Vec<Check> {
    if down.contains_key(&aws.primary.region) {
        return Vec::new();
    }
    let sets = plan.units.iter().filter(|u| u.kind == Kind::StackSet);
    let listed = futures::future::join_all(sets.map(|planned| async move {
        let out = aws
            .primary
            .cfn
            .list_stack_instances()
            .stack_set_name(&planned.name)
            .send()
            .await;
        let regions: Vec<String> = match out {
            Ok(out) => out
                .summaries()
                .iter()
                .filter_map(|s| s.region().map(str::to_string))
                .collect(),
            // A missing set is the unit rows' to report.
            Err(e) if is_not_found(&e) => Vec::new(),
            Err(e) => {
                return vec![unit_check(
                    planned.unit.id(),
                    &aws.primary.region,
                    Health::Degraded,
                    format!(
                        "cannot list the instances of {}: {}",
                        planned.name,
                        sdk_message(&e)
                    ),
                    None,
                )];
            }
        };
        strays(plan, planned.unit.id(), &planned.name, &regions)
    }))
    .await;
    listed.into_iter().flatten().collect()
}

/// The rows for the instances of StackSet `set` listed in `regions`.
fn strays(plan: &Plan, unit: &str, set: &str, regions: &[String]) -> Vec<Check> {
    regions
        .iter()
        .filter(|r| **r != plan.primary && **r != plan.secondary)
        .map(|region| {
            unit_check(
                unit,
                region,
                Health::Degraded,
                format!(
                    "StackSet {set} has an instance in {region}, outside the deployment's \
                     regions ({} and {}): a half-made move to another region; \
                     `mraa teardown --app {} --primary {} --secondary {}` removes it with the \
                     deployment (then deploy anew where it belongs)",
                    plan.primary, plan.secondary, plan.app, plan.primary, plan.secondary
                ),
                None,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_outside_the_two_regions_is_named_with_the_way_out() {
        let plan = Plan::new("shop", "us-east-1", "eu-west-1");
        let listed = ["us-east-1", "ap-southeast-2", "eu-west-1"].map(String::from);
        let rows = strays(&plan, "routing", "mraa-shop-routing", &listed);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].region, "ap-southeast-2");
        assert_eq!(rows[0].status, Health::Degraded);
        assert!(
            rows[0].detail.contains("half-made move"),
            "{}",
            rows[0].detail
        );
        assert!(
            rows[0]
                .detail
                .contains("mraa teardown --app shop --primary us-east-1 --secondary eu-west-1")
        );
        assert!(strays(&plan, "routing", "mraa-shop-routing", &listed[..1]).is_empty());
    }
}
