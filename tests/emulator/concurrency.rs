//! Two changing commands on the same app at once: the second is refused with
//! a message naming what is in progress, and the first completes untouched.

use std::time::{Duration, Instant};

use crate::support::proxy::{Action, Proxy};
use crate::support::{Emulator, STACK_SET_UNITS, mraa, stderr_of, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

#[tokio::test(flavor = "multi_thread")]
async fn a_second_deploy_or_teardown_is_refused_while_a_deploy_runs() {
    let emulator = Emulator::start("concurrency");
    // The first deploy goes through a proxy that slows CloudFormation down,
    // so that it is still running when the others start.
    let proxy = Proxy::start(emulator.port);
    proxy.set_hook(|request| match request.service() {
        Some("cloudformation") => Action::Delay(Duration::from_millis(150)),
        _ => Action::Forward,
    });
    let mut slow_env = emulator.env();
    slow_env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    slow_env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint.clone()));
    slow_env.push(("AWS_REGION".into(), PRIMARY.into()));
    let mut env = emulator.env();
    env.push(("AWS_REGION".into(), PRIMARY.into()));

    let first =
        std::thread::spawn(move || mraa(&["deploy", "--secondary", SECONDARY], &slow_env, None));

    // Wait until the first deploy holds the lock and has recorded the
    // deployment (so that the others find what they would change).
    let cfn = emulator.cloudformation(PRIMARY);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = cfn
            .describe_stacks()
            .stack_name("mraa-mraa-lock")
            .send()
            .await
            .is_ok();
        let recorded = cfn
            .describe_stacks()
            .stack_name("mraa-mraa-bootstrap")
            .send()
            .await
            .ok()
            .and_then(|o| o.stacks().first().and_then(|s| s.stack_status().cloned()))
            .is_some_and(|s| s.as_str() == "CREATE_COMPLETE");
        if held && recorded {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first deploy never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let second = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    let teardown = mraa(&["teardown", "--yes", "--delete-data"], &env, None);
    let first = first.join().expect("first deploy ran");

    for (what, output) in [("second deploy", &second), ("teardown", &teardown)] {
        let stderr = stderr_of(output);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr
                .contains("app mraa is busy: `mraa deploy` by arn:aws:sts::123456789012:user/moto"),
            "{what} names what is in progress: {stderr}"
        );
    }
    assert_eq!(
        first.status.code(),
        Some(0),
        "the first deploy completes:\n{}\n{}",
        stdout_of(&first),
        stderr_of(&first)
    );

    // The first deploy's world is whole, and the lock is gone.
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
    assert!(
        cfn.describe_stacks()
            .stack_name("mraa-mraa-lock")
            .send()
            .await
            .is_err(),
        "lock released"
    );
    let again = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    assert!(
        stdout_of(&again).contains("no changes"),
        "{}",
        stderr_of(&again)
    );
}
