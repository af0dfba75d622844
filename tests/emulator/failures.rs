//! How a deploy ends on a terminal: after a failure and after Ctrl-C, the
//! screen (read from a real terminal, a tmux pane) has no spinner left
//! turning and no row twice, and says what to do next.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{ACCOUNT, Emulator, mraa, stderr_of, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "eu-west-1";

/// indicatif's spinner frames are Braille patterns (U+2800 to U+28FF):
/// none may be left on screen.
fn is_spinner(c: char) -> bool {
    ('\u{2800}'..='\u{28FF}').contains(&c)
}

/// A tmux server of this test's own (its own socket), killed at the end.
struct Terminal {
    socket: String,
}

impl Terminal {
    fn start(name: &str, env: &[(String, String)], args: &[&str]) -> Terminal {
        let socket = format!("mraa-{name}-{}", std::process::id());
        let mut line = vec!["env".to_string(), "-i".to_string()];
        for var in ["PATH", "HOME"] {
            if let Ok(value) = std::env::var(var) {
                line.push(format!("{var}={value}"));
            }
        }
        line.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        line.push("TERM=xterm-256color".into());
        line.push(env!("CARGO_BIN_EXE_mraa").to_string());
        line.extend(args.iter().map(|a| a.to_string()));
        let quoted: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        // The exit code stays on screen; the pane stays for reading. The
        // shell itself outlives a Ctrl-C (a trap, which mraa does not
        // inherit: caught signals are reset on exec).
        let script = format!(
            "trap true INT; {}; echo \"EXIT=$?\"; sleep 600",
            quoted.join(" ")
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "100", "-y", "50"])
            .args(["-s", "t", "sh", "-c", &script])
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success(), "tmux new-session");
        Terminal { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits, with backoff and a bound, until the screen shows `text`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        let mut pause = Duration::from_millis(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < end,
                "`{text}` not on screen after {limit:?}:\n{screen}"
            );
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    fn keys(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t", keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// No spinner frame anywhere, and each progress row (step and region) once.
fn assert_settled(screen: &str) {
    assert_no_spinner(screen);
    assert_rows_once(screen);
}

fn assert_no_spinner(screen: &str) {
    assert!(
        !screen.chars().any(is_spinner),
        "a spinner is left on screen:\n{screen}"
    );
}

fn assert_rows_once(screen: &str) {
    let mut rows = std::collections::BTreeMap::new();
    for line in screen.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        // A row: `<step> <region> <elapsed> <status> — <detail>`.
        if let [step, region, _elapsed, ..] = words.as_slice()
            && crate::support::STACK_SET_UNITS
                .iter()
                .chain(["bootstrap", "edge"].iter())
                .any(|unit| unit == step)
            && (*region == PRIMARY || *region == SECONDARY)
        {
            *rows.entry(format!("{step} {region}")).or_insert(0) += 1;
        }
    }
    assert!(!rows.is_empty(), "no progress rows on screen:\n{screen}");
    let twice: Vec<_> = rows.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "rows shown twice {twice:?}:\n{screen}");
}

fn has_tmux() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_failure_the_screen_has_no_spinner_and_no_row_twice() {
    assert!(has_tmux(), "tmux is needed: apt-get install tmux");
    let emulator = Emulator::start("failures_screen");
    // The secondary's website bucket name, already taken: the front end
    // cannot be created there.
    let taken = format!("mraa-shop-website-{ACCOUNT}-{SECONDARY}");
    emulator
        .s3(SECONDARY)
        .create_bucket()
        .bucket(&taken)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("the clashing bucket is made");
    let env = emulator.env_in(PRIMARY);
    let terminal = Terminal::start(
        "failure",
        &env,
        &["deploy", "--app", "shop", "--secondary", SECONDARY],
    );
    let screen = terminal.wait_for("EXIT=", Duration::from_secs(240));
    assert!(screen.contains("EXIT=1"), "deploy fails:\n{screen}");
    assert!(screen.contains("error: "), "{screen}");
    assert_settled(&screen);
}

/// A row waiting on CloudFormation while its endpoint stops answering says
/// so on the terminal, with the service, Region and time, while it waits.
#[test]
fn a_row_whose_endpoint_stops_answering_says_so_on_the_terminal() {
    use crate::support::proxy::{Action, Proxy};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    assert!(has_tmux(), "tmux is needed: apt-get install tmux");
    let emulator = Emulator::start("failures_no_answer");
    let proxy = Proxy::start(emulator.port);
    // Once the first change set is asked for, CloudFormation in the primary
    // accepts requests and never answers.
    let started = Arc::new(AtomicBool::new(false));
    proxy.set_hook(move |request| {
        let cfn = request.service() == Some("cloudformation") && request.region() == Some(PRIMARY);
        if cfn && started.load(Ordering::SeqCst) {
            return Action::Hang;
        }
        if request.operation() == "CreateChangeSet" {
            started.store(true, Ordering::SeqCst);
        }
        Action::Forward
    });
    let mut env = crate::support::with_var(
        emulator.env_in(PRIMARY),
        "AWS_ENDPOINT_URL",
        &proxy.endpoint,
    );
    // 1 s instead of 30 s, to see the words at once.
    env.push(("MRAA_NO_ANSWER_AFTER".into(), "1".into()));
    let terminal = Terminal::start(
        "failures_no_answer",
        &env,
        &["deploy", "--app", "mute", "--secondary", SECONDARY],
    );
    let screen = terminal.wait_for(
        &format!("no answer from cloudformation {PRIMARY} for "),
        Duration::from_secs(60),
    );
    let row = screen
        .lines()
        .find(|l| l.contains("no answer from cloudformation"))
        .unwrap_or_default();
    assert!(row.contains(PRIMARY), "on a row of that Region: {row}");
    assert!(
        row.starts_with(|c: char| is_spinner(c)),
        "a moving row: {row}"
    );
}

/// A deploy interrupted while the layers deploy: its emulator and last
/// screen. The emulator runs AWS's clock (scaled), so that StackSet
/// operations are still running when Ctrl-C comes.
fn interrupted_screen(name: &str) -> (Emulator, String) {
    let emulator = Emulator::start_with(name, &[("MRAA_EMULATOR_TIME_SCALE", "60")]);
    let env = emulator.env_in(PRIMARY);
    let terminal = Terminal::start(
        name,
        &env,
        &["deploy", "--app", "halt", "--secondary", SECONDARY],
    );
    terminal.wait_for("object-store", Duration::from_secs(120));
    terminal.keys("C-c");
    let screen = terminal.wait_for("EXIT=", Duration::from_secs(60));
    (emulator, screen)
}

#[tokio::test(flavor = "multi_thread")]
async fn after_ctrl_c_the_screen_has_no_spinner_and_says_what_goes_on() {
    assert!(has_tmux(), "tmux is needed: apt-get install tmux");
    let (emulator, screen) = interrupted_screen("interrupt");
    assert!(screen.contains("EXIT=130"), "Ctrl-C exits 130:\n{screen}");
    for said in [
        "interrupted: mraa stopped",
        "CloudFormation goes on",
        "lock: released (stack mraa-halt-lock deleted)",
        "next: run `mraa deploy` again",
    ] {
        assert!(screen.contains(said), "`{said}` on screen:\n{screen}");
    }
    assert_no_spinner(&screen);
    // What still runs is named by unit, Region and operation, and is an
    // operation CloudFormation knows for that StackSet.
    assert!(
        screen.contains("still running in CloudFormation (unit, Region):"),
        "what goes on is listed:\n{screen}"
    );
    let running: Vec<(&str, &str)> = screen
        .lines()
        .filter_map(|l| l.trim().split_once(&format!(" {PRIMARY}: operation ")))
        .map(|(unit, op)| (unit, op.split_whitespace().next().unwrap_or_default()))
        .collect();
    assert!(!running.is_empty(), "a StackSet operation named:\n{screen}");
    let cfn = emulator.cloudformation(PRIMARY);
    for (unit, id) in running {
        let operation = cfn
            .describe_stack_set_operation()
            .stack_set_name(format!("mraa-halt-{unit}"))
            .operation_id(id)
            .send()
            .await;
        assert!(
            operation.is_ok(),
            "{unit} {id} is CloudFormation's: {operation:?}"
        );
    }
    // Released as CloudFormation sees it: the lock stack is gone.
    let lock = emulator
        .cloudformation(PRIMARY)
        .describe_stacks()
        .stack_name("mraa-halt-lock")
        .send()
        .await;
    let status = lock.as_ref().ok().and_then(|out| {
        out.stacks()
            .first()
            .and_then(|s| s.stack_status().map(|s| s.as_str().to_string()))
    });
    assert!(
        lock.as_ref().is_err_and(mraa::aws::is_not_found)
            || status.as_deref() == Some("DELETE_COMPLETE"),
        "the lock stack is left: {status:?}"
    );
}

#[test]
fn after_ctrl_c_no_row_is_shown_twice() {
    assert!(has_tmux(), "tmux is needed: apt-get install tmux");
    assert_rows_once(&interrupted_screen("interrupt_rows").1);
}

/// A bucket name taken in the secondary: the deploy fails naming the Region,
/// the resource and the bucket; once the clash is gone, deploying again
/// completes and status is ok.
#[tokio::test(flavor = "multi_thread")]
async fn a_taken_bucket_name_is_reported_where_it_is_and_a_rerun_completes() {
    let emulator = Emulator::start("failures_clash");
    let taken = format!("mraa-clash-website-{ACCOUNT}-{SECONDARY}");
    let s3 = emulator.s3(SECONDARY);
    s3.create_bucket()
        .bucket(&taken)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("the clashing bucket is made");
    let env = emulator.env_in(PRIMARY);
    let deploy = ["deploy", "--app", "clash", "--secondary", SECONDARY];
    // With -v, the instance stacks' events stream as they arrive.
    let failed = mraa(&[&deploy[..], &["-v"]].concat(), &env, None);
    let said = stderr_of(&failed);
    assert_eq!(failed.status.code(), Some(1), "{said}");
    // One line per event: time, StackSet, Region, logical id, type, status,
    // reason; the failed bucket's event among them, as CloudFormation has it.
    let streamed = said
        .lines()
        .find(|l| {
            l.contains(&format!(" mraa-clash-frontend {SECONDARY} WebsiteBucket "))
                && l.contains("(AWS::S3::Bucket) CREATE_FAILED: ")
        })
        .unwrap_or_else(|| panic!("the failed resource's event streamed:\n{said}"));
    assert!(streamed.contains("already exists"), "{streamed}");
    // The replicas' row names the tables it works on, each one DynamoDB
    // lists with its replica, and ends once per Region.
    let replicas: Vec<&str> = said
        .lines()
        .filter(|l| l.contains(" dynamodb-replicas "))
        .collect();
    let named = replicas
        .iter()
        .find(|l| l.contains("started: replicas of "))
        .unwrap_or_else(|| panic!("the tables named:\n{said}"));
    for table in ["comments", "app-config"] {
        let table = format!("mraa-clash-{table}");
        assert!(named.contains(&table), "{table} in {named}");
        let described = emulator
            .dynamodb(PRIMARY)
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .expect("the named table exists");
        let regions: Vec<_> = described
            .table()
            .map(|t| {
                t.replicas()
                    .iter()
                    .filter_map(|r| r.region_name())
                    .collect()
            })
            .unwrap_or_default();
        assert!(regions.contains(&SECONDARY), "{table}: {regions:?}");
    }
    let ended = replicas
        .iter()
        .filter(|l| !l.contains(" started: ") && !l.contains(" waiting: "))
        .count();
    assert_eq!(ended, 1, "one end per Region:\n{}", replicas.join("\n"));
    // The instance names the stack that failed (StackSets has deleted it;
    // its events are read by its id).
    let instances = emulator
        .cloudformation(PRIMARY)
        .list_stack_instances()
        .stack_set_name("mraa-clash-frontend")
        .stack_instance_region(SECONDARY)
        .send()
        .await
        .expect("the StackSet's instances");
    let id = instances
        .summaries()
        .iter()
        .find(|s| s.region() == Some(SECONDARY))
        .and_then(|s| s.stack_id())
        .expect("the instance names its stack")
        .to_string();
    let events = emulator
        .cloudformation(SECONDARY)
        .describe_stack_events()
        .stack_name(id)
        .send()
        .await
        .expect("the instance stack's events");
    assert!(
        events.stack_events().iter().any(|e| {
            e.logical_resource_id() == Some("WebsiteBucket")
                && e.resource_status().map(|s| s.as_str()) == Some("CREATE_FAILED")
        }),
        "CloudFormation has the streamed event"
    );
    let error = said
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    for part in [
        &format!("frontend in {SECONDARY}"),
        "WebsiteBucket",
        "AWS::S3::Bucket",
        &format!("`{taken}`"),
        "already exists",
    ] {
        assert!(error.contains(part), "`{part}` in the error:\n{said}");
    }
    assert!(
        said.contains("run `mraa deploy` again"),
        "a next command:\n{said}"
    );

    s3.delete_bucket()
        .bucket(&taken)
        .send()
        .await
        .expect("the clash is removed");
    let again = mraa(&deploy, &env, None);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    let status = mraa(&["status", "--app", "clash"], &env, None);
    assert_eq!(status.status.code(), Some(0), "{}", stdout_of(&status));
    // The bucket is the website's now, made by the secondary's instance.
    s3.head_bucket()
        .bucket(&taken)
        .send()
        .await
        .expect("the website bucket exists in the secondary");
}
