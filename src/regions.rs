//! Region codes mraa accepts. Checked offline so that a typo is refused before
//! any AWS call (a misspelt region otherwise surfaces as a DNS failure minutes
//! into a deploy).

/// Regions of the `aws` partition where every service mraa uses is offered.
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

pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
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
    fn suggests_the_nearest_region_for_a_typo() {
        assert_eq!(suggest("us-eest-1"), Some("us-east-1"));
        assert_eq!(suggest("eu-west-4"), Some("eu-west-1"));
        assert_eq!(suggest("mars-north-1"), None);
    }
}
