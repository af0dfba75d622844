#!/usr/bin/env python3
"""Benchmark of `mraa deploy` against the local emulator under AWS's clock. Prints figures;
asserts nothing.

    .venv/bin/python scripts/bench.py [--runs N] [--mraa target/debug/mraa] [--time-scale 60]

The emulator runs its time model (scripts/emulator_time.py): stacks, StackSet operations,
distributions, certificates and replicas take AWS's durations divided by the scale. For a
deployment without and with a custom domain (`--domain`), it prints:
- mraa: fresh deploy and no-op redeploy wall times, API calls per deploy (total and mutating,
  counted with the emulator's request recorder);
- the dependency bound: the longest chain of dependencies AWS imposes between the resources of
  the rendered templates (`mraa render`), within mraa's split into stacks and StackSets, each
  stack and StackSet operation lasting what the time model makes it last. The chain is read
  from the templates alone (`DEPENDENCY_RULES` below, each with its AWS reason), never from
  mraa's dependencies or wiring order, so a wait mraa adds shows as mraa above the bound;
- the original: the original solution's deployment of the same resources as its template runs
  it (one stack with the StackSet roles, one StackSet holding every back-end layer, regions one
  at a time, then the UI stack; the tables' replicas beside the UI stack), on the same clock.
"""
import argparse
import json
import os
import re
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
from moto.cloudformation.utils import yaml_tag_constructor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import emulator_time as clock  # noqa: E402  (the durations the emulator uses, not copies)

READS = ("Describe", "Get", "List", "BatchGet", "Query", "Scan", "Estimate", "Validate")
SECONDARY = "ap-northeast-1"
PRIMARY = "us-east-1"
DOMAIN, ZONE = "app.example.com", "example.com"
# The global tables the layers make in the primary (src/names.rs, global_tables): the users
# table only when users are replicated by import.
GLOBAL_TABLES = ("comments", "app-config")
IMPORT_TABLES = ("users",)
# The StackSets' roles, by the names mraa gives them (src/names.rs).
STACK_SET_ROLES = ("mraa-${AppName}-stackset-admin", "mraa-${AppName}-stackset-exec")
# What the site's config.json names: outputs AWS assigns (a URL, an id) that must exist.
SITE_READS = ("StateApiUrl", "AppApiUrl", "UserPoolId", "UserPoolClientId")


def control(endpoint, path, method="POST", body=None):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(endpoint + path, method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=30).read().decode()


@contextmanager
def emulator(scale):
    """A fresh emulator on the scaled clock; stops when its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/emulator.py"), "--log", os.environ.get("BENCH_EMULATOR_LOG", "/dev/null"),
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


def deploy(mraa, env, extra):
    start = time.monotonic()
    code = subprocess.run([mraa, "deploy", "--secondary", SECONDARY, "-q", *extra], env=env,
                          stdout=subprocess.DEVNULL).returncode
    if code != 0:
        sys.exit(f"bench: `mraa deploy` failed (exit {code}); its error is above")
    return time.monotonic() - start


def bench_mraa(args, extra):
    """Fresh and no-op deploys, each run on a fresh emulator; calls counted on the first."""
    fresh, noop, calls = [], [], {}
    for run in range(args.runs):
        with emulator(args.time_scale) as endpoint:
            env = mraa_env(endpoint)
            if extra:
                boto3.client("route53", endpoint_url=endpoint, region_name=PRIMARY,
                             aws_access_key_id="bench", aws_secret_access_key="bench"
                             ).create_hosted_zone(Name=ZONE, CallerReference=f"bench-{run}")
            for label, times in (("fresh", fresh), ("no-op", noop)):
                control(endpoint, "/moto-api/recorder/reset-recording")
                control(endpoint, "/moto-api/recorder/start-recording")
                times.append(deploy(args.mraa, env, extra))
                control(endpoint, "/moto-api/recorder/stop-recording")
                if run == 0:
                    recording = control(endpoint, "/moto-api/recorder/download-recording", "GET")
                    entries = [classify(json.loads(line)) for line in recording.splitlines()
                               if line.strip()]
                    calls[label] = (len(entries), sum(1 for e in entries if e[2]))
    return fresh, noop, calls


def render(mraa, out, extra):
    subprocess.run([mraa, "render", "--secondary", SECONDARY, "--out", str(out), *extra],
                   env=dict(os.environ, AWS_REGION=PRIMARY, AWS_CONFIG_FILE="/dev/null"),
                   check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "manifest.json").read_text())


# ---- the rendered templates, as deployed ------------------------------------------------

def parse(text):
    """A template as the emulator's CloudFormation parses it (short-form tags to Fn::)."""
    yaml.add_multi_constructor("", yaml_tag_constructor)
    return yaml.load(text, Loader=yaml.Loader)


def refs(node):
    """The names a value refers to: `Ref`s, `GetAtt` resources and `${...}` of a `Sub`."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and isinstance(node["Ref"], str):
            return {node["Ref"]}
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            return {(target.split(".")[0] if isinstance(target, str) else target[0])}
        if set(node) == {"Fn::Sub"}:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            return {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
        return set().union(*(refs(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node)) if node else set()
    return set()


def text(node):
    """A literal or a `Sub` template as written."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        sub = node["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def at(node, path):
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


class Instance:
    """One template in one region: what it creates there, by its parameters' values."""

    def __init__(self, unit, region, doc, values):
        self.unit, self.region, self.doc = unit, region, doc
        self.resources = clock.created_resources(doc, values, region)
        self.types = [r.get("Type", "") for r in self.resources.values()]

    def names(self, prop_types):
        """The physical names this instance gives its resources of the given types."""
        found = set()
        for resource in self.resources.values():
            prop = prop_types.get(resource.get("Type"))
            name = text(at(resource.get("Properties") or {}, prop)) if prop else None
            if name:
                found.add(name)
        return found


NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::Role": "RoleName",
}


def parameter_values(unit):
    """The unit's parameter values; an output of another unit reads as assigned (non-empty)."""
    return {key: source.get("value", "(assigned by AWS)")
            for key, source in unit["parameters"].items()}


def instances(manifest, templates):
    docs = {u["unit"]: parse((templates / u["template"]).read_text()) for u in manifest["units"]}
    return {u["unit"]: [Instance(u["unit"], r, docs[u["unit"]], parameter_values(u))
                        for r in u["regions"]] for u in manifest["units"]}, docs


def unit_seconds(unit, regional):
    if unit["kind"] == "stack":
        return clock.stack_seconds(regional[0].types)
    # mraa's StackSet operations run the regions in parallel (src/deploy/stack_set.rs,
    # preferences), as AWS allows (RegionConcurrencyType PARALLEL): the operation lasts its
    # overhead and its slowest region's stack (emulator_time.py, _stack_sets).
    return clock.stack_set_seconds(len(regional), parallel=True) + max(
        clock.stack_seconds(i.types) for i in regional)


# ---- the dependency bound -----------------------------------------------------------------
# Dependencies AWS imposes between resources of different templates, read from the templates:
# (what needs, what must exist first, AWS's reason). Within one template CloudFormation orders
# the resources itself, which stack_seconds charges.
DEPENDENCY_RULES = (
    ("a StackSet", "its administration and execution roles (RoleName)",
     "Grant self-managed permissions, docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
     "stacksets-prereqs-self-managed.html"),
    ("a parameter whose value is another template's output of a resource", "that resource",
     "an id or ARN AWS assigns at creation (a pool id, a key ARN, a distribution id, an API id)"),
    ("AWS::S3::Bucket LoggingConfiguration.DestinationBucketName", "the bucket of that name",
     "Enabling Amazon S3 server access logging, docs.aws.amazon.com/AmazonS3/latest/userguide/"
     "enable-server-access-logging.html: the destination bucket must exist"),
    ("AWS::S3::BucketPolicy Bucket", "the bucket of that name", "PutBucketPolicy: NoSuchBucket"),
    ("AWS::Cognito::UserPoolReplica", "an AWS::KMS::ReplicaKey in its RegionName",
     "Multi-Region replication for user pools, docs.aws.amazon.com/cognito/latest/"
     "developerguide/user-pool-multi-region.html: the key must be available in the replica's "
     "region"),
    ("AWS::Cognito::UserPoolRegionalConfigurationAttachment", "the AWS::Cognito::UserPoolReplica",
     "the replica's regional settings are set where the replica exists"),
    ("a global table's replica", "the table (TableName)",
     "UpdateTable ReplicaUpdates: ResourceNotFoundException for a missing table"),
    ("the site's config.json", "the outputs it names (" + ", ".join(SITE_READS) + ")",
     "ids and URLs AWS assigns"),
)


def assigned_outputs(doc):
    """Output name -> the logical id of the resource whose id, ARN or URL it holds."""
    resources = doc.get("Resources") or {}
    found = {}
    for name, output in (doc.get("Outputs") or {}).items():
        targets = refs(output.get("Value")) & set(resources)
        if targets:
            found[name] = sorted(targets)[0]
    return found


def producer_of(parameter, docs, consumer):
    """The unit whose output the parameter's value is: an output of the same name, or of the
    resource it names (`SiteCertificateArn` is the ARN of `SiteCertificate`); a `Primary` or
    `Secondary` prefix says which region's."""
    bare = re.sub(r"^(Primary|Secondary)", "", parameter)
    found = []
    for unit, doc in docs.items():
        if unit == consumer:
            continue
        for output, resource in assigned_outputs(doc).items():
            if bare == output and not any(bare == resource + s for s in ("Id", "Arn", "Name")):
                found.append((1, unit))
            if any(bare == resource + s for s in ("Id", "Arn", "Name", "")):
                found.append((2, unit))
    best = max((score for score, _ in found), default=0)
    return {unit for score, unit in found if score == best}


def unit_needs(manifest, by_unit, docs):
    """unit -> {needed unit: [reasons]}, from the rules above."""
    units = [u["unit"] for u in manifest["units"]]
    created_names = {u: set().union(*(i.names(NAME_PROPERTIES) for i in by_unit[u]))
                     for u in units}
    makers = lambda name: {u for u in units if name in created_names[u]}  # noqa: E731
    needs = {u: {} for u in units}
    for unit in manifest["units"]:
        u, doc = unit["unit"], docs[unit["unit"]]
        if unit["kind"] == "stack-set":
            for role in STACK_SET_ROLES:
                for maker in makers(role):
                    needs[u].setdefault(maker, set()).add("StackSet roles")
        used = set().union(*(refs(r) for i in by_unit[u] for r in i.resources.values()))
        for parameter in (doc.get("Parameters") or {}):
            if parameter in used:
                for maker in producer_of(parameter, docs, u):
                    needs[u].setdefault(maker, set()).add(parameter)
        for instance in by_unit[u]:
            for resource in instance.resources.values():
                kind, props = resource.get("Type"), resource.get("Properties") or {}
                named = {"AWS::S3::Bucket": "LoggingConfiguration.DestinationBucketName",
                         "AWS::S3::BucketPolicy": "Bucket"}.get(kind)
                name = text(at(props, named)) if named else None
                for maker in (makers(name) if name else set()) - {u}:
                    needs[u].setdefault(maker, set()).add(f"bucket {name}")
                wanted = {"AWS::Cognito::UserPoolReplica": "AWS::KMS::ReplicaKey",
                          "AWS::Cognito::UserPoolRegionalConfigurationAttachment":
                              "AWS::Cognito::UserPoolReplica"}.get(kind)
                for other in units:
                    if wanted and other != u and any(wanted in i.types for i in by_unit[other]):
                        needs[u].setdefault(other, set()).add(wanted)
    return needs


def wiring_needs(manifest, by_unit, docs):
    """The wiring's own nodes: (name, AWS seconds, {needed unit: reason})."""
    units = [u["unit"] for u in manifest["units"]]
    primary = manifest["primary"]
    tables = GLOBAL_TABLES + (IMPORT_TABLES if manifest.get("user_replication") == "import"
                              else ())
    nodes = []
    for table in tables:
        name = f"mraa-${{AppName}}-{table}"
        made = {u for u in units for i in by_unit[u]
                if i.region == primary and name in i.names(NAME_PROPERTIES)}
        nodes.append((f"replica {table}", clock.REPLICA_CREATE, {u: name for u in made}))
    site = {u: output for u in units for output in SITE_READS
            if output in assigned_outputs(docs[u])}
    site.update({u: "website bucket" for u in units
                 if any("mraa-${AppName}-website-${AWS::AccountId}-${AWS::Region}"
                        in i.names(NAME_PROPERTIES) for i in by_unit[u])})
    nodes.append(("site-upload", 0, site))
    return nodes


def longest(nodes):
    """nodes: name -> (seconds, needs); the longest path, in AWS seconds, and its nodes."""
    finish = {}

    def visit(name, seen=()):
        if name in seen:
            sys.exit(f"bench: a dependency cycle through {name}")
        if name not in finish:
            seconds, needs = nodes[name]
            before = max((visit(n, seen + (name,)) for n in needs if n in nodes),
                         default=(0, []), key=lambda x: x[0])
            finish[name] = (before[0] + seconds, before[1] + [(name, seconds)])
        return finish[name]

    return max((visit(n) for n in nodes), key=lambda x: x[0])


def dependency_bound(manifest, templates):
    by_unit, docs = instances(manifest, templates)
    needs = unit_needs(manifest, by_unit, docs)
    nodes = {u["unit"]: (unit_seconds(u, by_unit[u["unit"]]), needs[u["unit"]])
             for u in manifest["units"]}
    for name, seconds, wanted in wiring_needs(manifest, by_unit, docs):
        nodes[name] = (seconds, wanted)
    return longest(nodes), needs


def original(manifest, templates):
    """The original solution's way on the same clock: the stack holding the StackSet roles, then
    one StackSet with every back-end layer in one template (each region's instance one stack,
    regions one at a time), then one UI stack with the stacks' other resources; the tables'
    replicas are made beside the UI stack. AWS seconds, and the parts."""
    by_unit, docs = instances(manifest, templates)
    roles = [u for u in manifest["units"] if u["kind"] == "stack"
             and any(r in i.names(NAME_PROPERTIES) for i in by_unit[u["unit"]]
                     for r in STACK_SET_ROLES)]
    main = sum(clock.stack_seconds(by_unit[u["unit"]][0].types) for u in roles)
    backend = 0
    for region in (manifest["primary"], manifest["secondary"]):
        types = [t for u in manifest["units"] if u["kind"] == "stack-set"
                 for i in by_unit[u["unit"]] if i.region == region for t in i.types]
        backend += clock.stack_set_seconds(1, parallel=False) + clock.stack_seconds(types)
    ui_types = [t for u in manifest["units"] if u["kind"] == "stack" and u not in roles
                for t in by_unit[u["unit"]][0].types]
    # In one stack the distribution waits for the certificate it serves: their waits add up.
    ui = clock.stack_seconds(ui_types) + sum(clock.SLOW_RESOURCES.get(t, 0) for t in ui_types) \
        - max((clock.SLOW_RESOURCES.get(t, 0) for t in ui_types), default=0)
    replicas = clock.REPLICA_CREATE
    return main + backend + max(ui, replicas), (main, backend, ui, replicas)


def figures(args, label, extra):
    fresh, noop, calls = bench_mraa(args, extra)
    with tempfile.TemporaryDirectory(prefix="mraa-bench-") as out:
        templates = Path(out)
        manifest = render(args.mraa, templates, extra)
        (bound, path), needs = dependency_bound(manifest, templates)
        total, parts = original(manifest, templates)
    scale = args.time_scale
    print(f"{label}: mraa deploy against the emulator, AWS's clock divided by {scale:g}, "
          f"{args.runs} run(s), {args.mraa}")
    print(f"  fresh deploy      median {statistics.median(fresh):6.2f} s   "
          f"(min {min(fresh):.2f}, max {max(fresh):.2f})")
    print(f"  no-op redeploy    median {statistics.median(noop):6.2f} s   "
          f"(min {min(noop):.2f}, max {max(noop):.2f})")
    for kind, (count, mutating) in calls.items():
        print(f"  API calls {kind:<7} {count:4d} total, {mutating:4d} mutating")
    for unit, wanted in needs.items():
        print(f"  AWS requires      {unit} after " + (", ".join(
            f"{u} ({'; '.join(sorted(why))})" for u, why in sorted(wanted.items())) or "nothing"))
    print("  dependency bound  " + " -> ".join(f"{name} {seconds:g}s" for name, seconds in path)
          + f" = {bound:g} AWS seconds")
    print("  original          roles stack {:g}s -> back-end StackSet {:g}s -> UI stack {:g}s "
          "(replicas {:g}s beside it) = {:g} AWS seconds".format(*parts, total))
    return statistics.median(fresh), bound / scale, total / scale


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mraa", default=str(ROOT / "target/debug/mraa"))
    parser.add_argument("--time-scale", type=float, default=60,
                        help="AWS's durations divided by this (emulator_time.py)")
    args = parser.parse_args()

    results = {label: figures(args, label, extra) for label, extra in
               (("plain", []), (f"--domain {DOMAIN}", ["--domain", DOMAIN]))}
    lines = {label: f"mraa {m:.2f}s, dependency bound {b:.2f}s ({m / b:.2f}x), original "
                    f"{o:.2f}s ({m / o:.2f}x)" for label, (m, b, o) in results.items()}
    print(f"deploy with --domain {DOMAIN} under the AWS time model: {lines.pop('--domain ' + DOMAIN)}")
    print(f"deploy under the AWS time model: {lines['plain']}")


if __name__ == "__main__":
    main()
