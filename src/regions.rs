//! Region codes mraa accepts. Checked offline so that a typo is refused before
//! any AWS call (a misspelt region otherwise surfaces as a DNS failure minutes
//! into a deploy).

/// The commercial regions of the `aws` partition, as the AWS Regions and
/// Availability Zones guide lists them
/// (<https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html>);
/// every service mraa uses is offered in each. The one list of regions: a
/// region launched later is added here (and, if opt-in, below).
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Regions launched after March 20, 2019, which are disabled by default
/// (opt-in regions) until the account enables them
/// (<https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html>),
/// among those mraa accepts.
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

pub fn is_opt_in(region: &str) -> bool {
    OPT_IN_REGIONS.contains(&region)
}

/// The bootstrap's `OptInRegions` parameter for a pair of regions: StackSets
/// reach an opt-in region only through its regional CloudFormation principal,
/// which the administration role must trust too
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-opt-in-regions.html>).
pub fn opt_in_parameter(primary: &str, secondary: &str) -> &'static str {
    match (is_opt_in(primary), is_opt_in(secondary)) {
        (false, false) => "none",
        (true, false) => "primary",
        (false, true) => "secondary",
        (true, true) => "both",
    }
}

/// How to enable opt-in regions: the console's AWS Regions page of the
/// account, or Account Management's `EnableRegion`
/// (<https://docs.aws.amazon.com/cli/latest/reference/account/enable-region.html>).
pub fn enable_hint(regions: &[String]) -> String {
    let commands: Vec<String> = regions
        .iter()
        .map(|r| format!("`aws account enable-region --region-name {r}`"))
        .collect();
    format!(
        "enable {} in the console (account menu, AWS Regions) or with {}, wait until \
         `aws account get-region-opt-status` says ENABLED (minutes, sometimes hours), then deploy again",
        if regions.len() == 1 { "it" } else { "them" },
        commands.join(" and ")
    )
}

/// The refusal for opt-in regions the account has not enabled, if any.
pub fn refuse_disabled(disabled: &[String]) -> crate::error::Result<()> {
    if disabled.is_empty() {
        return Ok(());
    }
    Err(crate::error::MraaError::Refused(format!(
        "{} {} not enabled for this account (opt-in regions are disabled by default); {}; nothing was changed",
        disabled.join(" and "),
        if disabled.len() == 1 { "is" } else { "are" },
        enable_hint(disabled),
    )))
}

pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// Where the secondary of a deployment whose primary is `primary` may be:
/// every other region of the partition (a deployment's two regions are in
/// one partition, and mraa knows only the `aws` one).
pub fn other_regions(primary: &str) -> Vec<&'static str> {
    KNOWN_REGIONS
        .iter()
        .copied()
        .filter(|r| *r != primary)
        .collect()
}

/// The known region closest to `region` by edit distance, when it is close
/// enough to be a plausible typo.
pub fn suggest(region: &str) -> Option<&'static str> {
    KNOWN_REGIONS
        .iter()
        .map(|known| (edit_distance(region, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_are_accepted_and_typos_are_not() {
        assert!(is_known("ap-northeast-1"));
        assert!(!is_known("ap-northeast-9"));
        assert!(!is_known("US-EAST-1"));
    }

    #[test]
    fn opt_in_parameter_names_the_regions_disabled_by_default() {
        assert_eq!(opt_in_parameter("us-east-1", "ap-northeast-1"), "none");
        assert_eq!(opt_in_parameter("eu-south-1", "eu-west-1"), "primary");
        assert_eq!(opt_in_parameter("eu-west-1", "eu-south-1"), "secondary");
        assert_eq!(opt_in_parameter("me-south-1", "af-south-1"), "both");
    }

    #[test]
    fn every_opt_in_region_is_known_and_the_rest_are_the_seventeen_older_ones() {
        assert!(OPT_IN_REGIONS.iter().all(|r| is_known(r)));
        // The regions enabled by default are the seventeen launched before
        // 2019-03-20: a region added above must be sorted into one list.
        let enabled = KNOWN_REGIONS.iter().filter(|r| !is_opt_in(r)).count();
        assert_eq!(enabled, 17, "a region was added: is it opt-in?");
    }

    #[test]
    fn the_other_regions_are_every_known_one_but_the_primary() {
        let others = other_regions("us-east-1");
        assert_eq!(others.len(), KNOWN_REGIONS.len() - 1);
        assert!(!others.contains(&"us-east-1"));
        assert!(others.contains(&"ap-northeast-1") && others.contains(&"af-south-1"));
    }

    #[test]
    fn suggests_the_nearest_region_for_a_typo() {
        assert_eq!(suggest("us-eest-1"), Some("us-east-1"));
        assert_eq!(suggest("eu-west-4"), Some("eu-west-1"));
        assert_eq!(suggest("mars-north-1"), None);
    }
}
