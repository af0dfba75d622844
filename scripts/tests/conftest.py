"""The emulator as the project starts it (scripts/emulator.py: `port N` on stdout, stops when its
stdin closes), one per test module, and boto3 clients for it."""
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]


def start_emulator(log: Path, **env_extra: str) -> tuple[subprocess.Popen, str]:
    python = REPO / ".venv/bin/python"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **env_extra,
    }
    proc = subprocess.Popen(
        [str(python if python.exists() else sys.executable), str(REPO / "scripts/emulator.py"),
         "--log", str(log)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    line = proc.stdout.readline()
    assert line.startswith("port "), f"emulator said {line!r}; log:\n{log.read_text()}"
    return proc, f"http://127.0.0.1:{line.split()[1]}"


def stop_emulator(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


def clients(endpoint: str):
    def make(service, region="us-east-1"):
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        ).client(service, endpoint_url=endpoint, config=Config(
            retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    return make


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    proc, url = start_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log")
    yield url
    stop_emulator(proc)


@pytest.fixture(scope="module")
def client(endpoint):
    return clients(endpoint)
