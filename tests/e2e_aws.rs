//! End to end against a real AWS account. Skipped unless `MRAA_E2E_PROFILE`
//! names an AWS profile; it creates real resources (and costs a little) and
//! tears them down again:
//!
//!     MRAA_E2E_PROFILE=sandbox cargo test --test e2e_aws -- --nocapture
//!
//! Optional: `MRAA_E2E_PRIMARY` (default us-east-1), `MRAA_E2E_SECONDARY`
//! (default us-west-2), `MRAA_E2E_APP` (default `e2e` + a random suffix),
//! `MRAA_E2E_DOMAIN` (a name under a public hosted zone of the account: the
//! run then deploys with `--domain`, reads the state through
//! `https://api.<domain>` with curl, and checks that failover moves DNS).
//!
//! The APIs are called as a browser calls them, which is what an emulator
//! cannot show (every trust policy, integration role and authorizer is real
//! here): each region's state API answers HTTP 200 with `"serving"` true in
//! the primary and false in the secondary while the app is active, and a
//! comment posted as a signed-in user of that region's pool is created (201)
//! in the primary and refused (409) in the secondary, which takes no writes
//! (layers/application/comments.py).
//!
//! It can run as a role made from `mraa permissions --for all` (README, "A CI
//! role"), plus `s3:PutObject` and `s3:GetObject` on
//! `arn:aws:s3:::mraa-<app>-objects-*/*` for its replication probe: the test
//! user is made with `cognito-idp:AdminCreateUser`, which deploy already
//! needs, and signs in through the pool's public API.

mod support;

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

fn account() -> Option<Account> {
    let profile = std::env::var("MRAA_E2E_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())?;
    let suffix = std::process::id() % 100_000;
    Some(Account {
        profile,
        primary: std::env::var("MRAA_E2E_PRIMARY").unwrap_or_else(|_| "us-east-1".into()),
        secondary: std::env::var("MRAA_E2E_SECONDARY").unwrap_or_else(|_| "us-west-2".into()),
        app: std::env::var("MRAA_E2E_APP").unwrap_or_else(|_| format!("e2e{suffix}")),
        domain: std::env::var("MRAA_E2E_DOMAIN")
            .ok()
            .filter(|d| !d.is_empty()),
    })
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

#[tokio::test(flavor = "multi_thread")]
async fn deploy_replicate_fail_over_and_tear_down_on_aws() {
    let Some(account) = account() else {
        eprintln!("skipped: set MRAA_E2E_PROFILE to an AWS profile to run the real-AWS suite");
        return;
    };
    let outputs_dir = tempfile::tempdir().expect("a temporary directory");
    let outputs_file = outputs_dir.path().join("endpoints.json");
    let outputs_path = outputs_file.to_string_lossy().into_owned();
    let mut deploy = vec!["deploy", "--outputs-file", &outputs_path];
    if let Some(domain) = &account.domain {
        deploy.extend(["--domain", domain]);
    }
    let deployed = account.run(&deploy);
    assert_eq!(deployed.status.code(), Some(0), "deploy");
    let endpoints: Value = serde_json::from_str(
        &std::fs::read_to_string(&outputs_file).expect("deploy wrote its endpoints"),
    )
    .expect("the endpoints are JSON");
    for region in [&account.primary, &account.secondary] {
        let serving = region == &account.primary;
        let ends = &endpoints["regions"][region.as_str()];
        check_state_api(ends, region, serving);
        let token = signed_in(&account, region, ends).await;
        check_comment(ends, region, &token, if serving { 201 } else { 409 });
    }
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

    let status = account.run(&["status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(0), "status is all ok on AWS");

    let caller = aws_sdk_sts::Client::new(&account.config(&account.primary).await)
        .get_caller_identity()
        .send()
        .await
        .expect("caller");
    let account_id = caller.account().expect("account id").to_string();

    // An object written to the primary bucket reaches the secondary (RTC: 15 min).
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

    // An item written in the primary reaches the secondary's replica.
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

    assert_eq!(
        account.run(&["failover", "--reason", "e2e"]).status.code(),
        Some(0)
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
    assert_eq!(
        account
            .run(&["activate", "--yes", "--reason", "e2e"])
            .status
            .code(),
        Some(0)
    );

    let teardown = account.run(&["teardown", "--delete-data", "--yes"]);
    assert_eq!(teardown.status.code(), Some(0), "teardown");
    let after = account.run(&["status"]);
    assert_eq!(after.status.code(), Some(3), "nothing left to show");
}

async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_secs(5);
    while Instant::now() < deadline {
        if check().await {
            return Ok(());
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

/// `(HTTP status, body)` of a request made by curl (certificate verified).
fn http(method: &str, url: &str, headers: &[String], body: Option<&str>) -> Option<(u16, String)> {
    let mut args: Vec<String> = [
        "--silent",
        "--max-time",
        "20",
        "--write-out",
        "\n%{http_code}",
        "--request",
        method,
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
fn check_state_api(ends: &Value, region: &str, serving: bool) {
    let url = ends["state_url"].as_str().expect("a state URL");
    let (code, body) = http("GET", url, &[], None).unwrap_or_else(|| panic!("{url}: no answer"));
    assert_eq!(code, 200, "{region} GET {url}: {body}");
    let state: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    assert_eq!(state["serving"], serving, "{region} GET {url}: {body}");
    assert_eq!(state["state"], "active", "{region} GET {url}: {body}");
}

/// An ID token of a new user of `region`'s pool: made by the administrator
/// without a mail, then signed in through the pool's public API, which asks
/// for a new password first.
async fn signed_in(account: &Account, region: &str, ends: &Value) -> String {
    let pool = ends["user_pool_id"].as_str().expect("a user pool");
    let client_id = ends["user_pool_client_id"].as_str().expect("a pool client");
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&account.config(region).await);
    let email = format!("e2e+{}-{region}@example.com", account.app);
    let temporary = "Temporary-e2e-1a!";
    let password = "Permanent-e2e-2b!";
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(&email)
        .temporary_password(temporary)
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(&email)
                .build()
                .expect("email"),
        )
        .user_attributes(
            AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .expect("email_verified"),
        )
        .send()
        .await
        .expect("create the test user");
    let first = cognito
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", temporary)
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
        .challenge_responses("USERNAME", &email)
        .challenge_responses("NEW_PASSWORD", password)
        .send()
        .await
        .expect("set the password");
    answered
        .authentication_result()
        .and_then(|r| r.id_token())
        .expect("an ID token")
        .to_string()
}

/// POST a comment through `region`'s application API as the signed-in user.
fn check_comment(ends: &Value, region: &str, token: &str, expected: u16) {
    let base = ends["api_url"].as_str().expect("an API URL");
    let url = format!("{base}comments/e2e-photo.jpg");
    let headers = [
        format!("Authorization: {token}"),
        "Content-Type: application/json".to_string(),
    ];
    let (code, body) = http(
        "POST",
        &url,
        &headers,
        Some(r#"{"text": "from the e2e suite"}"#),
    )
    .unwrap_or_else(|| panic!("{url}: no answer"));
    assert_eq!(code, expected, "{region} POST {url}: {body}");
}
