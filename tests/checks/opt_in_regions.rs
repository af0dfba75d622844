//! Regions disabled by default (opt-in regions) need the administration role
//! to trust their regional CloudFormation principal as well: "To deploy stack
//! instances into a target account that resides in a Region that's disabled by
//! default, you must also include the regional service principal for that
//! Region."
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html>,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-opt-in-regions.html>)

use mraa::plan::{ParamSource, Plan, Unit};
use mraa::regions::opt_in_parameter;

use crate::cfn::{self, Instance, at};

/// The services the administration role trusts, as created for `plan`.
fn trusted_services(plan: &Plan) -> Vec<String> {
    let planned = plan.unit(Unit::Bootstrap).expect("bootstrap is planned");
    let bootstrap = Instance::new(planned, &plan.primary);
    let role = bootstrap
        .resource("AdministrationRole")
        .expect("administration role");
    let trust = at(role, "Properties.AssumeRolePolicyDocument").expect("trust policy");
    let decided = bootstrap.decide(trust).expect("a trust policy");
    let statements = match at(&decided, "Statement") {
        Some(serde_yaml::Value::Sequence(items)) => items.clone(),
        _ => Vec::new(),
    };
    statements
        .iter()
        .filter_map(|s| at(s, "Principal.Service"))
        .flat_map(|services| bootstrap.resolve_all(Some(services)))
        .collect()
}

#[test]
fn the_administration_role_trusts_the_regional_principal_of_each_opt_in_region() {
    let plan = Plan::new("demo", "eu-west-1", "eu-south-1");
    assert_eq!(
        trusted_services(&plan),
        [
            "cloudformation.amazonaws.com",
            "cloudformation.eu-south-1.amazonaws.com"
        ],
        "eu-south-1 is disabled by default; eu-west-1 is not"
    );
    let both = Plan::new("demo", "me-south-1", "af-south-1");
    assert_eq!(
        trusted_services(&both),
        [
            "cloudformation.amazonaws.com",
            "cloudformation.me-south-1.amazonaws.com",
            "cloudformation.af-south-1.amazonaws.com"
        ]
    );
    let primary_only = Plan::new("demo", "ap-east-1", "ap-northeast-1");
    assert_eq!(
        trusted_services(&primary_only),
        [
            "cloudformation.amazonaws.com",
            "cloudformation.ap-east-1.amazonaws.com"
        ]
    );
}

#[test]
fn regions_enabled_by_default_add_no_principal() {
    for (_, plan) in cfn::scenarios()
        .into_iter()
        .filter(|(_, p)| p.secondary != "eu-south-1")
    {
        assert_eq!(
            trusted_services(&plan),
            ["cloudformation.amazonaws.com"],
            "{}/{}",
            plan.primary,
            plan.secondary
        );
    }
}

#[test]
fn the_plan_passes_the_opt_in_regions_to_the_bootstrap() {
    let plan = Plan::new("demo", "eu-west-1", "eu-south-1");
    let planned = plan.unit(Unit::Bootstrap).expect("bootstrap is planned");
    assert_eq!(
        planned.parameters.get("OptInRegions"),
        Some(&ParamSource::Value(
            opt_in_parameter(&plan.primary, &plan.secondary).to_string()
        ))
    );
}
