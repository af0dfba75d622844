//! Kept data comes back: after `teardown` (data kept), `deploy` adopts the
//! buckets, tables, user pool and keys through CloudFormation's import paths
//! (the emulator's stand-ins: scripts/emulator_import.py). What was kept is
//! read through S3, DynamoDB and Cognito before and after, and who holds it
//! through CloudFormation; a same-named store mraa did not make is refused.

use aws_sdk_cognitoidentityprovider as idp;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;

use super::teardown::what_is_left;
use super::users::{cognito, pools_in};
use crate::support::{ACCOUNT, Emulator, mraa, run_ok, show, stderr_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const PHOTOS: [&str; 3] = ["photos/a.jpg", "photos/b.jpg", "photos/c.jpg"];

fn bucket(kind: &str, region: &str) -> String {
    format!("mraa-{APP}-{kind}-{ACCOUNT}-{region}")
}

/// What the app holds, read through the services: photo keys and bodies,
/// comment ids, user names, the pool's id, the comments table's creation
/// time (a table made again would have another).
#[derive(Debug, PartialEq)]
struct Held {
    photos: Vec<(String, String)>,
    comments: Vec<String>,
    users: Vec<String>,
    pool: String,
    table_created: String,
}

async fn held(emulator: &Emulator) -> Held {
    let s3 = emulator.s3(PRIMARY);
    let mut photos = Vec::new();
    for key in PHOTOS {
        let object = s3
            .get_object()
            .bucket(bucket("objects", PRIMARY))
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let body = object.body.collect().await.expect("body").into_bytes();
        photos.push((key.to_string(), String::from_utf8_lossy(&body).into_owned()));
    }
    let table = format!("mraa-{APP}-comments");
    let dynamodb = emulator.dynamodb(PRIMARY);
    let scan = dynamodb
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan comments");
    let mut comments: Vec<String> = scan
        .items()
        .iter()
        .filter_map(|i| i.get("commentId")?.as_s().ok().cloned())
        .collect();
    comments.sort();
    let table_created = table_created(&dynamodb, &table).await;
    let pools = pools_in(emulator, PRIMARY).await;
    assert_eq!(pools.len(), 1, "one pool of the app: {pools:?}");
    let pool = pools[0].clone();
    let listed = cognito(emulator, PRIMARY)
        .list_users()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("list users");
    let mut users: Vec<String> = listed
        .users()
        .iter()
        .filter_map(|u| u.username().map(str::to_string))
        .collect();
    users.sort();
    Held {
        photos,
        comments,
        users,
        pool,
        table_created,
    }
}

/// Photos, comments and a user, written as the application would.
async fn write_data(emulator: &Emulator) {
    let s3 = emulator.s3(PRIMARY);
    for key in PHOTOS {
        s3.put_object()
            .bucket(bucket("objects", PRIMARY))
            .key(key)
            .body(ByteStream::from(format!("{key} bytes").into_bytes()))
            .send()
            .await
            .expect("put a photo");
    }
    let dynamodb = emulator.dynamodb(PRIMARY);
    for id in ["c1", "c2"] {
        dynamodb
            .put_item()
            .table_name(format!("mraa-{APP}-comments"))
            .item("commentId", AttributeValue::S(id.into()))
            .item("photoId", AttributeValue::S("photos/a.jpg".into()))
            .item(
                "createdAt",
                AttributeValue::S("2026-12-07T00:00:00Z".into()),
            )
            .send()
            .await
            .expect("put a comment");
    }
    let pool = pools_in(emulator, PRIMARY)
        .await
        .pop()
        .expect("the app's pool");
    cognito(emulator, PRIMARY)
        .admin_create_user()
        .user_pool_id(pool)
        .username("alice")
        .user_attributes(
            idp::types::AttributeType::builder()
                .name("email")
                .value("alice@example.com")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create a user");
}

/// The physical id the unit's stack in `region` holds as `logical`, read
/// through the StackSet's instance.
async fn held_by_stack(emulator: &Emulator, unit: &str, region: &str, logical: &str) -> String {
    let set = format!("mraa-{APP}-{unit}");
    let instances = emulator
        .cloudformation(PRIMARY)
        .list_stack_instances()
        .stack_set_name(&set)
        .stack_instance_region(region)
        .send()
        .await
        .expect("list instances");
    let stack_id = instances
        .summaries()
        .iter()
        .find(|s| s.region() == Some(region))
        .and_then(|s| s.stack_id())
        .unwrap_or_else(|| panic!("{set} has no instance in {region}"))
        .to_string();
    // Listed: the emulator fails DescribeStackResource on a stack with a
    // resource whose condition is false.
    let resources = emulator
        .cloudformation(region)
        .list_stack_resources()
        .stack_name(&stack_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("resources of {set} in {region}: {e:?}"));
    resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some(logical))
        .and_then(|r| r.physical_resource_id())
        .unwrap_or_else(|| panic!("{set} holds no {logical} in {region}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_after_a_kept_data_teardown_adopts_the_data_and_delete_data_removes_it() {
    let emulator = Emulator::start("adopt_kept_data");
    let mut env = emulator.env_in(PRIMARY);
    env.push(("NO_COLOR".into(), "1".into()));
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    write_data(&emulator).await;
    let before = held(&emulator).await;
    assert_eq!(before.users, ["alice"]);

    run_ok(&["teardown", "--yes"], &env);
    let left = what_is_left(&emulator).await;
    assert!(left.stack_sets.is_empty(), "{left:?}");

    // The plan names each import before the deploy makes it.
    let diff = mraa(&["diff", "--secondary", SECONDARY], &env, None);
    assert_eq!(diff.status.code(), Some(2), "{}", show(&diff));
    let plan = crate::support::stdout_of(&diff);
    for row in [
        format!(
            "object-store     {PRIMARY}        import ObjectBucket {}",
            bucket("objects", PRIMARY)
        ),
        format!(
            "object-store     {SECONDARY}   import LogBucket {}",
            bucket("logs", SECONDARY)
        ),
        format!("kv-store         {PRIMARY}        import CommentsTable mraa-{APP}-comments"),
        format!(
            "frontend         {PRIMARY}        import UserPool {}",
            before.pool
        ),
    ] {
        assert!(plan.contains(&row), "{row:?} in {}", show(&diff));
    }

    let again = run_ok(&["deploy", "--secondary", SECONDARY], &env);
    let said = stderr_of(&again);
    assert!(
        said.contains(&format!(
            "import kv-store {PRIMARY} CommentsTable mraa-{APP}-comments"
        )),
        "{}",
        show(&again)
    );

    // The same photos, comments, user, pool and table, read through the
    // services; each held by its unit's stack.
    assert_eq!(held(&emulator).await, before);
    for (unit, region, logical, physical) in [
        (
            "object-store",
            PRIMARY,
            "ObjectBucket",
            bucket("objects", PRIMARY),
        ),
        (
            "object-store",
            SECONDARY,
            "LogBucket",
            bucket("logs", SECONDARY),
        ),
        (
            "kv-store",
            PRIMARY,
            "CommentsTable",
            format!("mraa-{APP}-comments"),
        ),
        (
            "routing",
            PRIMARY,
            "AppConfigTable",
            format!("mraa-{APP}-app-config"),
        ),
        ("frontend", PRIMARY, "UserPool", before.pool.clone()),
    ] {
        assert_eq!(
            held_by_stack(&emulator, unit, region, logical).await,
            physical,
            "{unit} {logical} in {region}"
        );
    }
    let status = mraa(&["status"], &env, None);
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));

    run_ok(&["teardown", "--delete-data", "--yes"], &env);
    let left = what_is_left(&emulator).await;
    assert!(left.buckets.is_empty(), "{left:?}");
    assert!(left.tables.is_empty(), "{left:?}");
    assert!(left.pools.is_empty(), "{left:?}");
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.stack_sets.is_empty(), "{left:?}");
}

/// A bucket of the app's name that mraa did not make (no `mraa:app` tag) is
/// never adopted: refused with its name, before any change.
#[tokio::test(flavor = "multi_thread")]
async fn an_untagged_bucket_of_the_same_name_is_refused_not_adopted() {
    let emulator = Emulator::start("adopt_untagged_bucket");
    let name = bucket("objects", PRIMARY);
    emulator
        .s3(PRIMARY)
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    let mut env = emulator.env_in(PRIMARY);
    env.push(("NO_COLOR".into(), "1".into()));

    emulator.start_recording();
    let deploy = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    let mutating = emulator.mutating_calls();
    assert_eq!(deploy.status.code(), Some(1), "{}", show(&deploy));
    let said = stderr_of(&deploy);
    assert!(
        said.contains(&format!("bucket {name} (no mraa:app tag")),
        "{said}"
    );
    assert!(said.contains("nothing was changed"), "{said}");
    assert!(mutating.is_empty(), "{mutating:#?}");
    let diff = mraa(&["diff", "--secondary", SECONDARY], &env, None);
    assert_eq!(diff.status.code(), Some(1), "{}", show(&diff));
    let left = what_is_left(&emulator).await;
    assert_eq!(left.buckets, [name]);
    assert!(
        left.stacks.is_empty() && left.stack_sets.is_empty(),
        "{left:?}"
    );
}

/// How often `logical` was imported into the stacks adoption makes for
/// the StackSet `set` in `region` (named as AWS names a set's instances,
/// `StackSet-<set>-<id>`), read from their events.
async fn imports_of(emulator: &Emulator, region: &str, set: &str, logical: &str) -> usize {
    let cfn = emulator.cloudformation(region);
    let listed = cfn.list_stacks().send().await.expect("list stacks");
    let mut count = 0;
    let prefix = format!("StackSet-{set}-");
    for summary in listed.stack_summaries() {
        if !summary
            .stack_name()
            .is_some_and(|name| name.starts_with(&prefix))
        {
            continue;
        }
        let id = summary.stack_id().unwrap_or_default();
        let events = cfn
            .describe_stack_events()
            .stack_name(id)
            .send()
            .await
            .expect("stack events");
        count += events
            .stack_events()
            .iter()
            .filter(|e| {
                e.logical_resource_id() == Some(logical)
                    && e.resource_status().map(|s| s.as_str()) == Some("IMPORT_COMPLETE")
            })
            .count();
    }
    count
}

/// The service roles of the stacks adoption made for the StackSet `set` in
/// `region`, as CloudFormation describes them.
async fn service_role(emulator: &Emulator, region: &str, set: &str) -> Vec<String> {
    let cfn = emulator.cloudformation(region);
    let described = cfn.describe_stacks().send().await.expect("describe stacks");
    let prefix = format!("StackSet-{set}-");
    described
        .stacks()
        .iter()
        .filter(|s| s.stack_name().is_some_and(|n| n.starts_with(&prefix)))
        .map(|s| s.role_arn().unwrap_or("none").to_string())
        .collect()
}

/// An adoption stopped after the Regions' imports, before their stacks
/// joined the StackSet (ImportStacksToStackSet does not answer): the same
/// command finishes it, nothing imported twice, nothing lost.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_adoption_resumes_without_importing_twice() {
    use crate::support::proxy::{Action, Proxy};
    let emulator = Emulator::start("adopt_interrupted");
    let mut env = emulator.env_in(PRIMARY);
    env.push(("NO_COLOR".into(), "1".into()));
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    write_data(&emulator).await;
    let before = held(&emulator).await;
    run_ok(&["teardown", "--yes"], &env);

    let proxy = Proxy::start(emulator.port);
    proxy.set_hook(|request| {
        let body = String::from_utf8_lossy(&request.body);
        if request.operation() == "ImportStacksToStackSet"
            && body.contains(&format!("mraa-{APP}-object-store"))
        {
            Action::Drop
        } else {
            Action::Forward
        }
    });
    let through_proxy = crate::support::with_var(env.clone(), "AWS_ENDPOINT_URL", &proxy.endpoint);
    let stopped = mraa(&["deploy", "--secondary", SECONDARY], &through_proxy, None);
    assert_ne!(stopped.status.code(), Some(0), "{}", show(&stopped));
    // Stopped between the two steps: the Regions' stacks hold the buckets,
    // the set has no instance yet.
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(
            imports_of(
                &emulator,
                region,
                &format!("mraa-{APP}-object-store"),
                "ObjectBucket"
            )
            .await,
            1,
            "{region}"
        );
    }
    assert!(
        emulator
            .stack_set_regions(&format!("mraa-{APP}-object-store"))
            .await
            .is_empty()
    );

    proxy.clear_hook();
    run_ok(&["deploy", "--secondary", SECONDARY], &through_proxy);
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(
            imports_of(
                &emulator,
                region,
                &format!("mraa-{APP}-object-store"),
                "ObjectBucket"
            )
            .await,
            1,
            "imported once in {region}"
        );
        assert_eq!(
            held_by_stack(&emulator, "object-store", region, "ObjectBucket").await,
            bucket("objects", region)
        );
        assert_eq!(
            service_role(&emulator, region, &format!("mraa-{APP}-object-store")).await,
            [format!(
                "arn:aws:iam::{}:role/mraa-{APP}-stackset-exec",
                crate::support::ACCOUNT
            )],
            "the Region's stack was imported and updated as the execution role in {region}"
        );
    }
    assert_eq!(
        emulator
            .stack_set_regions(&format!("mraa-{APP}-object-store"))
            .await,
        [SECONDARY, PRIMARY]
    );
    assert_eq!(held(&emulator).await, before);
    let status = mraa(&["status"], &env, None);
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
}

/// When a table was made, read through DynamoDB: the same after a change
/// shows the table was kept, not made again.
pub(crate) async fn table_created(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe the table")
        .table()
        .and_then(|t| t.creation_date_time())
        .map(|t| t.to_string())
        .unwrap_or_default()
}
