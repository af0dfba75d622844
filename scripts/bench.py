#!/usr/bin/env python3
"""Benchmark of `mraa deploy` against the local emulator. Prints figures; asserts nothing.

    .venv/bin/python scripts/bench.py [--runs N] [--mraa target/release/mraa]

Figures: fresh deploy wall time, no-op redeploy wall time, and API calls per
deploy (total and mutating), counted with the emulator's request recorder.
Emulator timings say nothing about AWS's own operation times; they measure
mraa's overhead, scheduling and call count.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from base64 import b64decode
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READS = ("Describe", "Get", "List", "BatchGet", "Query", "Scan", "Estimate", "Validate")


def control(endpoint, path, method="POST"):
    request = urllib.request.Request(endpoint + path, method=method, data=b"" if method == "POST" else None)
    return urllib.request.urlopen(request, timeout=30).read().decode()


def classify(entry):
    headers = entry.get("headers", {})
    auth = headers.get("Authorization", "")
    service = auth.split("Credential=")[1].split("/")[3] if "Credential=" in auth else "?"
    target = headers.get("X-Amz-Target", "")
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = b64decode(body).decode("utf-8", "replace")
    if target:
        operation = target.rsplit(".", 1)[-1]
    else:
        operation = next((kv[7:] for kv in body.split("&") if kv.startswith("Action=")), "")
    # REST services: the method says it (they name no operation in the request).
    if service in ("s3", "cloudfront", "route53", "apigateway"):
        mutating = entry.get("method") not in ("GET", "HEAD")
    else:
        mutating = not operation.startswith(READS)
    return service, operation, mutating


def deploy(mraa, env):
    start = time.monotonic()
    subprocess.run([mraa, "deploy", "--secondary", "ap-northeast-1", "-q"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mraa", default=str(ROOT / "target/debug/mraa"))
    args = parser.parse_args()

    emulator = subprocess.Popen([sys.executable, str(ROOT / "scripts/emulator.py"), "--log", "/dev/null"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(emulator.stdout.readline().split()[1])
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    fresh, noop, calls = [], [], {}
    try:
        for run in range(args.runs):
            control(endpoint, "/moto-api/reset")
            request = urllib.request.Request(endpoint + "/moto-api/config", method="POST",
                                             data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request).read()
            for label, times in (("fresh", fresh), ("no-op", noop)):
                control(endpoint, "/moto-api/recorder/reset-recording")
                control(endpoint, "/moto-api/recorder/start-recording")
                times.append(deploy(args.mraa, env))
                control(endpoint, "/moto-api/recorder/stop-recording")
                if run == 0:
                    recording = control(endpoint, "/moto-api/recorder/download-recording", "GET")
                    entries = [classify(json.loads(line)) for line in recording.splitlines() if line.strip()]
                    calls[label] = (len(entries), sum(1 for e in entries if e[2]))
    finally:
        emulator.stdin.close()
        emulator.wait(timeout=10)

    print(f"mraa deploy against the emulator, {args.runs} run(s), {args.mraa}")
    print(f"  fresh deploy      median {statistics.median(fresh):6.2f} s   (min {min(fresh):.2f}, max {max(fresh):.2f})")
    print(f"  no-op redeploy    median {statistics.median(noop):6.2f} s   (min {min(noop):.2f}, max {max(noop):.2f})")
    for label, (total, mutating) in calls.items():
        print(f"  API calls {label:<7} {total:4d} total, {mutating:4d} mutating")


if __name__ == "__main__":
    main()
