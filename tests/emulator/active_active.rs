//! `mraa deploy --mode active-active` against the emulator: both Regions
//! take writes (items through each Region's table, objects into each
//! Region's bucket) and read the other's; `drain` and `return` change a
//! Region's serving state through the Region that stays, read back in
//! both, with no Route 53 call; active-passive refuses them. Everything is
//! checked through DynamoDB, S3 and the emulator's call recorder.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::{ACCOUNT, Emulator, mraa, run_ok, show, stderr_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "eu-west-1";
const APP: &str = "mraa";

fn bucket(region: &str) -> String {
    format!("mraa-{APP}-objects-{ACCOUNT}-{region}")
}

/// Polls `read` until it holds (replication is asynchronous), bounded.
async fn eventually<F, Fut>(what: &str, mut read: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pause = Duration::from_millis(50);
    while !read().await {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

async fn item_in(emulator: &Emulator, region: &str, id: &str) -> bool {
    emulator
        .dynamodb(region)
        .get_item()
        .table_name(format!("mraa-{APP}-comments"))
        .key("commentId", AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_item in {region}: {e:?}"))
        .item()
        .is_some()
}

async fn object_in(emulator: &Emulator, region: &str, key: &str) -> bool {
    emulator
        .s3(region)
        .head_object()
        .bucket(bucket(region))
        .key(key)
        .send()
        .await
        .is_ok()
}

/// A comment and a photo written in `region`, readable in both Regions.
async fn written_in_each_region_read_in_both(emulator: &Emulator, tag: &str) {
    for region in [PRIMARY, SECONDARY] {
        let id = format!("{tag}-{region}");
        emulator
            .dynamodb(region)
            .put_item()
            .table_name(format!("mraa-{APP}-comments"))
            .item("commentId", AttributeValue::S(id.clone()))
            .item("photoId", AttributeValue::S("p".into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_item in {region}: {e:?}"));
        emulator
            .s3(region)
            .put_object()
            .bucket(bucket(region))
            .key(format!("photos/{id}.jpg"))
            .body(b"jpeg".to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_object in {region}: {e:?}"));
    }
    for written in [PRIMARY, SECONDARY] {
        let id = format!("{tag}-{written}");
        for read in [PRIMARY, SECONDARY] {
            eventually(&format!("comment {id} in {read}"), || {
                item_in(emulator, read, &id)
            })
            .await;
            let key = format!("photos/{id}.jpg");
            eventually(&format!("object {key} in {read}"), || {
                object_in(emulator, read, &key)
            })
            .await;
        }
    }
}

/// The drained set of the state item as `region` reads it.
async fn drained_in(emulator: &Emulator, region: &str) -> Vec<String> {
    let mut drained = emulator
        .state_item(region, APP)
        .await
        .and_then(|item| item.get("drained").and_then(|v| v.as_ss().ok()).cloned())
        .unwrap_or_default();
    drained.sort();
    drained
}

#[tokio::test(flavor = "multi_thread")]
async fn both_regions_take_writes_and_a_region_is_drained_and_returned_on_the_data_plane() {
    let emulator = Emulator::start("active_active");
    let env = emulator.env_in(PRIMARY);
    run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--mode",
            "active-active",
        ],
        &env,
    );

    // The mode, as the deployment records it (DynamoDB and CloudFormation).
    let record = emulator
        .dynamodb(SECONDARY)
        .get_item()
        .table_name(format!("mraa-{APP}-app-config"))
        .key("appId", AttributeValue::S(format!("{APP}#deployment")))
        .send()
        .await
        .expect("the deployment record")
        .item()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        record
            .get("mode")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("active-active"),
        "{record:?}"
    );
    // Replication both ways, as S3 stores it.
    for (region, rule) in [
        (PRIMARY, "mraa-primary-to-secondary"),
        (SECONDARY, "mraa-secondary-to-primary"),
    ] {
        let stored = emulator
            .s3(region)
            .get_bucket_replication()
            .bucket(bucket(region))
            .send()
            .await
            .unwrap_or_else(|e| panic!("replication of {region}: {e:?}"));
        let config = stored.replication_configuration().expect("a configuration");
        let found = config
            .rules()
            .iter()
            .find(|r| r.id() == Some(rule))
            .unwrap_or_else(|| panic!("{region}: rule {rule} in {config:?}"));
        let sync = found
            .source_selection_criteria()
            .and_then(|s| s.replica_modifications())
            .map(|m| m.status().as_str());
        assert_eq!(sync, Some("Enabled"), "{region}: replica modification sync");
    }
    written_in_each_region_read_in_both(&emulator, "aa").await;

    // Drain the secondary: through the primary, read back in both Regions,
    // and not one Route 53 call.
    emulator.start_recording();
    let drained = run_ok(
        &[
            "drain",
            SECONDARY,
            "--reason",
            "maintenance",
            "--output",
            "json",
        ],
        &env,
    );
    let calls = emulator.recorded_calls();
    let route53: Vec<_> = calls.iter().filter(|c| c.service == "route53").collect();
    assert!(route53.is_empty(), "drain called Route 53: {route53:?}");
    let writes: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(
        !writes.is_empty() && writes.iter().all(|c| c.region == PRIMARY),
        "drain writes only through the Region that stays: {writes:?}"
    );
    let outcome: serde_json::Value = serde_json::from_slice(&drained.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", show(&drained)));
    assert_eq!(outcome["written_in"], PRIMARY, "{outcome}");
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(drained_in(&emulator, region).await, [SECONDARY], "{region}");
    }
    // The other Region cannot be drained while this one is.
    let refused = mraa(&["drain", PRIMARY, "--reason", "x"], &env, None);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains(&format!("run `mraa return {SECONDARY}` first")),
        "{}",
        show(&refused)
    );
    assert_eq!(drained_in(&emulator, SECONDARY).await, [SECONDARY]);

    // Return it: both Regions serve again.
    emulator.start_recording();
    run_ok(&["return", SECONDARY, "--reason", "done"], &env);
    let route53 = emulator
        .recorded_calls()
        .into_iter()
        .filter(|c| c.service == "route53")
        .count();
    assert_eq!(route53, 0, "return called Route 53");
    for region in [PRIMARY, SECONDARY] {
        assert!(drained_in(&emulator, region).await.is_empty(), "{region}");
    }
    let state = emulator.state_item(PRIMARY, APP).await.unwrap_or_default();
    assert_eq!(
        state
            .get("state")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("active")
    );

    // Back to active-passive: the reverse rule goes, the objects stay, and
    // drain is refused naming failover.
    run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--mode",
            "active-passive",
        ],
        &env,
    );
    let reverse = emulator
        .s3(SECONDARY)
        .get_bucket_replication()
        .bucket(bucket(SECONDARY))
        .send()
        .await;
    let rules: Vec<String> = reverse
        .ok()
        .and_then(|r| r.replication_configuration().cloned())
        .map(|c| {
            c.rules()
                .iter()
                .filter_map(|r| r.id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(rules.is_empty(), "the reverse rule is removed: {rules:?}");
    for region in [PRIMARY, SECONDARY] {
        let key = format!("photos/aa-{SECONDARY}.jpg");
        assert!(
            object_in(&emulator, region, &key).await,
            "{key} kept in {region}"
        );
        assert!(item_in(&emulator, region, &format!("aa-{SECONDARY}")).await);
    }
    let refused = mraa(&["drain", SECONDARY, "--reason", "x"], &env, None);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains("`mraa failover`"),
        "{}",
        show(&refused)
    );
    assert!(drained_in(&emulator, PRIMARY).await.is_empty());
}
