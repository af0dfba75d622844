#!/usr/bin/env bash
# `make demo`: the whole life of a deployment, against a local AWS emulator
# (moto server) on loopback: deploy, redeploy, a custom domain, status,
# failover and back, teardown. Nothing touches a real AWS account. The
# emulator's clock is off (operations complete at once): `make bench` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

MRAA=${MRAA:-target/debug/mraa}
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p target
log=target/demo-emulator.log
portfile=target/demo-emulator.port
transcript=target/demo-transcript.txt
rm -f "$portfile" "$log" "$transcript"

# The emulator runs until its stdin closes: fd 3 is that pipe, so it stops
# when this script ends, however it ends.
exec 3> >(exec "$PYTHON" scripts/emulator.py --log "$log" --time-scale 0 > "$portfile")
emulator_pid=$!
# None of the limits the demo names first is a step mraa checks: an
# `unverified` line is a gap of the emulator or of mraa's checks, named once
# at the end, however the demo ends.
unverified() {
    [ -s "$transcript" ] || return 0
    local steps
    # Progress lines (time, step, [region,] `unverified:`), summary lines
    # (`unverified`, step) and status rows (check of one or two words, region).
    steps=$(awk '$1 ~ /^[0-9]+:[0-9]+:[0-9]+$/ { if ($3 == "unverified:" || $4 == "unverified:") print $2; next }
                 $1 == "unverified" { print $2 }
                 $3 == "unverified" { print $1 }
                 $4 == "unverified" { print $1 " " $2 }' "$transcript" | sort -u | paste -sd ',' | sed 's/,/, /g')
    step "Steps mraa reported unverified in this run: ${steps:-none}"
}
stop() {
    unverified
    exec 3>&-
    wait "$emulator_pid" 2>/dev/null || true
}
trap stop EXIT

# Importing moto and its stand-ins takes ~10 s on a busy two-core machine:
# wait up to a minute for the port before calling it a failure.
for _ in $(seq 1 600); do
    [ -s "$portfile" ] && break
    sleep 0.1
done
port=$(sed -n 's/^port //p' "$portfile")
[ -n "$port" ] || { echo "the emulator did not start; see $log" >&2; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
PRIMARY=us-east-1 SECONDARY=ap-northeast-1

bold=$(tput bold 2>/dev/null || true) plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s━━ %s%s\n' "$bold" "$*" "$plain"; }
# mraa's output is also kept, to find its `unverified` lines at the end.
run() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; "$@" 2>&1 | tee -a "$transcript"; }

step "A local AWS emulator listens on $AWS_ENDPOINT_URL (log: $log)"
echo "It stands in for AWS where mraa depends on it: CloudFront distributions and"
echo "Cognito pools made by CloudFormation, global-table replicas that copy items,"
echo "S3 replication that copies objects, Route 53 health checks that probe the state API,"
echo "and Route 53's TestDNSAnswer, which answers the failover records by those checks."
echo "What a laptop cannot have:"
echo "  - the site and the APIs from a browser: CloudFront's edge and API Gateway's invoke"
echo "    names serve on AWS only; here they are read back through the services' APIs"
echo "  - the Lambda code behind the APIs: without Docker the emulator stores functions and"
echo "    an invocation echoes its input (layers/tests runs the code itself)"
echo "  - the custom domain in DNS: no resolver serves example.test; Route 53's records are"
echo "    read back through its API, and which region api.app.example.test answers through"
echo "    TestDNSAnswer (its TXT region marker; on AWS: dig TXT api.<domain>)"

step "Deploy the application to $PRIMARY (primary) and $SECONDARY (secondary)"
run "$MRAA" deploy --secondary "$SECONDARY"

step "Deploy again: nothing has changed, so nothing is touched"
run "$MRAA" deploy --secondary "$SECONDARY"

step "Add a custom domain: certificates, regional API domains, Route 53 failover records"
echo "(the demo makes the hosted zone example.test in the emulator first)"
"$PYTHON" - "$AWS_ENDPOINT_URL" <<'PY'
import sys, time, boto3
r53 = boto3.client("route53", region_name="us-east-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="demo", aws_secret_access_key="demo")
zone = r53.create_hosted_zone(Name="example.test", CallerReference=str(time.time()))
print(f"  hosted zone example.test: {zone['HostedZone']['Id']}")
PY
run "$MRAA" deploy --secondary "$SECONDARY" --domain app.example.test

step "Read through CloudFront's API: the distribution serves app.example.test with its certificate"
"$PYTHON" - "$AWS_ENDPOINT_URL" <<'PY'
import sys, boto3
session = dict(region_name="us-east-1", endpoint_url=sys.argv[1],
               aws_access_key_id="demo", aws_secret_access_key="demo")
cloudfront, acm = boto3.client("cloudfront", **session), boto3.client("acm", **session)
(dist,) = cloudfront.list_distributions()["DistributionList"]["Items"]
config = cloudfront.get_distribution(Id=dist["Id"])["Distribution"]["DistributionConfig"]
aliases = config["Aliases"].get("Items", [])
arn = config["ViewerCertificate"].get("ACMCertificateArn", "")
names = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainName"] if arn else None
print(f"  distribution {dist['Id']}: aliases {aliases}, certificate {arn or 'CloudFront default'}"
      f" for {names}")
if aliases != ["app.example.test"] or names != "app.example.test":
    sys.exit("the distribution does not serve app.example.test")
PY

step "What is deployed, and is it healthy?"
run "$MRAA" status

step "The primary region is in trouble: fail over to $SECONDARY (written through $SECONDARY)"
run "$MRAA" failover --reason "demo: primary region outage drill"

step "Status during failover: the state, Route 53's health checks, and which region DNS answers"
echo "Route 53 moves DNS only after a check fails FailureThreshold (3) probes in a row, about 90 s"
echo "on AWS; the emulator counts each read of the checks as one probe, so status is read until"
echo "its dns-answer row names $SECONDARY (at most 10 reads)."
moved=""
for attempt in $(seq 1 10); do
    set +e
    answer=$("$MRAA" status --output json 2>/dev/null | "$PYTHON" -c '
import json, sys
rows = json.load(sys.stdin).get("checks", [])
print(next((r["status"] for r in rows if r["name"] == "dns-answer"), "missing"))')
    set -e
    echo "  read $attempt: dns-answer $answer"
    if [ "$answer" = "ok" ]; then moved=yes; break; fi
done
run "$MRAA" status | grep -E '^(app|state|health-check|dns-answer)' || true
[ -n "$moved" ] || { echo "DNS did not move to $SECONDARY after 10 reads" >&2; exit 1; }

step "Back to normal: activate the primary again"
run "$MRAA" activate --reason "demo: primary healthy again"

step "Tear everything down, data included"
run "$MRAA" teardown --delete-data --yes

step "Nothing is left"
set +e
"$MRAA" status
code=$?
set -e
echo "(mraa status exit code $code: 3 means no deployment found)"
[ "$code" -eq 3 ]

step "Done: every step of the demo ran."
