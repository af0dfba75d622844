//! Users in the secondary region, both ways mraa replicates them, against
//! the emulator's stand-in for Cognito's multi-Region replication (same pool
//! id in both regions, one user directory, no user creation in the replica,
//! no sign-in while INACTIVE; scripts/emulator_cognito_replica.py). Effects
//! are read through Cognito, KMS and DynamoDB, not from mraa's output.

use aws_sdk_cognitoidentityprovider as idp;
use idp::types::{AuthFlowType, ReplicaRoleType};

use crate::support::{Emulator, base64_decode, mraa, run_ok, stderr_of, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const PASSWORD: &str = "Correct-Horse-9-battery";

pub(crate) fn cognito(emulator: &Emulator, region: &str) -> idp::Client {
    idp::Client::new(&emulator.sdk_config(region))
}

/// The ids of the app's pools as `region` lists them.
pub(crate) async fn pools_in(emulator: &Emulator, region: &str) -> Vec<String> {
    let listed = cognito(emulator, region)
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list user pools in {region}: {e:?}"));
    listed
        .user_pools()
        .iter()
        .filter(|p| p.name() == Some(&format!("mraa-{APP}-users")))
        .filter_map(|p| p.id().map(str::to_string))
        .collect()
}

/// (region, status) of a pool's secondary replica, as the secondary's
/// Cognito lists it.
async fn secondary_replica(emulator: &Emulator, pool: &str) -> Option<(String, String)> {
    let replicas = cognito(emulator, SECONDARY)
        .list_user_pool_replicas()
        .user_pool_id(pool)
        .send()
        .await
        .expect("list replicas");
    replicas
        .user_pool_replicas()
        .iter()
        .find(|r| r.role() == Some(&ReplicaRoleType::Secondary))
        .map(|r| {
            (
                r.region_name().unwrap_or_default().to_string(),
                r.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
}

/// The web client of a pool, as Cognito lists it in `region`.
async fn client_id(emulator: &Emulator, region: &str, pool: &str) -> String {
    let clients = cognito(emulator, region)
        .list_user_pool_clients()
        .user_pool_id(pool)
        .send()
        .await
        .unwrap_or_else(|e| panic!("clients of {pool} in {region}: {e:?}"));
    clients
        .user_pool_clients()
        .first()
        .and_then(|c| c.client_id())
        .unwrap_or_else(|| panic!("{pool} has no client in {region}"))
        .to_string()
}

/// Signs in with a password against `region`'s Cognito: the ID and access
/// tokens.
async fn sign_in(
    emulator: &Emulator,
    region: &'static str,
    client: &str,
    user: &str,
) -> Result<[String; 2], String> {
    cognito(emulator, region)
        .initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(client)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", PASSWORD)
        // Unsigned, as a browser sends it: the regional host name is what
        // says which region answers (one loopback endpoint serves both).
        .customize()
        .mutate_request(move |request| {
            request
                .headers_mut()
                .insert("host", format!("cognito-idp.{region}.amazonaws.com"));
        })
        .send()
        .await
        .map_err(|e| {
            format!(
                "{}",
                aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e)
            )
        })
        .and_then(|out| {
            out.authentication_result()
                .and_then(|r| Some([r.id_token()?.to_string(), r.access_token()?.to_string()]))
                .ok_or_else(|| format!("no tokens: challenge {:?}", out.challenge_name()))
        })
}

/// The `iss` claim of a JWT: its payload decoded (base64url), no signature
/// check.
fn issuer(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let standard: String = payload
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let claims: serde_json::Value = base64_decode(&standard)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("not a JWT payload: {token}"));
    claims["iss"].as_str().unwrap_or_default().to_string()
}

/// The user pools the application API's Cognito authorizer names in
/// `region`, read through API Gateway (GetRestApis, GetAuthorizers).
async fn authorizer_pools(emulator: &Emulator, region: &str) -> Vec<String> {
    let apigateway = aws_sdk_apigateway::Client::new(&emulator.sdk_config(region));
    let apis = apigateway
        .get_rest_apis()
        .limit(500)
        .send()
        .await
        .unwrap_or_else(|e| panic!("REST APIs in {region}: {e:?}"));
    let api = apis
        .items()
        .iter()
        .find(|a| a.name() == Some(&format!("mraa-{APP}-app")))
        .and_then(|a| a.id())
        .unwrap_or_else(|| panic!("no application API in {region}: {apis:?}"));
    let authorizers = apigateway
        .get_authorizers()
        .rest_api_id(api)
        .send()
        .await
        .unwrap_or_else(|e| panic!("authorizers of {api} in {region}: {e:?}"));
    authorizers
        .items()
        .iter()
        .filter(|a| {
            a.r#type() == Some(&aws_sdk_apigateway::types::AuthorizerType::CognitoUserPools)
        })
        .flat_map(|a| a.provider_arns().iter().cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_of_the_primary_signs_in_to_the_secondary_after_failover() {
    let emulator = Emulator::start("users_native");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);

    // One pool, listed in both regions under the same id: the secondary's is
    // the replica, ACTIVE, encrypted with a multi-Region key replicated there.
    let (primary_pools, secondary_pools) = (
        pools_in(&emulator, PRIMARY).await,
        pools_in(&emulator, SECONDARY).await,
    );
    assert_eq!(primary_pools.len(), 1, "{primary_pools:?}");
    assert_eq!(
        secondary_pools, primary_pools,
        "the replica shares the pool id"
    );
    let pool = primary_pools[0].clone();
    assert_eq!(
        secondary_replica(&emulator, &pool).await,
        Some((SECONDARY.to_string(), "ACTIVE".to_string()))
    );
    let described = cognito(&emulator, PRIMARY)
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("describe pool");
    let key = described
        .user_pool()
        .and_then(|p| p.key_configuration())
        .expect("the pool names its key");
    assert_eq!(
        key.key_type().map(|t| t.as_str()),
        Some("CUSTOMER_MANAGED_KEY")
    );
    // A multi-Region key (the emulator, as Cognito, makes no replica unless
    // the key has a replica in the replica's region).
    let key_arn = key.kms_key_arn().unwrap_or_default();
    assert!(
        key_arn.starts_with(&format!("arn:aws:kms:{PRIMARY}:")) && key_arn.contains(":key/mrk-"),
        "{key_arn}"
    );
    // The users table of the import only is not made.
    let users_table = emulator
        .dynamodb(PRIMARY)
        .describe_table()
        .table_name(format!("mraa-{APP}-users"))
        .send()
        .await;
    assert!(users_table.is_err(), "no users table: {users_table:?}");

    // A user made in the primary, with the password they chose.
    let primary = cognito(&emulator, PRIMARY);
    primary
        .admin_create_user()
        .user_pool_id(&pool)
        .username("ada")
        .user_attributes(
            idp::types::AttributeType::builder()
                .name("email")
                .value("ada@example.test")
                .build()
                .expect("attribute"),
        )
        .message_action(idp::types::MessageActionType::Suppress)
        .send()
        .await
        .expect("create user");
    primary
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username("ada")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("set password");
    // The replica refuses to create users, as Cognito's does.
    let refused = cognito(&emulator, SECONDARY)
        .admin_create_user()
        .user_pool_id(&pool)
        .username("eve")
        .send()
        .await;
    assert!(refused.is_err(), "the replica created a user");

    let failover = mraa(
        &["failover", "--reason", "drill", "--output", "json"],
        &env,
        None,
    );
    assert_eq!(failover.status.code(), Some(0), "{}", stderr_of(&failover));
    let outcome: serde_json::Value =
        serde_json::from_str(&stdout_of(&failover)).expect("failover JSON");
    assert_eq!(
        outcome["users"].as_str(),
        Some(format!("user pool replica {pool} is ACTIVE").as_str()),
        "{outcome}"
    );
    let state = emulator.state_item(SECONDARY, APP).await;
    assert_eq!(
        state
            .as_ref()
            .and_then(|i| i.get("state"))
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("failover")
    );

    // Signed in against the secondary's Cognito with the client the site's
    // config.json names for that region, and the user's own password.
    let client = client_id(&emulator, SECONDARY, &pool).await;
    let tokens = sign_in(&emulator, SECONDARY, &client, "ada")
        .await
        .unwrap_or_else(|e| panic!("sign-in in {SECONDARY}: {e}"));

    // The tokens carry the issuer the secondary's authorizer trusts: the
    // pool its ProviderARNs name, in the secondary (the ORIGINAL issuer,
    // https://cognito-idp.<region>.amazonaws.com/<pool id>, "The ID token",
    // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html),
    // so validating them reads nothing of the primary region.
    let providers = authorizer_pools(&emulator, SECONDARY).await;
    let [provider] = providers.as_slice() else {
        panic!("one user pool named by the authorizer in {SECONDARY}: {providers:?}");
    };
    assert!(
        provider.starts_with(&format!("arn:aws:cognito-idp:{SECONDARY}:"))
            && provider.ends_with(&format!(":userpool/{pool}")),
        "{provider}"
    );
    let region = provider.split(':').nth(3).unwrap_or_default();
    let id = provider.rsplit('/').next().unwrap_or_default();
    let trusted = format!("https://cognito-idp.{region}.amazonaws.com/{id}");
    for token in &tokens {
        assert_eq!(
            issuer(token),
            trusted,
            "a token of {SECONDARY}'s Cognito names an issuer that {SECONDARY}'s authorizer \
             ({provider}) does not trust"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failover_activates_a_replica_left_inactive() {
    // On AWS's clock (scaled): the replica's status change takes its time,
    // which failover must wait out.
    let emulator = Emulator::start_with("users_inactive", &[("MRAA_EMULATOR_TIME_SCALE", "60")]);
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    let pool = pools_in(&emulator, PRIMARY).await.remove(0);
    let secondary = cognito(&emulator, SECONDARY);
    secondary
        .update_user_pool_replica()
        .user_pool_id(&pool)
        .region_name(SECONDARY)
        .status(idp::types::UpdateReplicaStatusType::Inactive)
        .send()
        .await
        .expect("deactivate the replica");
    // Cognito changes the status after the call returns.
    replica_reads(&emulator, &pool, "INACTIVE").await;
    let status = mraa(&["status", "--output", "json"], &env, None);
    // Degraded: the deployment would not serve users in a failover.
    assert_eq!(status.status.code(), Some(3), "{}", stderr_of(&status));
    let report: serde_json::Value = serde_json::from_str(&stdout_of(&status)).expect("status JSON");
    let pool_check = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "user-pool" && c["region"] == SECONDARY)
        .expect("the secondary's user-pool check");
    assert_eq!(pool_check["status"], "degraded", "{pool_check}");
    assert!(
        pool_check["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the replica is INACTIVE")),
        "{pool_check}"
    );

    // failover activates it and waits until it reads ACTIVE: the next read
    // says so, with no wait of the test's own.
    let output = run_ok(&["failover", "--reason", "drill"], &env);
    assert!(
        stdout_of(&output).contains(&format!(
            "user pool replica {pool} was INACTIVE: activated, ACTIVE after"
        )),
        "{}",
        stdout_of(&output)
    );
    assert_eq!(
        secondary_replica(&emulator, &pool).await,
        Some((SECONDARY.to_string(), "ACTIVE".to_string()))
    );
}

/// Polls the replica's status through Cognito's API until it reads
/// `status`, bounded.
async fn replica_reads(emulator: &Emulator, pool: &str, status: &str) {
    let started = std::time::Instant::now();
    loop {
        let now = secondary_replica(emulator, pool).await;
        if now.as_ref().is_some_and(|(_, s)| s == status) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the replica of {pool} still reads {now:?}, not {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn users_by_import_keep_a_pool_per_region_and_the_mode_is_not_switched_silently() {
    let emulator = Emulator::start("users_import");
    let env = emulator.env_in(PRIMARY);
    run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--user-replication",
            "import",
        ],
        &env,
    );
    let (primary_pools, secondary_pools) = (
        pools_in(&emulator, PRIMARY).await,
        pools_in(&emulator, SECONDARY).await,
    );
    assert_eq!(primary_pools.len(), 1);
    assert_eq!(secondary_pools.len(), 1);
    assert_ne!(
        primary_pools, secondary_pools,
        "a pool of its own per region"
    );
    let users = emulator
        .dynamodb(SECONDARY)
        .describe_table()
        .table_name(format!("mraa-{APP}-users"))
        .send()
        .await;
    assert!(users.is_ok(), "the users table is replicated: {users:?}");

    // A deploy without the flag keeps the recorded mode; asking for the
    // other one is refused before any change.
    let again = mraa(
        &["deploy", "--secondary", SECONDARY, "--output", "json"],
        &env,
        None,
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert_eq!(pools_in(&emulator, SECONDARY).await, secondary_pools);
    emulator.start_recording();
    let switch = mraa(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--user-replication",
            "native",
        ],
        &env,
        None,
    );
    let stderr = stderr_of(&switch);
    // Refused as bad input.
    assert_eq!(switch.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("this deployment replicates users by import"),
        "{stderr}"
    );
    let mutating: Vec<_> = emulator
        .recorded_calls()
        .into_iter()
        .filter(|c| c.is_mutating())
        .collect();
    assert!(mutating.is_empty(), "{mutating:#?}");
}
