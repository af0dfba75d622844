//! No secret ever reaches mraa's output: not the secret key, not the session
//! token, not at the most verbose level, not in JSON output.

use crate::support::{Emulator, mraa, stderr_of, stdout_of};

const SECRET: &str = "wJalrXUtnFEMI-mraa-test-secret-K7MDENG";
const TOKEN: &str = "FwoGZXIvYXdzEmraa-test-session-token-Zq9";

#[test]
fn credentials_never_appear_in_output_or_logs() {
    let emulator = Emulator::start("secrets");
    let mut env = emulator.env();
    env.retain(|(k, _)| k != "AWS_SECRET_ACCESS_KEY");
    env.extend([
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET.to_string()),
        ("AWS_SESSION_TOKEN".to_string(), TOKEN.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ]);
    let runs: [&[&str]; 5] = [
        &[
            "-vvv",
            "deploy",
            "--secondary",
            "ap-northeast-1",
            "--admin-email",
            "jane@example.com",
        ],
        &[
            "--output",
            "json",
            "deploy",
            "--secondary",
            "ap-northeast-1",
        ],
        &["-vvv", "status"],
        &["--output", "json", "status"],
        &["-vvv", "fence", "--reason", "secret check"],
    ];
    let mut verbose_lines = 0;
    for args in runs {
        let output = mraa(args, &env, None);
        let text = format!("{}{}", stdout_of(&output), stderr_of(&output));
        verbose_lines += stderr_of(&output).lines().count();
        assert!(!text.contains(SECRET), "{args:?} printed the secret key");
        assert!(!text.contains(TOKEN), "{args:?} printed the session token");
        assert!(
            !text.contains(&SECRET[..20]),
            "{args:?} printed part of the secret key"
        );
    }
    // The most verbose level really logs the SDK's requests.
    assert!(verbose_lines > 200, "only {verbose_lines} lines at -vvv");
}
