//! Under the errors AWS returns under load — throttling, 503 SlowDown, 500
//! InternalFailure, dropped connections — on a fifth of all requests, deploy
//! and teardown still converge to the same end state as without faults. An
//! endpoint that stops answering mid-deploy is named on the rows that wait
//! for it, and one that dies ends the run as `unreachable`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use crate::support::proxy::{Action, Proxy, Request};
use crate::support::{ACCOUNT, Emulator, STACK_SET_UNITS, mraa, show, stderr_of, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
/// One request in five is answered with a fault.
const SHARE: u64 = 5;

/// The error AWS would send for this service, in its protocol.
fn fault(request: &Request, n: u64) -> Action {
    let service = request.service().unwrap_or_default().to_string();
    let json = request
        .header("Content-Type")
        .is_some_and(|t| t.contains("amz-json"));
    let respond = |status: u16, content_type: &str, body: String| Action::Respond {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    };
    match (n % 4, service.as_str(), json) {
        (0, _, _) => Action::Drop,
        // API Gateway speaks REST-JSON: throttling is a 429 whose error type
        // is in a header.
        (1 | 2, "apigateway", _) => Action::Respond {
            status: 429,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("x-amzn-ErrorType".into(), "TooManyRequestsException".into()),
            ],
            body: r#"{"message":"Too Many Requests"}"#.into(),
        },
        (1, "s3", _) => respond(
            503,
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".into(),
        ),
        (1 | 2, _, true) => respond(
            400,
            "application/x-amz-json-1.0",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        (2, "s3", false) => respond(
            503,
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".into(),
        ),
        (1 | 2, _, false) => respond(
            400,
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>".into(),
        ),
        (_, _, true) => respond(
            500,
            "application/x-amz-json-1.0",
            r#"{"__type":"InternalFailure","message":"We encountered an internal error."}"#.into(),
        ),
        (_, "s3", false) => respond(
            500,
            "application/xml",
            "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>".into(),
        ),
        (_, _, false) => respond(
            500,
            "text/xml",
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal error</Message></Error></ErrorResponse>".into(),
        ),
    }
}

/// The SDK's attempt number of this request (`amz-sdk-request: attempt=N`).
fn attempt(request: &Request) -> u32 {
    request
        .header("amz-sdk-request")
        .and_then(|h| h.split(';').find_map(|p| p.trim().strip_prefix("attempt=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The emulator's environment with calls going through the proxy.
fn proxied_env(proxy: &Proxy, emulator: &Emulator) -> Vec<(String, String)> {
    let mut env = emulator.env();
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint.clone()));
    env.push(("AWS_REGION".into(), PRIMARY.into()));
    env
}

fn run(proxy: &Proxy, emulator: &Emulator, args: &[&str]) -> std::process::Output {
    let env = proxied_env(proxy, emulator);
    let output = mraa(args, &env, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?} under faults:\n{}\n{}",
        stdout_of(&output),
        stderr_of(&output)
    );
    output
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_and_teardown_converge_with_a_fifth_of_requests_faulted() {
    let emulator = Emulator::start("faults");
    let proxy = Proxy::start(emulator.port);
    let counter = Arc::new(AtomicU64::new(0));
    let faulted = Arc::new(AtomicU64::new(0));
    {
        let (counter, faulted) = (counter.clone(), faulted.clone());
        proxy.set_hook(move |request| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            // A fifth of requests fail; a call's third attempt always gets
            // through, so every call converges within the SDK's retries.
            if n % SHARE == 2 && attempt(request) < 3 {
                faulted.fetch_add(1, Ordering::SeqCst);
                fault(request, n / SHARE)
            } else {
                Action::Forward
            }
        });
    }

    run(&proxy, &emulator, &["deploy", "--secondary", SECONDARY]);
    let deploy_faults = faulted.load(Ordering::SeqCst);

    // The same world as a deploy without faults, through the services' APIs.
    let cfn = emulator.cloudformation(PRIMARY);
    for unit in STACK_SET_UNITS {
        assert_eq!(
            emulator
                .stack_set_regions(&format!("mraa-mraa-{unit}"))
                .await
                .len(),
            2,
            "{unit}"
        );
    }
    let replication = emulator
        .s3(PRIMARY)
        .get_bucket_replication()
        .bucket(format!("mraa-mraa-objects-{ACCOUNT}-{PRIMARY}"))
        .send()
        .await
        .expect("replication configured");
    assert_eq!(
        replication
            .replication_configuration()
            .map(|c| c.rules().len()),
        Some(1)
    );
    let config = emulator
        .s3(SECONDARY)
        .head_object()
        .bucket(format!("mraa-mraa-website-{ACCOUNT}-{SECONDARY}"))
        .key("config.json")
        .send()
        .await;
    assert!(config.is_ok(), "site uploaded");

    // A second deploy under faults finds nothing to change.
    let again = run(&proxy, &emulator, &["deploy", "--secondary", SECONDARY]);
    assert!(
        stdout_of(&again).contains("no changes"),
        "{}",
        stdout_of(&again)
    );

    run(&proxy, &emulator, &["teardown", "--delete-data", "--yes"]);
    let total = counter.load(Ordering::SeqCst);
    let faults = faulted.load(Ordering::SeqCst);
    assert!(
        deploy_faults >= 10,
        "faults injected during deploy: {deploy_faults}"
    );
    assert!(
        faults * 100 / total >= 15,
        "{faults} faults in {total} requests"
    );

    let stacks = cfn.describe_stacks().send().await.expect("stacks");
    let ours: Vec<_> = stacks
        .stacks()
        .iter()
        .filter_map(|s| s.stack_name())
        .filter(|n| n.contains("mraa-mraa-"))
        .collect();
    assert!(ours.is_empty(), "stacks left: {ours:?}");
    let sets = cfn.list_stack_sets().send().await.expect("stack sets");
    let active: Vec<_> = sets
        .summaries()
        .iter()
        .filter(|s| s.status().map(|st| st.as_str()) != Some("DELETED"))
        .filter_map(|s| s.stack_set_name())
        .collect();
    assert!(active.is_empty(), "StackSets left: {active:?}");
    let buckets = emulator
        .s3(PRIMARY)
        .list_buckets()
        .send()
        .await
        .expect("buckets");
    let left: Vec<_> = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| n.starts_with("mraa-mraa-"))
        .collect();
    assert!(left.is_empty(), "buckets left: {left:?}");
    for region in [PRIMARY, SECONDARY] {
        let tables = emulator
            .dynamodb(region)
            .list_tables()
            .send()
            .await
            .expect("tables");
        assert!(
            tables
                .table_names()
                .iter()
                .all(|t| !t.starts_with("mraa-mraa-")),
            "{region}: {:?}",
            tables.table_names()
        );
    }
}

/// Forwards every request until deploy's first `operation` has been asked
/// for (a unit's row is then moving), then gives `then` for every later
/// request that `cut` selects.
fn cut_after_first(
    proxy: &Proxy,
    operation: &'static str,
    cut: impl Fn(&Request) -> bool + Send + Sync + 'static,
    then: Action,
) {
    let started = Arc::new(AtomicBool::new(false));
    proxy.set_hook(move |request| {
        if started.load(Ordering::SeqCst) && cut(request) {
            return then.clone();
        }
        if request.operation() == operation {
            started.store(true, Ordering::SeqCst);
        }
        Action::Forward
    });
}

#[test]
fn a_row_waiting_on_an_endpoint_that_does_not_answer_says_so() {
    let emulator = Emulator::start("faults-no-answer");
    let proxy = Proxy::start(emulator.port);
    cut_after_first(
        &proxy,
        "CreateChangeSet",
        |r| r.service() == Some("cloudformation") && r.region() == Some(PRIMARY),
        Action::Hang,
    );
    // The threshold is 30 s; the test sets it to 1 s to see the words at once.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mraa"))
        .env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH".to_string(), p)))
        .envs(proxied_env(&proxy, &emulator))
        .env("MRAA_NO_ANSWER_AFTER", "1")
        .args(["deploy", "--secondary", SECONDARY])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mraa");
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines, read) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut said = Vec::new();
    let found = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match read.recv_timeout(left) {
            Ok(line) if line.contains("no answer from cloudformation us-east-1 for ") => {
                break Some(line);
            }
            Ok(line) => said.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let line =
        found.unwrap_or_else(|| panic!("no row named the silent endpoint:\n{}", said.join("\n")));
    // A unit's own row in that Region, still waiting, says it.
    assert!(line.contains(" us-east-1 "), "{line}");
    assert!(
        line.contains(" waiting: no answer from cloudformation us-east-1 for "),
        "{line}"
    );
    let seconds: u64 = line
        .rsplit("for ")
        .next()
        .and_then(|s| s.strip_suffix('s'))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no duration: {line}"));
    assert!(seconds >= 1, "{line}");
}

/// The endpoint dies after deploy's first `operation`, every later request
/// dropped unanswered: the run ends `unreachable` (exit 4, README "Exit
/// codes"), naming the Region.
fn dies_after(operation: &'static str) {
    let emulator = Emulator::start(&format!("faults-dies-{operation}"));
    let proxy = Proxy::start(emulator.port);
    cut_after_first(&proxy, operation, |_| true, Action::Drop);
    let started = Instant::now();
    let output = mraa(
        &["deploy", "--secondary", SECONDARY],
        &proxied_env(&proxy, &emulator),
        None,
    );
    eprintln!(
        "deploy with the endpoint dead after {operation} ended after {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(4), "{}", show(&output));
    let said = stderr_of(&output);
    assert!(said.contains("did not answer"), "{said}");
    assert!(said.contains(PRIMARY), "{said}");
}

#[test]
fn an_endpoint_that_dies_during_a_stack_ends_the_run_unreachable() {
    dies_after("CreateChangeSet");
}

#[test]
fn an_endpoint_that_dies_during_a_stack_set_operation_ends_the_run_unreachable() {
    dies_after("CreateStackInstances");
}
