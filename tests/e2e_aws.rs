//! End to end against a real AWS account. Ignored by default: it creates real
//! resources for about 40 minutes and costs a little (README, "The real-AWS
//! suite"). Run it with a profile:
//!
//!     MRAA_E2E_PROFILE=sandbox cargo test --test e2e_aws -- --ignored --nocapture
//!
//! (or `make e2e`). Under `--ignored` without `MRAA_E2E_PROFILE` it fails and
//! says so: it never reports ok without having run.
//!
//! Optional: `MRAA_E2E_PRIMARY` (default us-east-1), `MRAA_E2E_SECONDARY`
//! (default us-west-2; both must be regions where Cognito replicates user
//! pools), `MRAA_E2E_APP` (default `e2e` + a number), `MRAA_E2E_DOMAIN` (a
//! name under a public hosted zone of the account: the run then deploys with
//! `--domain`, reads the state through `https://api.<domain>` with curl, and
//! checks that failover moves DNS).
//!
//! The APIs are called as a browser calls them, which is what an emulator
//! cannot show (every trust policy, integration role, key policy and
//! authorizer is real here):
//!
//! 1. each region's state API answers HTTP 200, `"serving"` only in the
//!    primary while the app is active;
//! 2. a user is made in the primary's pool only (the replica refuses user
//!    creation: "You can't generate new users in secondary user pools",
//!    <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html>),
//!    signs in there and posts a comment (201);
//! 3. after `mraa failover`, with the primary's API and Cognito endpoints
//!    unreachable from the test (curl goes through a loopback CONNECT proxy
//!    that drops every tunnel to them), the same user signs in through the
//!    secondary's replica, reads the comment through the secondary's API,
//!    and posts a second one, which the API refuses (409: failover is
//!    read-only);
//! 4. after `mraa activate`, the user posts the second comment through the
//!    primary (201) and reads it back, once;
//! 5. `mraa teardown --delete-data` removes everything, which the run checks
//!    through CloudFormation, S3, DynamoDB and Cognito in both regions.
//!
//! An object and an item are also checked to replicate. A run that fails
//! midway still tears down (with `--delete-data`) before it reports.
//!
//! It can run as a role made from `mraa permissions --for all` (README, "A CI
//! role"), plus `s3:PutObject` and `s3:GetObject` on
//! `arn:aws:s3:::mraa-<app>-objects-*/*` for its replication probe and the
//! list calls of the final check: the test user is made with
//! `cognito-idp:AdminCreateUser`, which deploy already needs, and signs in
//! through the pool's public API.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, MessageActionType,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use support::{mraa, stderr_of, stdout_of};

struct Account {
    profile: String,
    primary: String,
    secondary: String,
    app: String,
    domain: Option<String>,
}

/// The account the suite runs in; without `MRAA_E2E_PROFILE` the run fails,
/// naming what to set.
fn account() -> Account {
    let profile = std::env::var("MRAA_E2E_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "the real-AWS suite did not run: set MRAA_E2E_PROFILE to an AWS profile \
                 (MRAA_E2E_PROFILE=sandbox make e2e); it creates real resources for about \
                 40 minutes (README, \"The real-AWS suite\")"
            )
        });
    let suffix = std::process::id() % 100_000;
    Account {
        profile,
        primary: std::env::var("MRAA_E2E_PRIMARY").unwrap_or_else(|_| "us-east-1".into()),
        secondary: std::env::var("MRAA_E2E_SECONDARY").unwrap_or_else(|_| "us-west-2".into()),
        app: std::env::var("MRAA_E2E_APP").unwrap_or_else(|_| format!("e2e{suffix}")),
        domain: std::env::var("MRAA_E2E_DOMAIN")
            .ok()
            .filter(|d| !d.is_empty()),
    }
}

impl Account {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut full = vec![
            "--app",
            &self.app,
            "--profile",
            &self.profile,
            "--primary",
            &self.primary,
            "--secondary",
            &self.secondary,
            "--user-replication",
            "native",
        ];
        full.extend_from_slice(args);
        // The developer's own AWS configuration is used here on purpose.
        let env: Vec<(String, String)> = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let output = mraa(&full, &env, None);
        eprintln!(
            "$ mraa {}\n{}{}",
            full.join(" "),
            stdout_of(&output),
            stderr_of(&output)
        );
        output
    }

    async fn config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .profile_name(&self.profile)
            .region(Region::new(region.to_string()))
            .load()
            .await
    }
}

/// Tears the deployment down (with its data) if the run stops before its
/// own teardown, so that a failed run leaves nothing billed behind.
struct Cleanup<'a> {
    account: &'a Account,
    done: bool,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if !self.done {
            eprintln!("the run stopped early: tearing down {}", self.account.app);
            self.account.run(&["teardown", "--delete-data", "--yes"]);
        }
    }
}

/// A loopback HTTP CONNECT proxy for curl that tunnels to any host except
/// the blocked ones, whose tunnels it drops unanswered: from the test, those
/// hosts are down.
struct Blocker {
    port: u16,
    blocked: Arc<Mutex<HashSet<String>>>,
}

impl Blocker {
    fn start() -> Blocker {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let blocked: Arc<Mutex<HashSet<String>>> = Arc::default();
        let shared = Arc::clone(&blocked);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let blocked = Arc::clone(&shared);
                std::thread::spawn(move || tunnel(client, &blocked));
            }
        });
        Blocker { port, blocked }
    }

    /// Blocks every host ending with `suffix`.
    fn block(&self, suffix: &str) {
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.insert(suffix.to_string());
        }
    }

    fn unblock_all(&self) {
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.clear();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn tunnel(client: TcpStream, blocked: &Mutex<HashSet<String>>) {
    let Ok(reader) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // The headers end with an empty line; TLS starts only after the answer.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let mut parts = request.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    let host = target.split(':').next().unwrap_or_default().to_string();
    let refused = blocked
        .lock()
        .map(|b| b.iter().any(|suffix| host.ends_with(suffix.as_str())))
        .unwrap_or(true);
    if refused {
        return;
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        return;
    };
    let mut answer = &client;
    if answer
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (Ok(mut to_upstream), Ok(mut from_upstream), Ok(mut to_client)) = (
        upstream.try_clone(),
        upstream.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    let up = std::thread::spawn(move || std::io::copy(&mut reader, &mut to_upstream));
    let _ = std::io::copy(&mut from_upstream, &mut to_client);
    let _ = up.join();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "real AWS: creates resources for about 40 minutes; run with MRAA_E2E_PROFILE=<profile> cargo test --test e2e_aws -- --ignored (make e2e)"]
async fn deploy_fail_over_to_the_replica_and_tear_down_on_aws() {
    let account = account();
    let outputs_dir = tempfile::tempdir().expect("a temporary directory");
    let outputs_file = outputs_dir.path().join("endpoints.json");
    let outputs_path = outputs_file.to_string_lossy().into_owned();
    let mut deploy = vec!["deploy", "--outputs-file", &outputs_path];
    if let Some(domain) = &account.domain {
        deploy.extend(["--domain", domain]);
    }
    let mut cleanup = Cleanup {
        account: &account,
        done: false,
    };
    let deployed = account.run(&deploy);
    assert_eq!(deployed.status.code(), Some(0), "deploy");
    let endpoints: Value = serde_json::from_str(
        &std::fs::read_to_string(&outputs_file).expect("deploy wrote its endpoints"),
    )
    .expect("the endpoints are JSON");
    let ends = |region: &str| endpoints["regions"][region].clone();
    let (primary, secondary) = (ends(&account.primary), ends(&account.secondary));
    let proxy = Blocker::start();
    check_state_api(&primary, &account.primary, true, &proxy);
    check_state_api(&secondary, &account.secondary, false, &proxy);
    if let Some(domain) = &account.domain {
        // The failover name serves the state over HTTPS with its own
        // certificate (curl verifies it), once DNS has the records.
        let url = format!("https://api.{domain}/routing/state/{}", account.app);
        wait_until(Duration::from_secs(10 * 60), || async {
            curl(&url).is_some_and(|body| body.contains("\"active\""))
        })
        .await
        .unwrap_or_else(|e| panic!("{url} answers the state: {e}"));
    }

    // A user of the primary's pool only, signed in there.
    let user = User::new(&account);
    let token = user.create_and_sign_in(&account, &primary).await;
    let first = format!("first comment of {}", account.app);
    check_post(&primary, &account.primary, &token, &first, 201, &proxy);

    let status = account.run(&["status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(0), "status is all ok on AWS");
    check_replication(&account).await;

    // Failover, then the primary's API and Cognito cannot be reached from
    // here: the user signs in through the secondary's replica.
    assert_eq!(
        account.run(&["failover", "--reason", "e2e"]).status.code(),
        Some(0)
    );
    proxy.block(&format!(".execute-api.{}.amazonaws.com", account.primary));
    proxy.block(&format!("cognito-idp.{}.amazonaws.com", account.primary));
    let state_url = primary["state_url"].as_str().expect("a state URL");
    assert!(
        http("GET", state_url, &[], None, &proxy).is_none_or(|(code, _)| code == 0),
        "the proxy does not block the primary's API ({state_url})"
    );
    // The replica has the user and its password once replication caught up.
    let replica_token = wait_for(Duration::from_secs(10 * 60), || {
        user.sign_in(&account, &account.secondary, &secondary)
    })
    .await
    .expect("the user signs in through the secondary's replica");
    assert!(
        comments(&secondary, &account.secondary, &replica_token, &proxy).contains(&first),
        "the secondary reads the comment written in the primary"
    );
    let second = format!("second comment of {}", account.app);
    check_post(
        &secondary,
        &account.secondary,
        &replica_token,
        &second,
        409,
        &proxy,
    );
    if account.domain.is_some() {
        // Route 53 answers the API name with the secondary once the
        // primary's check no longer finds "serving": true in its state.
        wait_until(Duration::from_secs(5 * 60), || async {
            dns_answer(&account).is_some_and(|detail| detail.contains(&account.secondary))
        })
        .await
        .expect("DNS answers with the secondary after failover");
    }

    // Back to the primary: the refused comment is written now, once.
    proxy.unblock_all();
    assert_eq!(
        account
            .run(&["activate", "--yes", "--reason", "e2e"])
            .status
            .code(),
        Some(0)
    );
    let token = user
        .sign_in(&account, &account.primary, &primary)
        .await
        .expect("the user signs in through the primary again");
    check_post(&primary, &account.primary, &token, &second, 201, &proxy);
    let read = comments(&primary, &account.primary, &token, &proxy);
    assert_eq!(read.matches(&second).count(), 1, "read back once: {read}");

    let teardown = account.run(&["teardown", "--delete-data", "--yes"]);
    cleanup.done = true;
    assert_eq!(teardown.status.code(), Some(0), "teardown");
    let left = left_behind(&account).await;
    assert!(
        left.is_empty(),
        "left after teardown --delete-data:\n{}",
        left.join("\n")
    );
    let after = account.run(&["status"]);
    assert_eq!(after.status.code(), Some(3), "nothing left to show");
}

/// An object and an item written in the primary reach the secondary.
async fn check_replication(account: &Account) {
    let caller = aws_sdk_sts::Client::new(&account.config(&account.primary).await)
        .get_caller_identity()
        .send()
        .await
        .expect("caller");
    let account_id = caller.account().expect("account id").to_string();

    // S3 Replication Time Control: 15 minutes.
    let bucket = |region: &str| format!("mraa-{}-objects-{account_id}-{region}", account.app);
    let s3_primary = aws_sdk_s3::Client::new(&account.config(&account.primary).await);
    let s3_secondary = aws_sdk_s3::Client::new(&account.config(&account.secondary).await);
    s3_primary
        .put_object()
        .bucket(bucket(&account.primary))
        .key("photos/e2e.txt")
        .body(b"replicate me".to_vec().into())
        .send()
        .await
        .expect("put object");
    wait_until(Duration::from_secs(20 * 60), || async {
        s3_secondary
            .head_object()
            .bucket(bucket(&account.secondary))
            .key("photos/e2e.txt")
            .send()
            .await
            .is_ok()
    })
    .await
    .expect("the object was replicated to the secondary");

    let table = format!("mraa-{}-comments", account.app);
    let ddb_primary = aws_sdk_dynamodb::Client::new(&account.config(&account.primary).await);
    let ddb_secondary = aws_sdk_dynamodb::Client::new(&account.config(&account.secondary).await);
    ddb_primary
        .put_item()
        .table_name(&table)
        .item("commentId", AttributeValue::S("e2e".into()))
        .item("photoId", AttributeValue::S("photos/e2e.txt".into()))
        .item("createdAt", AttributeValue::S("0".into()))
        .send()
        .await
        .expect("put item");
    wait_until(Duration::from_secs(120), || async {
        ddb_secondary
            .get_item()
            .table_name(&table)
            .key("commentId", AttributeValue::S("e2e".into()))
            .send()
            .await
            .ok()
            .and_then(|o| o.item().cloned())
            .is_some()
    })
    .await
    .expect("the item was replicated to the secondary");
}

/// What of the app the services still hold in either region: stacks,
/// StackSets, buckets, tables, user pools.
async fn left_behind(account: &Account) -> Vec<String> {
    let prefix = format!("mraa-{}-", account.app);
    let instance_prefix = format!("StackSet-{prefix}");
    let mut left = Vec::new();
    for region in [&account.primary, &account.secondary] {
        let config = account.config(region).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let stacks = cfn
            .list_stacks()
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for stack in stacks {
            let stack = stack.expect("list stacks");
            let name = stack.stack_name().unwrap_or_default();
            let deleted = stack.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE");
            if !deleted && (name.starts_with(&prefix) || name.starts_with(&instance_prefix)) {
                left.push(format!("stack {name} in {region}"));
            }
        }
        let sets = cfn
            .list_stack_sets()
            .status(aws_sdk_cloudformation::types::StackSetStatus::Active)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for set in sets {
            let name = set
                .expect("list stack sets")
                .stack_set_name()
                .unwrap_or_default()
                .to_string();
            if name.starts_with(&prefix) {
                left.push(format!("StackSet {name} in {region}"));
            }
        }
        let tables = aws_sdk_dynamodb::Client::new(&config)
            .list_tables()
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for table in tables {
            let name = table.expect("list tables");
            if name.starts_with(&prefix) {
                left.push(format!("table {name} in {region}"));
            }
        }
        let pools = aws_sdk_cognitoidentityprovider::Client::new(&config)
            .list_user_pools()
            .max_results(60)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for pool in pools {
            let pool = pool.expect("list user pools");
            if pool.name().is_some_and(|n| n.starts_with(&prefix)) {
                left.push(format!(
                    "user pool {} in {region}",
                    pool.id().unwrap_or_default()
                ));
            }
        }
    }
    let buckets = aws_sdk_s3::Client::new(&account.config(&account.primary).await)
        .list_buckets()
        .send()
        .await
        .expect("list buckets");
    for bucket in buckets.buckets() {
        if let Some(name) = bucket.name().filter(|n| n.starts_with(&prefix)) {
            left.push(format!("bucket {name}"));
        }
    }
    left
}

/// The suite's one user, made in the primary's pool.
struct User {
    email: String,
}

const TEMPORARY: &str = "Temporary-e2e-1a!";
const PASSWORD: &str = "Permanent-e2e-2b!";

impl User {
    fn new(account: &Account) -> User {
        User {
            email: format!("e2e+{}@example.com", account.app),
        }
    }

    /// Made by the administrator without a mail, then signed in through the
    /// primary pool's public API, which asks for a new password first.
    async fn create_and_sign_in(&self, account: &Account, ends: &Value) -> String {
        let pool = ends["user_pool_id"].as_str().expect("a user pool");
        let client_id = ends["user_pool_client_id"].as_str().expect("a pool client");
        let cognito =
            aws_sdk_cognitoidentityprovider::Client::new(&account.config(&account.primary).await);
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .expect("an attribute")
        };
        cognito
            .admin_create_user()
            .user_pool_id(pool)
            .username(&self.email)
            .temporary_password(TEMPORARY)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", &self.email))
            .user_attributes(attribute("email_verified", "true"))
            .send()
            .await
            .expect("create the test user in the primary's pool");
        let first = cognito
            .initiate_auth()
            .client_id(client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &self.email)
            .auth_parameters("PASSWORD", TEMPORARY)
            .send()
            .await
            .expect("sign in");
        assert_eq!(
            first.challenge_name(),
            Some(&ChallengeNameType::NewPasswordRequired)
        );
        let answered = cognito
            .respond_to_auth_challenge()
            .client_id(client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .set_session(first.session().map(str::to_string))
            .challenge_responses("USERNAME", &self.email)
            .challenge_responses("NEW_PASSWORD", PASSWORD)
            .send()
            .await
            .expect("set the password");
        answered
            .authentication_result()
            .and_then(|r| r.id_token())
            .expect("an ID token")
            .to_string()
    }

    /// An ID token from `region`'s pool (its client in `ends`), if it signs
    /// the user in.
    async fn sign_in(&self, account: &Account, region: &str, ends: &Value) -> Option<String> {
        let client_id = ends["user_pool_client_id"].as_str()?;
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&account.config(region).await);
        let answer = cognito
            .initiate_auth()
            .client_id(client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &self.email)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .map_err(|e| eprintln!("sign-in in {region}: {e:?}"))
            .ok()?;
        answer
            .authentication_result()
            .and_then(|r| r.id_token())
            .map(str::to_string)
    }
}

async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_for(limit, || {
        let done = check();
        async move { done.await.then_some(()) }
    })
    .await
}

/// The first answer `check` gives within `limit`, asked with a backoff
/// from 5 s up to a minute.
async fn wait_for<T, F, Fut>(limit: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(answer) = check().await {
            return Ok(answer);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(60));
    }
    Err(format!("not within {} s", limit.as_secs()))
}

/// The body of a successful HTTPS GET (certificate verified), by curl.
fn curl(url: &str) -> Option<String> {
    let out = std::process::Command::new("curl")
        .args(["--silent", "--fail", "--max-time", "10", url])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `mraa status`'s dns-answer detail: which region the API name answers.
fn dns_answer(account: &Account) -> Option<String> {
    let output = account.run(&["status", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout_of(&output)).ok()?;
    report["checks"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "dns-answer")
        .and_then(|c| c["detail"].as_str())
        .map(str::to_string)
}

/// `(HTTP status, body)` of a request made by curl through `proxy`
/// (certificate verified); `None` when curl reached nothing.
fn http(
    method: &str,
    url: &str,
    headers: &[String],
    body: Option<&str>,
    proxy: &Blocker,
) -> Option<(u16, String)> {
    let mut args: Vec<String> = [
        "--silent",
        "--max-time",
        "20",
        "--write-out",
        "\n%{http_code}",
        "--request",
        method,
        "--proxy",
        &proxy.url(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    for header in headers {
        args.extend(["--header".to_string(), header.clone()]);
    }
    if let Some(body) = body {
        args.extend(["--data".to_string(), body.to_string()]);
    }
    args.push(url.to_string());
    let out = std::process::Command::new("curl")
        .args(&args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.trim().parse().ok()?, body.to_string()))
}

/// The state API of `region` answers 200, serving only in the primary while
/// active: a 500 here is an integration role API Gateway cannot assume.
fn check_state_api(ends: &Value, region: &str, serving: bool, proxy: &Blocker) {
    let url = ends["state_url"].as_str().expect("a state URL");
    let (code, body) =
        http("GET", url, &[], None, proxy).unwrap_or_else(|| panic!("{url}: no answer"));
    assert_eq!(code, 200, "{region} GET {url}: {body}");
    let state: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    assert_eq!(state["serving"], serving, "{region} GET {url}: {body}");
    assert_eq!(state["state"], "active", "{region} GET {url}: {body}");
}

const PHOTO: &str = "e2e-photo.jpg";

/// POST a comment through `region`'s application API as the signed-in user.
fn check_post(ends: &Value, region: &str, token: &str, text: &str, expected: u16, proxy: &Blocker) {
    let base = ends["api_url"].as_str().expect("an API URL");
    let url = format!("{base}comments/{PHOTO}");
    let headers = [
        format!("Authorization: {token}"),
        "Content-Type: application/json".to_string(),
    ];
    let body = serde_json::json!({ "text": text }).to_string();
    let (code, answer) = http("POST", &url, &headers, Some(&body), proxy)
        .unwrap_or_else(|| panic!("{url}: no answer"));
    assert_eq!(code, expected, "{region} POST {url}: {answer}");
}

/// The comments of the test photo as `region`'s application API lists them.
fn comments(ends: &Value, region: &str, token: &str, proxy: &Blocker) -> String {
    let base = ends["api_url"].as_str().expect("an API URL");
    let url = format!("{base}comments/{PHOTO}");
    let headers = [format!("Authorization: {token}")];
    let (code, body) =
        http("GET", &url, &headers, None, proxy).unwrap_or_else(|| panic!("{url}: no answer"));
    assert_eq!(code, 200, "{region} GET {url}: {body}");
    body
}
