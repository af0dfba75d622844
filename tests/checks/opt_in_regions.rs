//! Regions disabled by default (opt-in regions) need the administration role
//! to trust their regional CloudFormation principal as well: "To deploy stack
//! instances into a target account that resides in a Region that's disabled by
//! default, you must also include the regional service principal for that
//! Region."
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html>,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-opt-in-regions.html>)

use mraa::plan::{Plan, Unit};

use crate::cfn::{self, Instance, at};

/// Regions launched after March 20, 2019, which are disabled by default
/// (<https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html>),
/// among those `src/regions.rs` accepts.
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// The bootstrap's `OptInRegions` value for a pair of regions.
pub fn opt_in_parameter(primary: &str, secondary: &str) -> &'static str {
    match (
        OPT_IN_REGIONS.contains(&primary),
        OPT_IN_REGIONS.contains(&secondary),
    ) {
        (false, false) => "none",
        (true, false) => "primary",
        (false, true) => "secondary",
        (true, true) => "both",
    }
}

/// The services the administration role trusts, as created for `plan`.
fn trusted_services(plan: &Plan) -> Vec<String> {
    let planned = plan.unit(Unit::Bootstrap).expect("bootstrap is planned");
    let mut bootstrap = Instance::new(planned, &plan.primary);
    // Until the plan passes it, the parameter takes the value the plan will
    // compute from the regions.
    if !planned.parameters.contains_key("OptInRegions") {
        bootstrap.set_param(
            "OptInRegions",
            opt_in_parameter(&plan.primary, &plan.secondary),
        );
    }
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
fn every_opt_in_region_is_one_mraa_accepts() {
    for region in OPT_IN_REGIONS {
        assert!(mraa::regions::is_known(region), "{region}");
    }
    // The regions enabled by default are the seventeen launched before 2019-03-20.
    let default_enabled = mraa::regions::KNOWN_REGIONS
        .iter()
        .filter(|r| !OPT_IN_REGIONS.contains(r))
        .count();
    assert_eq!(
        default_enabled, 17,
        "a region was added to src/regions.rs: is it opt-in?"
    );
}
