//! Test bed: the local AWS emulator (moto server) on a free loopback port,
//! per-region SDK configuration pointing at it, and the built `mraa` binary.
// Each test binary uses its own part of the helpers.
#![allow(dead_code, unused_macros)]

pub mod iam;
pub mod proxy;
#[macro_use]
pub mod scripted;
pub mod template;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};

pub const ACCOUNT: &str = "123456789012";

/// The layers deployed as StackSets, by unit id.
pub const STACK_SET_UNITS: [&str; 6] = [
    "object-store",
    "kv-store",
    "routing",
    "frontend",
    "website-policy",
    "application",
];

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("MRAA_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "the emulator's Python environment is missing: run `make venv` (or `make test`) first"
    );
    venv
}

/// A moto server owned by one test. It stops when this value is dropped, and
/// also when the test process dies: it exits as soon as its stdin closes.
pub struct Emulator {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub endpoint: String,
    pub log: PathBuf,
}

impl Emulator {
    pub fn start(name: &str) -> Emulator {
        Emulator::start_with(name, &[])
    }

    /// An emulator with its own settings, e.g. `MRAA_EMULATOR_TIME_SCALE`
    /// (AWS's clock, scaled) or `MRAA_EMULATOR_REPLICATION_LAG` (seconds).
    pub fn start_with(name: &str, settings: &[(&str, &str)]) -> Emulator {
        let logs = repo_root().join("target/emulator-logs");
        std::fs::create_dir_all(&logs).expect("create target/emulator-logs");
        let log = logs.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&log);
        let mut child = Command::new(python())
            .arg(repo_root().join("scripts/emulator.py"))
            .arg("--log")
            .arg(&log)
            .envs(settings.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator's port");
        let port: u16 = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("emulator did not start (see {}): {line:?}", log.display()));
        Emulator {
            stdin: child.stdin.take(),
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// SDK configuration for one region, pointing at the emulator.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        let credentials =
            aws_credential_types::Credentials::new("testing", "testing", None, None, "emulator");
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build()
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config(region))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.sdk_config(region))
    }

    pub fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config(region))
    }

    /// The app's state item (the app-config table's `appId` item) as
    /// `region` reads it, if any.
    pub async fn state_item(
        &self,
        region: &str,
        app: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.dynamodb(region)
            .get_item()
            .table_name(format!("mraa-{app}-app-config"))
            .key(
                "appId",
                aws_sdk_dynamodb::types::AttributeValue::S(app.into()),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("state item in {region}: {e}"))
            .item()
            .cloned()
    }

    pub fn acm(&self, region: &str) -> aws_sdk_acm::Client {
        aws_sdk_acm::Client::new(&self.sdk_config(region))
    }

    /// Route 53 is a global service: one client, in us-east-1.
    pub fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk_config("us-east-1"))
    }

    /// Environment for running `mraa` against this emulator, with nothing of
    /// the developer's own AWS setup leaking in.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = clean_env();
        env.extend([
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ]);
        env
    }

    /// `env()` with `region` as the profile's region (`AWS_REGION`).
    pub fn env_in(&self, region: &str) -> Vec<(String, String)> {
        with_var(self.env(), "AWS_REGION", region)
    }

    /// A call to moto's control API (`/moto-api/...`); returns the body.
    pub fn control(&self, method: &str, path: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to emulator");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send control request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read control response");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variables a test run of `mraa` starts from: the developer's AWS
/// configuration is hidden, so tests behave the same on every machine.
pub fn clean_env() -> Vec<(String, String)> {
    let empty = std::env::temp_dir().join("mraa-test-no-aws-config");
    std::fs::create_dir_all(&empty).expect("create an empty AWS config dir");
    for file in ["config", "credentials"] {
        std::fs::write(empty.join(file), "").expect("write an empty AWS config file");
    }
    vec![
        (
            "AWS_CONFIG_FILE".into(),
            empty.join("config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            empty.join("credentials").display().to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("NO_COLOR".into(), "1".into()),
    ]
}

/// Runs the built binary with exactly `env` (plus PATH and HOME) and `args`.
pub fn mraa(args: &[&str], env: &[(String, String)], cwd: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mraa"));
    command.env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v))).args(args);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.stdin(Stdio::null()).output().expect("run mraa")
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `env` with `key` set to `value`, in place of any value it had.
pub fn with_var(mut env: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value.to_string()));
    env
}

/// A run's exit code and both streams, for failure messages.
pub fn show(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout_of(output),
        stderr_of(output)
    )
}

/// Runs `mraa` and requires exit code 0.
pub fn run_ok(args: &[&str], env: &[(String, String)]) -> Output {
    let output = mraa(args, env, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "mraa {args:?}: {}",
        show(&output)
    );
    output
}

/// stdout of `--output json`, one JSON document a line.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout_of(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// One API call the emulator recorded.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: String,
    /// The signing region (empty for an unsigned request).
    pub region: String,
    pub operation: String,
    pub method: String,
    pub url: String,
    /// The request body as text (form-encoded, JSON or XML).
    pub body: String,
}

impl Call {
    /// Reads (Describe/Get/List/Head and S3 GET/HEAD) versus everything else.
    pub fn is_mutating(&self) -> bool {
        // Route 53's ListTagsForResources is a POST to /tags/<type> (the
        // change of one resource's tags goes to /tags/<type>/<id>).
        if self.service == "route53"
            && self.method == "POST"
            && self.url.split('?').next().is_some_and(|path| {
                path.ends_with("/tags/healthcheck") || path.ends_with("/tags/hostedzone")
            })
        {
            return false;
        }
        // REST services: the method says it (the recorder names no operation).
        if ["s3", "cloudfront", "route53", "apigateway"].contains(&self.service.as_str()) {
            return !matches!(self.method.as_str(), "GET" | "HEAD");
        }
        let reads = [
            "Describe", "Get", "List", "BatchGet", "Query", "Scan", "Estimate", "Validate",
        ];
        !reads
            .iter()
            .any(|prefix| self.operation.starts_with(prefix))
    }
}

impl Emulator {
    pub fn start_recording(&self) {
        self.control("POST", "/moto-api/recorder/reset-recording", "");
        self.control("POST", "/moto-api/recorder/start-recording", "");
    }

    /// Stops recording and returns the calls made since `start_recording`.
    /// The recorded calls that change something.
    pub fn mutating_calls(&self) -> Vec<Call> {
        self.recorded_calls()
            .into_iter()
            .filter(|c| c.is_mutating())
            .collect()
    }

    pub fn recorded_calls(&self) -> Vec<Call> {
        self.control("POST", "/moto-api/recorder/stop-recording", "");
        let text = self.control("GET", "/moto-api/recorder/download-recording", "");
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|entry| {
                let header = |name: &str| {
                    entry["headers"][name]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                };
                let credential = header("Authorization");
                // Credential=KEY/DATE/REGION/SERVICE/aws4_request
                let service = credential
                    .split("Credential=")
                    .nth(1)
                    .and_then(|c| c.split('/').nth(3))
                    .unwrap_or_default()
                    .to_string();
                let target = header("X-Amz-Target");
                let body = decode_body(&entry);
                let operation = if !target.is_empty() {
                    target.rsplit('.').next().unwrap_or_default().to_string()
                } else {
                    body.split('&')
                        .find_map(|kv| kv.strip_prefix("Action="))
                        .unwrap_or_default()
                        .to_string()
                };
                let region = credential
                    .split("Credential=")
                    .nth(1)
                    .and_then(|c| c.split('/').nth(2))
                    .unwrap_or_default()
                    .to_string();
                Call {
                    service,
                    region,
                    operation,
                    method: entry["method"].as_str().unwrap_or_default().to_string(),
                    url: entry["url"].as_str().unwrap_or_default().to_string(),
                    body,
                }
            })
            .collect()
    }

    /// The regions StackSet `set` has instances in (home region us-east-1),
    /// sorted.
    pub async fn stack_set_regions(&self, set: &str) -> Vec<String> {
        let instances = self
            .cloudformation("us-east-1")
            .list_stack_instances()
            .stack_set_name(set)
            .send()
            .await
            .expect("list stack instances");
        let mut regions: Vec<String> = instances
            .summaries()
            .iter()
            .filter_map(|s| s.region().map(str::to_string))
            .collect();
        regions.sort_unstable();
        regions
    }

    /// The status of StackSet `set`'s instance stack in `region`, found by
    /// name: AWS names instance stacks `StackSet-<set>-<uuid>`, the emulator
    /// `StackSet:<set>`, and the emulator's instance summaries carry an id
    /// that no stack has.
    pub async fn instance_stack_status(&self, region: &str, set: &str) -> Option<String> {
        let stacks = self
            .cloudformation(region)
            .list_stacks()
            .send()
            .await
            .expect("list stacks in the instance's own region");
        stacks
            .stack_summaries()
            .iter()
            .find(|s| {
                s.stack_name().is_some_and(|n| {
                    n == format!("StackSet:{set}") || n.starts_with(&format!("StackSet-{set}-"))
                })
            })
            .and_then(|s| s.stack_status().map(|status| status.as_str().to_string()))
    }

    /// A plain GET on the emulator (it does not check signatures).
    pub fn get(&self, path: &str) -> String {
        self.control("GET", path, "")
    }
}

fn decode_body(entry: &serde_json::Value) -> String {
    let body = entry["body"].as_str().unwrap_or_default();
    if entry["body_encoded"].as_bool() == Some(true) {
        base64_decode(body)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        body.to_string()
    }
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text
        .bytes()
        .filter(|b| *b != b'=' && !b.is_ascii_whitespace())
    {
        let value = ALPHABET.iter().position(|c| *c == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}
