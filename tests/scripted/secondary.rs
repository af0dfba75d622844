//! The search for the deployment record when the primary does not answer
//! and nothing names the secondary: every region asked at once, the whole
//! search bounded, even when every region accepts connections and never
//! answers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::support::proxy::{Action, Proxy};
use crate::support::{clean_env, mraa, show, stderr_of};

use mraa::aws::SEARCH_TIMEOUT;

const PRIMARY: &str = "us-east-1";

/// No request is forwarded: the upstream is never dialled.
const NO_UPSTREAM: u16 = 9;

#[test]
fn with_every_region_hanging_the_search_ends_within_its_budget() {
    let started = Instant::now();
    let proxy = Proxy::start(NO_UPSTREAM);
    proxy.set_hook(|_| Action::Hang);
    let mut env = clean_env();
    env.extend([
        ("AWS_ENDPOINT_URL".into(), proxy.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ("AWS_REGION".into(), PRIMARY.into()),
    ]);
    for command in ["status", "failover"] {
        proxy.clear_seen();
        let before = started.elapsed();
        let args: &[&str] = match command {
            "failover" => &["failover", "--reason", "drill"],
            _ => &["status"],
        };
        let output = mraa(args, &env, None);
        let ended = started.elapsed();
        eprintln!(
            "{command} with every region hanging took {:?}",
            ended - before
        );
        assert_eq!(output.status.code(), Some(4), "{}", show(&output));
        assert!(
            ended - before <= Duration::from_secs(30),
            "{command} took {:?}",
            ended - before
        );
        let said = stderr_of(&output);
        for source in ["--secondary", "MRAA_SECONDARY", "deployment record"] {
            assert!(said.contains(source), "{source} not named: {said}");
        }
        // Every other region was asked, all at once, and held the connection.
        let mut asked: BTreeMap<String, Duration> = BTreeMap::new();
        for seen in proxy.seen().iter().filter(|s| s.service == "dynamodb") {
            let at = asked.entry(seen.region.clone()).or_insert(seen.at);
            *at = (*at).min(seen.at);
        }
        assert_eq!(
            asked.len(),
            mraa::regions::KNOWN_REGIONS.len() - 1,
            "{asked:#?}"
        );
        assert!(!asked.contains_key(PRIMARY));
        let first = asked.values().copied().min().unwrap_or_default();
        let last = asked.values().copied().max().unwrap_or_default();
        assert!(last - first < Duration::from_secs(2), "{first:?}..{last:?}");
        // `first` counts from the proxy's start, a moment after `started`:
        // this overstates the search's time by that moment, never less.
        let search_took = ended.saturating_sub(first);
        assert!(
            search_took <= SEARCH_TIMEOUT + Duration::from_secs(2),
            "{command}: the search took {search_took:?}"
        );
    }
}
