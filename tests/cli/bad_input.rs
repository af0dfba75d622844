//! Bad input across commands: each case gets one clear line on stderr and a
//! documented exit code, and none makes a mutating AWS call (checked with the
//! emulator's request recorder over the whole table).

use crate::support::proxy::{Action, Proxy};
use crate::support::{Emulator, clean_env, mraa, stderr_of, stdout_of, with_var};

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    config: Option<&'static str>,
    /// Environment tweak: `None` runs against the emulator with credentials.
    env: Env,
    code: i32,
    message: &'static str,
}

#[derive(Clone, Copy)]
enum Env {
    Emulator,
    NoCredentials,
    /// Through a proxy where STS rejects the credentials and CloudFormation
    /// denies every call (both 403, as AWS answers).
    Refusing,
    Unreachable,
}

const CASES: &[Case] = &[
    Case {
        name: "unknown region",
        args: &["deploy", "--secondary", "ap-nowhere-1"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "unknown secondary region `ap-nowhere-1`",
    },
    Case {
        name: "primary equal to secondary",
        args: &["deploy", "--secondary", "us-east-1"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "must differ from the primary",
    },
    Case {
        name: "invalid app name",
        args: &["deploy", "--app", "Photos!", "--secondary", "eu-west-1"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "invalid app name `Photos!`",
    },
    Case {
        name: "app name too long for S3",
        args: &[
            "deploy",
            "--app",
            "an-application-name-far-too-long",
            "--secondary",
            "eu-west-1",
        ],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "S3 allows 63",
    },
    Case {
        name: "malformed email",
        args: &[
            "deploy",
            "--secondary",
            "eu-west-1",
            "--admin-email",
            "jane.example.com",
        ],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "invalid admin e-mail",
    },
    Case {
        name: "phone not E.164",
        args: &[
            "deploy",
            "--secondary",
            "eu-west-1",
            "--admin-phone",
            "555 0100",
        ],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "invalid admin phone",
    },
    Case {
        name: "unknown config key",
        args: &["deploy"],
        config: Some("secondary: eu-west-1\nregion_pair: x\n"),
        env: Env::Emulator,
        code: 2,
        message: "line 2: unknown field `region_pair`",
    },
    Case {
        name: "mistyped config key",
        args: &["status"],
        config: Some("app: shop\nsecondry: eu-west-1\n"),
        env: Env::Emulator,
        code: 2,
        message: "unknown field `secondry`",
    },
    Case {
        name: "config that is not YAML",
        args: &["status"],
        config: Some("app: [shop\n"),
        env: Env::Emulator,
        code: 2,
        message: "line",
    },
    Case {
        name: "missing config file",
        args: &["status", "--config", "/nonexistent/mraa.yaml"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "cannot read config file /nonexistent/mraa.yaml",
    },
    Case {
        name: "conflicting flags",
        args: &["status", "-v", "-q"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "cannot be used with",
    },
    Case {
        name: "unknown output format",
        args: &["status", "--output", "yaml"],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "invalid value 'yaml' for '--output <FORMAT>'",
    },
    Case {
        name: "invalid allowed origin",
        args: &[
            "deploy",
            "--secondary",
            "eu-west-1",
            "--allowed-origin",
            "photos.example.com",
        ],
        config: None,
        env: Env::Emulator,
        code: 2,
        message: "invalid allowed origin",
    },
    // Without a terminal, a state change needs a reason or --yes; refused
    // before any AWS call (an unreachable endpoint would exit 4).
    Case {
        name: "state command without a terminal or a reason",
        args: &["failover"],
        config: None,
        env: Env::Unreachable,
        code: 2,
        message: "`mraa failover` without a terminal needs --reason",
    },
    // The operator policy is one app's in its regions: without them there
    // is nothing to scope it to.
    Case {
        name: "permissions without the deployment's regions",
        args: &["permissions", "--app", "shop"],
        config: None,
        env: Env::Unreachable,
        code: 2,
        message: "no secondary region",
    },
    Case {
        name: "permissions for a malformed account",
        args: &[
            "permissions",
            "--secondary",
            "eu-west-1",
            "--account",
            "12345",
        ],
        config: None,
        env: Env::Unreachable,
        code: 2,
        message: "`12345` is not an AWS account id",
    },
    Case {
        name: "permissions for one app, its regions and account",
        args: &[
            "permissions",
            "--app",
            "shop",
            "--secondary",
            "eu-west-1",
            "--account",
            "123456789012",
        ],
        config: None,
        env: Env::Unreachable,
        code: 0,
        message: "arn:aws:s3:::mraa-shop-objects-123456789012-eu-west-1",
    },
    Case {
        name: "state command before any deploy",
        args: &["failover", "--reason", "drill"],
        config: None,
        env: Env::Emulator,
        code: 3,
        message: "no deployment of app mraa found in us-east-1",
    },
    Case {
        name: "status before any deploy",
        args: &["status"],
        config: None,
        env: Env::Emulator,
        code: 3,
        message: "no deployment of app mraa",
    },
    // Credentials and access: exit 5 in every command, never 4.
    Case {
        name: "credentials missing",
        args: &["deploy", "--secondary", "eu-west-1"],
        config: None,
        env: Env::NoCredentials,
        code: 5,
        message: "no AWS credentials found (from the default chain",
    },
    Case {
        name: "status: credentials missing",
        args: &["status"],
        config: None,
        env: Env::NoCredentials,
        code: 5,
        message: "cloudformation:DescribeStacks mraa-mraa-bootstrap in us-east-1",
    },
    Case {
        name: "failover: credentials missing",
        args: &["failover", "--secondary", "eu-west-1", "--reason", "drill"],
        config: None,
        env: Env::NoCredentials,
        code: 5,
        message: "no AWS credentials found",
    },
    Case {
        name: "teardown: credentials missing",
        args: &["teardown", "--yes"],
        config: None,
        env: Env::NoCredentials,
        code: 5,
        message: "no AWS credentials found",
    },
    Case {
        name: "credentials rejected",
        args: &["deploy", "--secondary", "eu-west-1"],
        config: None,
        env: Env::Refusing,
        code: 5,
        message: "were rejected: sts:GetCallerIdentity in us-east-1 answered InvalidClientTokenId",
    },
    Case {
        name: "status: access denied",
        args: &["status"],
        config: None,
        env: Env::Refusing,
        code: 5,
        message: "access denied to the AWS credentials (from the environment (AWS_ACCESS_KEY_ID))",
    },
    Case {
        name: "teardown of an app that does not exist",
        args: &["teardown", "--app", "ghost", "--yes"],
        config: None,
        env: Env::Emulator,
        code: 0,
        message: "nothing to tear down",
    },
    // diff keeps 2 for "changes": its errors, bad input included, are 1.
    Case {
        name: "diff: unknown region",
        args: &["diff", "--secondary", "ap-nowhere-1"],
        config: None,
        env: Env::Emulator,
        code: 1,
        message: "unknown secondary region `ap-nowhere-1`",
    },
    Case {
        name: "diff: unknown flag",
        args: &["diff", "--secondary", "eu-west-1", "--planet", "mars"],
        config: None,
        env: Env::Emulator,
        code: 1,
        message: "--planet",
    },
    Case {
        name: "diff: no credentials",
        args: &["diff", "--secondary", "eu-west-1"],
        config: None,
        env: Env::NoCredentials,
        code: 5,
        message: "no AWS credentials found",
    },
    Case {
        name: "diff: unreachable endpoint",
        args: &["diff", "--secondary", "eu-west-1"],
        config: None,
        env: Env::Unreachable,
        code: 4,
        message: "did not answer",
    },
    Case {
        name: "unreachable endpoint",
        args: &["deploy", "--secondary", "eu-west-1"],
        config: None,
        env: Env::Unreachable,
        code: 4,
        message: "did not answer",
    },
];

#[test]
fn every_bad_input_is_refused_cleanly_without_changing_anything() {
    assert!(CASES.len() >= 15);
    let emulator = Emulator::start("bad_input");
    let proxy = Proxy::start(emulator.port);
    let refuse = |code: &str, message: &str| Action::Respond {
        status: 403,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error></ErrorResponse>"
        ),
    };
    proxy.set_hook(move |request| match request.service() {
        Some("sts") => refuse(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        Some("cloudformation") => refuse(
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
             cloudformation:DescribeStacks",
        ),
        _ => Action::Forward,
    });
    emulator.start_recording();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for case in CASES {
        let mut args: Vec<String> = case.args.iter().map(|a| a.to_string()).collect();
        if let Some(text) = case.config {
            let path = dir
                .path()
                .join(format!("{}.yaml", case.name.replace(' ', "-")));
            std::fs::write(&path, text).expect("write config");
            args.extend(["--config".to_string(), path.display().to_string()]);
        }
        let mut env = match case.env {
            Env::Emulator => emulator.env(),
            Env::NoCredentials => {
                let mut env = clean_env();
                env.push(("AWS_ENDPOINT_URL".into(), emulator.endpoint.clone()));
                env
            }
            Env::Refusing => with_var(emulator.env(), "AWS_ENDPOINT_URL", &proxy.endpoint),
            // Nothing listens on port 9 (discard) of loopback.
            Env::Unreachable => with_var(emulator.env(), "AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        };
        env.push(("AWS_REGION".into(), "us-east-1".into()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = mraa(&args, &env, Some(dir.path()));
        let stderr = stderr_of(&output);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        // A refusal is one `error:` line; a success says so on stdout.
        let ok = output.status.code() == Some(case.code)
            && if case.code == 0 {
                errors.is_empty() && stdout_of(&output).contains(case.message)
            } else {
                errors.len() == 1 && errors[0].contains(case.message)
            };
        if !ok {
            failures.push(format!(
                "{}: exit {:?} (want {}), stderr:\n{stderr}",
                case.name,
                output.status.code(),
                case.code
            ));
        }
    }
    let mutating = emulator.mutating_calls();
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    assert!(mutating.is_empty(), "mutating calls: {mutating:#?}");
}
