#!/usr/bin/env bash
# `make demo`: the whole life of a deployment, against a local AWS emulator
# (moto server) on loopback: deploy, redeploy, a custom domain, status,
# failover and back, teardown. Nothing touches a real AWS account.
set -euo pipefail
cd "$(dirname "$0")/.."

MRAA=${MRAA:-target/debug/mraa}
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p target
log=target/demo-emulator.log
portfile=target/demo-emulator.port
rm -f "$portfile" "$log"

# The emulator runs until its stdin closes: fd 3 is that pipe, so it stops
# when this script ends, however it ends.
exec 3> >(exec "$PYTHON" scripts/emulator.py --log "$log" > "$portfile")
emulator_pid=$!
stop() {
    exec 3>&-
    wait "$emulator_pid" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 1 100); do
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
run() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step "A local AWS emulator listens on $AWS_ENDPOINT_URL (log: $log)"

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

step "What is deployed, and is it healthy? (unverified = the emulator cannot show it)"
run "$MRAA" status

# The emulator keeps tables apart: it neither creates replicas nor copies
# items between regions. `replicate FROM TO` does what a global table does.
replicate() {
    "$PYTHON" - "$AWS_ENDPOINT_URL" "$1" "$2" <<'PY'
import sys, boto3
endpoint, source, target = sys.argv[1:4]
def ddb(region):
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint,
                        aws_access_key_id="demo", aws_secret_access_key="demo")
table = "mraa-mraa-app-config"
if table not in ddb(target).list_tables()["TableNames"]:
    ddb(target).create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "appId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "appId", "KeyType": "HASH"}])
for item in ddb(source).scan(TableName=table)["Items"]:
    ddb(target).put_item(TableName=table, Item=item)
print(f"  (emulator stand-in for global-table replication: {table} {source} -> {target})")
PY
}

step "The emulator does not replicate DynamoDB tables; the demo copies the app-config"
echo "table between regions where AWS's global table would."
replicate "$PRIMARY" "$SECONDARY"

step "The primary region is in trouble: fail over to $SECONDARY (written through $SECONDARY)"
run "$MRAA" failover --reason "demo: primary region outage drill"
replicate "$SECONDARY" "$PRIMARY"

step "Status during failover: the state, and Route 53's health checks"
run "$MRAA" status | grep -E '^(app|state|health-check|dns-answer)' || true

step "Back to normal: activate the primary again"
echo "(--yes: the emulator cannot show replication health, so mraa would ask first)"
run "$MRAA" activate --yes --reason "demo: primary healthy again"
replicate "$PRIMARY" "$SECONDARY"

step "Tear everything down, data included"
run "$MRAA" teardown --delete-data --yes

step "Nothing is left"
set +e
"$MRAA" status
code=$?
set -e
echo "(mraa status exit code $code: 3 means no deployment found)"
[ "$code" -eq 3 ]

step "Done; the emulator stops now."
