#!/usr/bin/env python3
"""Benchmark of `mraa deploy` against the local emulator under AWS's clock. Prints figures;
asserts nothing.

    .venv/bin/python scripts/bench.py [--runs N] [--mraa target/release/mraa] [--time-scale 60]

The emulator runs its time model (scripts/emulator_time.py): stacks, StackSet operations,
distributions and table replicas take AWS's durations divided by the scale. Figures:
- mraa: fresh deploy and no-op redeploy wall times, API calls per deploy (total and mutating,
  counted with the emulator's request recorder);
- the critical path of the deploy plan (`mraa render`'s manifest plus the wiring), each node
  lasting what the emulator's time model makes it last;
- a sequential baseline on the same clock: the same units and wiring one at a time, one region
  at a time, as the original solution's StackSets (region order, one region at a time) and a
  hand-written `aws cloudformation deploy` script run, each step awaited before the next.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import b64decode
from contextlib import contextmanager
from pathlib import Path

import boto3
import yaml
from botocore.config import Config
from moto.cloudformation.utils import yaml_tag_constructor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import emulator_time as clock  # noqa: E402  (the durations the emulator uses, not copies)

READS = ("Describe", "Get", "List", "BatchGet", "Query", "Scan", "Estimate", "Validate")
SECONDARY = "ap-northeast-1"
PRIMARY = "us-east-1"
# The global tables the layers make in the primary (src/names.rs, global_tables): the users
# table only when users are replicated by import.
GLOBAL_TABLES = ("comments", "app-config")
IMPORT_TABLES = ("users",)
# The baseline polls this often: tight enough that its time is the operations' own, not a
# script's polling (the CLI's waiters poll every 30 AWS seconds; that would only add to it).
POLL = 0.05


def control(endpoint, path, method="POST", body=None):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(endpoint + path, method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=30).read().decode()


@contextmanager
def emulator(scale):
    """A fresh emulator on the scaled clock; stops when its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/emulator.py"), "--log", "/dev/null",
         "--time-scale", str(scale)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def mraa_env(endpoint):
    return dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench", AWS_REGION=PRIMARY, AWS_EC2_METADATA_DISABLED="true",
                AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")


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
    code = subprocess.run([mraa, "deploy", "--secondary", SECONDARY, "-q"], env=env,
                          stdout=subprocess.DEVNULL).returncode
    if code != 0:
        sys.exit(f"bench: `mraa deploy` failed (exit {code}); its error is above")
    return time.monotonic() - start


def bench_mraa(args):
    """Fresh and no-op deploys, each run on a fresh emulator; calls counted on the first."""
    fresh, noop, calls = [], [], {}
    for run in range(args.runs):
        with emulator(args.time_scale) as endpoint:
            env = mraa_env(endpoint)
            for label, times in (("fresh", fresh), ("no-op", noop)):
                control(endpoint, "/moto-api/recorder/reset-recording")
                control(endpoint, "/moto-api/recorder/start-recording")
                times.append(deploy(args.mraa, env))
                control(endpoint, "/moto-api/recorder/stop-recording")
                if run == 0:
                    recording = control(endpoint, "/moto-api/recorder/download-recording", "GET")
                    entries = [classify(json.loads(line)) for line in recording.splitlines()
                               if line.strip()]
                    calls[label] = (len(entries), sum(1 for e in entries if e[2]))
    return fresh, noop, calls


def render(mraa, out):
    subprocess.run([mraa, "render", "--secondary", SECONDARY, "--out", str(out)],
                   env=dict(os.environ, AWS_REGION=PRIMARY, AWS_CONFIG_FILE="/dev/null"),
                   check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "manifest.json").read_text())


def resource_types(template):
    """The template's resource types, parsed as the emulator's CloudFormation parses it (every
    declared resource counts there, conditions aside)."""
    yaml.add_multi_constructor("", yaml_tag_constructor)
    parsed = yaml.load(template.read_text(), Loader=yaml.Loader)
    return [r.get("Type", "") for r in parsed.get("Resources", {}).values()]


def unit_seconds(unit, templates):
    types = resource_types(templates / unit["template"])
    if unit["kind"] == "stack":
        return clock.stack_seconds(types)
    # mraa's StackSet operations run the regions in parallel (src/deploy/stack_set.rs,
    # preferences). The emulator runs each region's instance stack after the region's overhead
    # (emulator_time.py, _stack_sets); the unit is done, outputs readable, once both have run.
    operation = clock.stack_set_seconds(len(unit["regions"]), parallel=True)
    return operation + clock.stack_seconds(types)


# The wiring steps' own durations on the clock. CloudFormation waits for the edge's
# distribution to deploy inside the edge stack (emulator_time.SLOW_RESOURCES), and mraa reads its
# configuration without waiting again (src/wire/cloudfront.rs); a replication rule, the state
# item and the site's objects are single calls, and nothing waits for objects to replicate.
WIRING_SECONDS = {
    "s3-replication": 0,
    "dynamodb-replicas": clock.REPLICA_CREATE,  # the tables' replicas are created together
    "app-state": 0,
    "site-upload": 0,
}
# Waits the manifest does not list: the state item is written once its table is global
# (src/deploy/schedule.rs, Node::needs).
EXTRA_NEEDS = {"app-state": ["dynamodb-replicas"]}


def critical_path(manifest, templates):
    """The longest path through the plan's graph, in AWS seconds, and its nodes."""
    nodes = {u["unit"]: (unit_seconds(u, templates), u["depends_on"]) for u in manifest["units"]}
    for step in manifest["wiring"]:
        name = step["step"]
        nodes[name] = (WIRING_SECONDS[name], step["after"] + EXTRA_NEEDS.get(name, []))
    finish = {}

    def longest(name):
        if name not in finish:
            seconds, needs = nodes[name]
            before = max((longest(n) for n in needs if n in nodes), default=(0, []),
                         key=lambda x: x[0])
            finish[name] = (before[0] + seconds, before[1] + [(name, seconds)])
        return finish[name]

    return max((longest(n) for n in nodes), key=lambda x: x[0])


class Sequential:
    """The baseline: each unit and wiring step by hand with boto3, one at a time, one region at
    a time, awaiting each before the next, against the emulator's clock."""

    def __init__(self, endpoint, manifest, templates):
        self.manifest, self.templates = manifest, templates
        self.app = manifest["app"]
        self.regions = [manifest["primary"], manifest["secondary"]]
        config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
        session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench")
        self.client = lambda service, region: session.client(
            service, region_name=region, endpoint_url=endpoint, config=config)
        self.account = self.client("sts", PRIMARY).get_caller_identity()["Account"]
        self.outputs = {}  # (unit, region) -> {key: value}

    def run(self):
        start = time.monotonic()
        for unit in sorted(self.manifest["units"], key=lambda u: u["wave"]):
            (self.stack if unit["kind"] == "stack" else self.stack_set)(unit)
        for step in self.manifest["wiring"]:
            getattr(self, step["step"].replace("-", "_"))()
        return time.monotonic() - start

    def until(self, read, done):
        while True:
            value = read()
            if done(value):
                return value
            time.sleep(POLL)

    def parameters(self, unit):
        region = {"primary": self.regions[0], "secondary": self.regions[1]}
        values = {}
        for key, source in unit["parameters"].items():
            if "value" in source:
                values[key] = source["value"]
            else:
                ref = source["from_output"]
                values[key] = self.outputs.get((ref["unit"], region[ref["region"]]), {}).get(
                    ref["output"], ref["default"])
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def completed(self, cfn, stack_id):
        stack = self.until(lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0],
                           lambda s: not s["StackStatus"].endswith("_IN_PROGRESS"))
        if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            raise RuntimeError(f"{stack['StackName']}: {stack['StackStatus']}")
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def stack(self, unit):
        region = unit["regions"][0]
        cfn = self.client("cloudformation", region)
        created = cfn.create_stack(StackName=unit["name"],
                                   TemplateBody=(self.templates / unit["template"]).read_text(),
                                   Parameters=self.parameters(unit),
                                   Capabilities=["CAPABILITY_NAMED_IAM"])
        self.outputs[(unit["unit"], region)] = self.completed(cfn, created["StackId"])
        if unit["unit"] == "bootstrap":
            # API Gateway's CloudWatch Logs role, an account setting per region.
            role = f"arn:aws:iam::{self.account}:role/mraa-{self.app}-apigw-logs"
            for r in self.regions:
                self.client("apigateway", r).update_account(patchOperations=[
                    {"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])

    def stack_set(self, unit):
        cfn = self.client("cloudformation", PRIMARY)
        cfn.create_stack_set(
            StackSetName=unit["name"], TemplateBody=(self.templates / unit["template"]).read_text(),
            Parameters=self.parameters(unit), Capabilities=["CAPABILITY_NAMED_IAM"],
            PermissionModel="SELF_MANAGED",
            AdministrationRoleARN=f"arn:aws:iam::{self.account}:role/mraa-{self.app}-stackset-admin",
            ExecutionRoleName=f"mraa-{self.app}-stackset-exec")
        for region in unit["regions"]:
            operation = cfn.create_stack_instances(
                StackSetName=unit["name"], Accounts=[self.account], Regions=[region],
                OperationPreferences={"RegionConcurrencyType": "SEQUENTIAL",
                                      "MaxConcurrentCount": 1, "FailureToleranceCount": 0})
            status = self.until(lambda: cfn.describe_stack_set_operation(
                StackSetName=unit["name"], OperationId=operation["OperationId"])
                ["StackSetOperation"]["Status"], lambda s: s not in ("RUNNING", "QUEUED"))
            if status != "SUCCEEDED":
                raise RuntimeError(f"{unit['name']} in {region}: {status}")
            instance = cfn.list_stack_instances(StackSetName=unit["name"],
                                                StackInstanceRegion=region)["Summaries"][0]
            regional = self.client("cloudformation", region)
            # The instance's stack: by its id, or by the name the emulator gives it.
            stack_id = next(s["StackId"] for s in regional.describe_stacks()["Stacks"]
                            if s["StackId"] == instance.get("StackId")
                            or s["StackName"] == f"StackSet:{unit['name']}")
            self.outputs[(unit["unit"], region)] = self.completed(regional, stack_id)

    def bucket(self, kind, region):
        return f"mraa-{self.app}-{kind}-{self.account}-{region}"

    def s3_replication(self):
        primary, secondary = self.regions
        for region in (secondary, primary):
            self.client("s3", region).put_bucket_versioning(
                Bucket=self.bucket("objects", region),
                VersioningConfiguration={"Status": "Enabled"})
        minutes = {"Minutes": 15}
        self.client("s3", primary).put_bucket_replication(
            Bucket=self.bucket("objects", primary), ReplicationConfiguration={
                "Role": self.outputs[("object-store", primary)]["ReplicationRoleArn"],
                "Rules": [{
                    "ID": "mraa-primary-to-secondary", "Priority": 1, "Filter": {"Prefix": ""},
                    "Status": "Enabled", "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {
                        "Bucket": f"arn:aws:s3:::{self.bucket('objects', secondary)}",
                        "ReplicationTime": {"Status": "Enabled", "Time": minutes},
                        "Metrics": {"Status": "Enabled", "EventThreshold": minutes}}}]})

    def dynamodb_replicas(self):
        primary, secondary = self.regions
        source, target = self.client("dynamodb", primary), self.client("dynamodb", secondary)
        tables = GLOBAL_TABLES + (
            IMPORT_TABLES if self.manifest.get("user_replication") == "import" else ())
        for table in (f"mraa-{self.app}-{t}" for t in tables):
            source.update_table(TableName=table,
                                ReplicaUpdates=[{"Create": {"RegionName": secondary}}])
            self.until(lambda: source.describe_table(TableName=table)["Table"].get("Replicas", []),
                       lambda replicas: any(r["RegionName"] == secondary
                                            and r.get("ReplicaStatus") == "ACTIVE"
                                            for r in replicas))
            target.update_table(TableName=table, DeletionProtectionEnabled=True)
            target.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    def app_state(self):
        self.client("dynamodb", self.regions[0]).put_item(
            TableName=f"mraa-{self.app}-app-config",
            Item={"appId": {"S": self.app}, "state": {"S": "active"}},
            ConditionExpression="attribute_not_exists(appId)")

    def site_upload(self):
        site = ROOT / "layers/frontend/site"
        files = [(p.name, p.read_bytes()) for p in sorted(site.iterdir()) if p.name != "README.md"]
        config = {"appId": self.app, "primaryRegion": self.regions[0],
                  "secondaryRegion": self.regions[1], "regions": {
                      r: {"stateUrl": self.outputs.get(("routing", r), {}).get("StateApiUrl"),
                          "apiUrl": self.outputs.get(("application", r), {}).get("AppApiUrl")}
                      for r in self.regions}}
        files.append(("config.json", json.dumps(config).encode()))
        for region in self.regions:
            s3 = self.client("s3", region)
            for key, body in files:
                s3.put_object(Bucket=self.bucket("website", region), Key=key, Body=body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mraa", default=str(ROOT / "target/debug/mraa"))
    parser.add_argument("--time-scale", type=float, default=60,
                        help="AWS's durations divided by this (emulator_time.py)")
    args = parser.parse_args()
    scale = args.time_scale

    fresh, noop, calls = bench_mraa(args)
    with tempfile.TemporaryDirectory(prefix="mraa-bench-") as out:
        templates = Path(out)
        manifest = render(args.mraa, templates)
        path_seconds, path = critical_path(manifest, templates)
        with emulator(scale) as endpoint:
            sequential = Sequential(endpoint, manifest, templates).run()

    print(f"mraa deploy against the emulator, AWS's clock divided by {scale:g}, "
          f"{args.runs} run(s), {args.mraa}")
    print(f"  fresh deploy      median {statistics.median(fresh):6.2f} s   "
          f"(min {min(fresh):.2f}, max {max(fresh):.2f})")
    print(f"  no-op redeploy    median {statistics.median(noop):6.2f} s   "
          f"(min {min(noop):.2f}, max {max(noop):.2f})")
    for label, (total, mutating) in calls.items():
        print(f"  API calls {label:<7} {total:4d} total, {mutating:4d} mutating")
    print("  critical path     " + " -> ".join(f"{name} {seconds:g}s" for name, seconds in path)
          + f" = {path_seconds:g} AWS seconds")
    print(f"  sequential        {sequential:6.2f} s (one unit, one region, one step at a time)")
    mraa_s, path_s = statistics.median(fresh), path_seconds / scale
    print(f"deploy under the AWS time model: mraa {mraa_s:.2f}s, critical path {path_s:.2f}s "
          f"({mraa_s / path_s:.2f}x), sequential {sequential:.2f}s ({mraa_s / sequential:.2f}x)")


if __name__ == "__main__":
    main()
