//! Plan, then apply, against the emulator: a redeploy shows the plan `mraa
//! diff` shows; without a terminal it goes ahead when nothing destructive is
//! planned and refuses a table replacement unless `--yes`; a deploy to other
//! regions than the deployment's is refused by deploy and diff alike (same
//! message, same exit code) before any mutating call (moto's request
//! recorder); a StackSet instance left outside the two regions is named by
//! `status` and removed by `teardown`; on a pseudo-terminal, the state
//! commands and a deploy's plan ask, and a "no" changes nothing.

use crate::diff::kv_store_with_another_table_name;
use crate::support::{Emulator, mraa, run_ok, show, stderr_of, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

/// The `error:` line of a refused run.
fn error_line(output: &std::process::Output) -> String {
    stderr_of(output)
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
        .to_string()
}

/// The mutating calls recorded, as `service operation url`.
fn mutations(emulator: &Emulator) -> Vec<String> {
    emulator
        .mutating_calls()
        .into_iter()
        .map(|c| format!("{} {} {}", c.service, c.operation, c.url))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_is_refused_by_deploy_and_diff_before_any_change() {
    let emulator = Emulator::start("approval_move");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);

    // Another secondary, another primary, the two swapped: refused, with
    // the recorded regions and the commands that keep or remove them.
    for (primary, secondary) in [
        (PRIMARY, "eu-west-1"),
        ("eu-west-1", SECONDARY),
        (SECONDARY, PRIMARY),
    ] {
        let args = ["--primary", primary, "--secondary", secondary];
        emulator.start_recording();
        let deploy = mraa(&[&["deploy"][..], &args].concat(), &env, None);
        let changed = mutations(&emulator);
        assert_eq!(deploy.status.code(), Some(1), "{}", show(&deploy));
        assert_eq!(changed, Vec::<String>::new(), "{primary}/{secondary}");
        let said = error_line(&deploy);
        assert!(
            said.contains(&format!(
                "app mraa is deployed to {PRIMARY} (primary) and {SECONDARY} (secondary)"
            )),
            "{said}"
        );
        assert!(
            said.contains(&format!(
                "a deploy cannot move it to {primary} and {secondary}"
            )),
            "{said}"
        );
        assert!(
            said.contains(&format!(
                "`mraa deploy --app mraa --primary {PRIMARY} --secondary {SECONDARY}`"
            )),
            "{said}"
        );
        assert!(said.ends_with("nothing was changed"), "{said}");

        // diff: the same refusal, the same exit code, not 2 ("changes").
        emulator.start_recording();
        let diff = mraa(&[&["diff"][..], &args].concat(), &env, None);
        assert_eq!(mutations(&emulator), Vec::<String>::new());
        assert_eq!(diff.status.code(), deploy.status.code(), "{}", show(&diff));
        assert_eq!(error_line(&diff), said);
    }

    // diff reads the secondary from the deployment, as status does.
    let same = mraa(&["diff"], &env, None);
    assert_eq!(same.status.code(), Some(0), "{}", show(&same));
    assert!(stdout_of(&same).contains("no changes"), "{}", show(&same));

    // Data kept by a teardown: diff shows its import, as changes, without
    // making any (tests/emulator/adopt.rs deploys it).
    run_ok(&["teardown", "--yes"], &env);
    emulator.start_recording();
    let diff = mraa(&["diff", "--secondary", SECONDARY], &env, None);
    assert_eq!(mutations(&emulator), Vec::<String>::new());
    assert_eq!(diff.status.code(), Some(2), "{}", show(&diff));
    assert!(
        stdout_of(&diff).contains("import CommentsTable mraa-mraa-comments"),
        "{}",
        show(&diff)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_shows_its_plan_and_needs_yes_only_for_a_destructive_one() {
    let emulator = Emulator::start("approval_plan");
    let env = emulator.env_in(PRIMARY);
    // A fresh deployment: no plan to approve.
    let fresh = run_ok(&["deploy", "--secondary", SECONDARY], &env);
    assert!(
        !stderr_of(&fresh).contains("Apply these changes"),
        "{}",
        show(&fresh)
    );

    // Nothing to change: no plan, no question, no mutating call.
    emulator.start_recording();
    let same = run_ok(&["deploy", "--secondary", SECONDARY], &env);
    assert_eq!(
        mutations(&emulator),
        Vec::<String>::new(),
        "{}",
        show(&same)
    );

    // A change that replaces nothing goes ahead without a terminal, after
    // showing the plan diff shows.
    let origin = ["--allowed-origin", "https://photos.example.com"];
    let planned = mraa(
        &[&["diff", "--secondary", SECONDARY][..], &origin].concat(),
        &env,
        None,
    );
    assert_eq!(planned.status.code(), Some(2), "{}", show(&planned));
    let applied = run_ok(
        &[&["deploy", "--secondary", SECONDARY][..], &origin].concat(),
        &env,
    );
    let shown = stderr_of(&applied);
    for line in stdout_of(&planned)
        .lines()
        .filter(|l| l.contains("updated"))
    {
        assert!(
            shown.contains(line),
            "deploy did not show `{line}`:\n{shown}"
        );
    }
    // Applied: the StackSets carry the new origin. (The emulator's StackSet
    // updates leave instance stacks as they were, so a diff of the
    // instances would still show it.)
    let set = emulator
        .cloudformation(PRIMARY)
        .describe_stack_set()
        .stack_set_name("mraa-mraa-routing")
        .send()
        .await
        .expect("describe the routing StackSet");
    let origin_now = set
        .stack_set()
        .map(|s| s.parameters())
        .unwrap_or_default()
        .iter()
        .find(|p| p.parameter_key() == Some("AllowedOrigin"))
        .and_then(|p| p.parameter_value().map(str::to_string));
    assert_eq!(origin_now.as_deref(), Some("https://photos.example.com"));

    // A table a deploy would replace: refused without a terminal, having
    // made nothing but the plan's own change sets.
    kv_store_with_another_table_name(&emulator, PRIMARY).await;
    emulator.start_recording();
    let refused = mraa(
        &[&["deploy", "--secondary", SECONDARY][..], &origin].concat(),
        &env,
        None,
    );
    let changed: Vec<String> = mutations(&emulator)
        .into_iter()
        .filter(|c| !c.contains("CreateChangeSet") && !c.contains("DeleteChangeSet"))
        .collect();
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert_eq!(changed, Vec::<String>::new());
    let said = stderr_of(&refused);
    assert!(
        said.contains("DATA STORES A DEPLOY WOULD REPLACE\n  kv-store CommentsTable"),
        "{said}"
    );
    let error = error_line(&refused);
    assert!(
        error.contains("kv-store CommentsTable in us-east-1"),
        "{error}"
    );
    assert!(error.contains("nothing was changed"), "{error}");
    assert!(error.contains("with --yes"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_outside_the_regions_is_named_by_status_and_removed_by_teardown() {
    let emulator = Emulator::start("approval_stray");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    // As a deploy to another secondary left it before moves were refused.
    let set = "mraa-mraa-routing";
    emulator
        .cloudformation(PRIMARY)
        .create_stack_instances()
        .stack_set_name(set)
        .accounts(crate::support::ACCOUNT)
        .regions("eu-west-1")
        .send()
        .await
        .expect("an instance in a third region");
    assert_eq!(
        emulator.stack_set_regions(set).await,
        ["ap-northeast-1", "eu-west-1", "us-east-1"]
    );

    let status = mraa(&["status"], &env, None);
    assert_eq!(status.status.code(), Some(3), "{}", show(&status));
    let row = stdout_of(&status)
        .lines()
        .find(|l| l.contains("eu-west-1"))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.contains("routing") && row.contains("degraded"),
        "{}",
        show(&status)
    );
    let json = mraa(&["status", "--output", "json"], &env, None);
    let report: serde_json::Value =
        serde_json::from_str(&stdout_of(&json)).unwrap_or_else(|e| panic!("{e}: {}", show(&json)));
    let stray: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["region"] == "eu-west-1")
        .collect();
    assert_eq!(stray.len(), 1, "{report:#}");
    assert!(
        stray[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("half-made move"),
        "{report:#}"
    );

    // Teardown finds the instance in the third region too: the StackSet
    // could not be deleted while it held one.
    run_ok(&["teardown", "--delete-data", "--yes"], &env);
    let left = emulator.instance_stack_status("eu-west-1", set).await;
    assert!(
        matches!(left.as_deref(), None | Some("DELETE_COMPLETE")),
        "{left:?}"
    );
}

/// Runs mraa on a pseudo-terminal (util-linux `script`), typing `answer`;
/// returns the exit code and what the terminal showed.
fn on_a_terminal(args: &[&str], env: &[(String, String)], answer: &str) -> (Option<i32>, String) {
    use std::io::Write as _;
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_mraa"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("run script(1)");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("type the answer");
    }
    let output = child.wait_with_output().expect("script(1) ends");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).replace('\r', ""),
    )
}

async fn state(emulator: &Emulator) -> Option<String> {
    emulator
        .state_item(PRIMARY, "mraa")
        .await
        .and_then(|item| item.get("state").and_then(|v| v.as_s().ok()).cloned())
}

/// On a terminal, a state change shows the current state and what changes,
/// and asks; a declined question says nothing changed, and nothing did. A
/// deploy's plan is asked about the same way.
#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_state_changes_and_plans_are_asked_about() {
    let emulator = Emulator::start("approval_terminal");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    assert_eq!(state(&emulator).await.as_deref(), Some("active"));

    emulator.start_recording();
    let (code, screen) = on_a_terminal(&["failover"], &env, "n");
    let changed = mutations(&emulator);
    assert_eq!(code, Some(2), "{screen}");
    assert!(screen.contains("app mraa is active since "), "{screen}");
    assert!(
        screen.contains(&format!(
            "active → failover: the secondary {SECONDARY} serves, read-only"
        )),
        "{screen}"
    );
    assert!(
        screen.contains("Switch app mraa to failover? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("failover cancelled: nothing was changed"),
        "{screen}"
    );
    assert_eq!(changed, Vec::<String>::new());
    assert_eq!(state(&emulator).await.as_deref(), Some("active"));

    let (code, screen) = on_a_terminal(&["failover"], &env, "y");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("active → failover (written in"), "{screen}");
    assert_eq!(state(&emulator).await.as_deref(), Some("failover"));

    // --yes: no question.
    let (code, screen) = on_a_terminal(&["activate", "--yes"], &env, "");
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");

    // A deploy that changes something: the plan, the question, nothing
    // changed on "no" but the plan's own change sets.
    emulator.start_recording();
    let (code, screen) = on_a_terminal(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--allowed-origin",
            "https://photos.example.com",
        ],
        &env,
        "n",
    );
    let changed: Vec<String> = mutations(&emulator)
        .into_iter()
        .filter(|c| !c.contains("CreateChangeSet") && !c.contains("DeleteChangeSet"))
        .collect();
    assert_eq!(code, Some(2), "{screen}");
    assert!(
        screen.contains("parameter AllowedOrigin: * -> https://photos.example.com"),
        "{screen}"
    );
    assert!(
        screen.contains("Apply these changes to app mraa? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("deploy cancelled: nothing was changed"),
        "{screen}"
    );
    assert_eq!(changed, Vec::<String>::new());
}
