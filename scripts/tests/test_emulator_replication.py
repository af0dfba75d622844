"""The emulator's global-table replicas and S3 replication (scripts/emulator_replication.py),
refusals included, checked through DynamoDB's and S3's own APIs."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import clients, start_emulator, stop_emulator

# Long enough that a read right after a write comes before the copy; short enough for the suite.
LAG = 0.5


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    proc, url = start_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log",
                               MRAA_EMULATOR_REPLICATION_LAG=str(LAG))
    yield url
    stop_emulator(proc)


def eventually(read, wanted, within=5.0):
    """Polls `read` until it returns `wanted` (replication is asynchronous); returns how long it
    took."""
    start = time.monotonic()
    while (got := read()) != wanted:
        assert time.monotonic() - start < within, f"still {got!r}, not {wanted!r}"
        time.sleep(0.05)
    return time.monotonic() - start

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"


def make_table(ddb, name, view="NEW_AND_OLD_IMAGES"):
    spec = {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], StreamSpecification=spec)


def add_replica(ddb, name, region=SECONDARY):
    return ddb.update_table(TableName=name, ReplicaUpdates=[
        {"Create": {"RegionName": region}}])["TableDescription"]


def replicas(ddb, name):
    return {r["RegionName"]: r["ReplicaStatus"]
            for r in ddb.describe_table(TableName=name)["Table"].get("Replicas", [])}


def test_a_replica_is_created_and_items_flow_both_ways(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_table(east, "global")
    east.put_item(TableName="global", Item={"id": {"S": "before"}})
    described = add_replica(east, "global")
    assert described["Replicas"] == [{"RegionName": SECONDARY, "ReplicaStatus": "CREATING"}]
    assert replicas(east, "global") == {SECONDARY: "ACTIVE"}
    assert replicas(tokyo, "global") == {PRIMARY: "ACTIVE"}
    assert tokyo.get_item(TableName="global", Key={"id": {"S": "before"}}).get("Item")

    def value(ddb):
        item = ddb.get_item(TableName="global", Key={"id": {"S": "k"}},
                            ConsistentRead=True).get("Item")
        return item and item["v"]["S"]

    tokyo.put_item(TableName="global", Item={"id": {"S": "k"}, "v": {"S": "tokyo"}})
    eventually(lambda: value(east), "tokyo")
    east.update_item(TableName="global", Key={"id": {"S": "k"}}, UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": {"S": "east"}})
    eventually(lambda: value(tokyo), "east")
    tokyo.delete_item(TableName="global", Key={"id": {"S": "k"}})
    eventually(lambda: value(east), None)

    east.update_table(TableName="global", ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}])
    assert "global" not in tokyo.list_tables()["TableNames"]
    assert replicas(east, "global") == {}


def test_a_write_reaches_the_other_region_only_after_the_lag(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_table(east, "lagging")
    add_replica(east, "lagging")

    def state(ddb):
        item = ddb.get_item(TableName="lagging", Key={"id": {"S": "app"}},
                            ConsistentRead=True).get("Item")
        return item and item["state"]["S"]

    east.put_item(TableName="lagging", Item={"id": {"S": "app"}, "state": {"S": "active"}})
    eventually(lambda: state(tokyo), "active")
    written = time.monotonic()
    east.put_item(TableName="lagging", Item={"id": {"S": "app"}, "state": {"S": "failover"}})
    # Right after the write, the other region still reads the old value, even consistently
    # (a strongly consistent read is consistent within its own region only).
    assert state(tokyo) == "active"
    assert state(east) == "failover"
    eventually(lambda: state(tokyo), "failover")
    assert time.monotonic() - written >= LAG


def test_the_last_writer_wins_when_both_regions_write(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_table(east, "conflict")
    add_replica(east, "conflict")

    def value(ddb):
        item = ddb.get_item(TableName="conflict", Key={"id": {"S": "k"}}).get("Item")
        return item and item["v"]["S"]

    east.put_item(TableName="conflict", Item={"id": {"S": "k"}, "v": {"S": "first"}})
    tokyo.put_item(TableName="conflict", Item={"id": {"S": "k"}, "v": {"S": "second"}})
    # Both copies cross; the older one (east's) is dropped in Tokyo, the newer one lands east.
    eventually(lambda: value(east), "second")
    assert value(tokyo) == "second"


@pytest.mark.parametrize("view, name", [(None, "no-stream"), ("NEW_IMAGE", "new-image")])
def test_a_replica_needs_a_stream_of_new_and_old_images(client, view, name):
    east = client("dynamodb", PRIMARY)
    make_table(east, name, view)
    with pytest.raises(ClientError, match="NEW_AND_OLD_IMAGES"):
        add_replica(east, name)
    assert name not in client("dynamodb", SECONDARY).list_tables()["TableNames"]


def test_the_local_region_and_an_existing_table_are_refused(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_table(east, "taken")
    with pytest.raises(ClientError, match="local region"):
        add_replica(east, "taken", PRIMARY)
    make_table(tokyo, "taken")
    with pytest.raises(ClientError, match="already existed as tables"):
        add_replica(east, "taken")


def bucket(s3, name, region, versioned=True):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


RULE = {
    "ID": "to-secondary", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "Destination": {"Bucket": "arn:aws:s3:::objects-tokyo", "StorageClass": "STANDARD",
                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}},
}


TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}


def replication_role(client, name, source, destination, without=()):
    """A role as "Setting up permissions for live replication" (step 2) writes it, less the
    actions in `without`; returns its ARN."""
    iam = client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    statements = [
        (["s3:GetReplicationConfiguration", "s3:ListBucket"], f"arn:aws:s3:::{source}"),
        (["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging"], f"arn:aws:s3:::{source}/*"),
        (["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         f"arn:aws:s3:::{destination}/*")]
    iam.put_role_policy(RoleName=name, PolicyName="replicate", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": [a for a in actions if a not in without],
             "Resource": resource} for actions, resource in statements]}))
    return arn


def test_objects_and_delete_markers_replicate_and_the_rule_reads_back(client):
    east, tokyo = client("s3", "us-west-2"), client("s3", SECONDARY)
    bucket(east, "objects-west", "us-west-2")
    bucket(tokyo, "objects-tokyo", SECONDARY)
    east.put_object(Bucket="objects-west", Key="early", Body=b"0")
    role = replication_role(client, "replication", "objects-west", "objects-tokyo")
    config = {"Role": role, "Rules": [RULE]}
    east.put_bucket_replication(Bucket="objects-west", ReplicationConfiguration=config)
    stored = east.get_bucket_replication(Bucket="objects-west")["ReplicationConfiguration"]
    assert stored == config

    east.put_object(Bucket="objects-west", Key="photo", Body=b"1")
    assert east.head_object(Bucket="objects-west", Key="photo")["ReplicationStatus"] == "COMPLETED"
    copy = tokyo.get_object(Bucket="objects-tokyo", Key="photo")
    assert copy["Body"].read() == b"1" and copy["ReplicationStatus"] == "REPLICA"
    # Objects put before the rule existed are not replicated.
    with pytest.raises(ClientError, match="404"):
        tokyo.head_object(Bucket="objects-tokyo", Key="early")

    east.delete_object(Bucket="objects-west", Key="photo")
    markers = tokyo.list_object_versions(Bucket="objects-tokyo")["DeleteMarkers"]
    assert [m["Key"] for m in markers] == ["photo"]


def test_delete_markers_stay_when_the_rule_says_disabled(client):
    s3 = client("s3", "eu-west-1")
    bucket(s3, "src-disabled", "eu-west-1")
    bucket(s3, "dst-disabled", "eu-west-1")
    rule = dict(RULE, DeleteMarkerReplication={"Status": "Disabled"},
                Destination={"Bucket": "arn:aws:s3:::dst-disabled"})
    role = replication_role(client, "replication-disabled", "src-disabled", "dst-disabled")
    s3.put_bucket_replication(Bucket="src-disabled", ReplicationConfiguration={
        "Role": role, "Rules": [rule]})
    s3.put_object(Bucket="src-disabled", Key="k", Body=b"x")
    s3.delete_object(Bucket="src-disabled", Key="k")
    versions = s3.list_object_versions(Bucket="dst-disabled")
    assert [v["Key"] for v in versions["Versions"]] == ["k"]
    assert not versions.get("DeleteMarkers")


@pytest.mark.parametrize("name, without", [
    ("no-replicate-object", ("s3:ReplicateObject",)),
    ("no-source-read", ("s3:GetObjectVersionForReplication",)),
    ("no-list", ("s3:ListBucket",)),
])
def test_a_role_that_may_not_replicate_leaves_the_object_failed(client, name, without):
    s3 = client("s3", "eu-west-2")
    source, destination = f"src-{name}", f"dst-{name}"
    bucket(s3, source, "eu-west-2")
    bucket(s3, destination, "eu-west-2")
    role = replication_role(client, f"role-{name}", source, destination, without)
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={
        "Role": role, "Rules": [dict(RULE, Destination={"Bucket": f"arn:aws:s3:::{destination}"})]})
    s3.put_object(Bucket=source, Key="photo", Body=b"1")
    assert s3.head_object(Bucket=source, Key="photo")["ReplicationStatus"] == "FAILED"
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=destination, Key="photo")


def test_tags_need_replicate_tags_and_a_role_must_trust_s3(client):
    s3 = client("s3", "eu-west-3")
    bucket(s3, "src-tags", "eu-west-3")
    bucket(s3, "dst-tags", "eu-west-3")
    role = replication_role(client, "role-tags", "src-tags", "dst-tags", ("s3:ReplicateTags",))
    s3.put_bucket_replication(Bucket="src-tags", ReplicationConfiguration={
        "Role": role, "Rules": [dict(RULE, Destination={"Bucket": "arn:aws:s3:::dst-tags"})]})
    s3.put_object(Bucket="src-tags", Key="plain", Body=b"1")
    assert s3.head_object(Bucket="src-tags", Key="plain")["ReplicationStatus"] == "COMPLETED"
    s3.put_object(Bucket="src-tags", Key="tagged", Body=b"1", Tagging="k=v")
    assert s3.head_object(Bucket="src-tags", Key="tagged")["ReplicationStatus"] == "FAILED"

    # A role S3 may not assume (its trust names another account) replicates nothing.
    iam = client("iam")
    iam.update_assume_role_policy(RoleName="role-tags", PolicyDocument=json.dumps(
        {**TRUST, "Statement": [{**TRUST["Statement"][0], "Condition": {
            "StringEquals": {"aws:SourceAccount": "999999999999"}}}]}))
    s3.put_object(Bucket="src-tags", Key="untrusted", Body=b"1")
    assert s3.head_object(Bucket="src-tags", Key="untrusted")["ReplicationStatus"] == "FAILED"


def two_way(client, s3, left, right, region, sync=True):
    """Versioned buckets `left` and `right` replicating to each other, each rule with replica
    modification sync when `sync`."""
    for name in (left, right):
        bucket(s3, name, region)
    for source, destination in ((left, right), (right, left)):
        rule = dict(RULE, ID=f"to-{destination}",
                    Destination={"Bucket": f"arn:aws:s3:::{destination}"})
        if sync:
            rule["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": "Enabled"}}
        role = replication_role(client, f"role-{source}", source, destination)
        s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={
            "Role": role, "Rules": [rule]})


def versions(s3, name, key):
    return [v for v in s3.list_object_versions(Bucket=name, Prefix=key).get("Versions", [])
            if v["Key"] == key]


def test_two_way_rules_copy_each_object_once_and_never_back(client):
    s3 = client("s3", "ca-central-1")
    two_way(client, s3, "both-a", "both-b", "ca-central-1")
    stored = s3.get_bucket_replication(Bucket="both-b")["ReplicationConfiguration"]["Rules"][0]
    assert stored["SourceSelectionCriteria"] == {"ReplicaModifications": {"Status": "Enabled"}}
    s3.put_object(Bucket="both-a", Key="from-a", Body=b"a")
    s3.put_object(Bucket="both-b", Key="from-b", Body=b"b")
    for here, there, key, body in (("both-a", "both-b", "from-a", b"a"),
                                   ("both-b", "both-a", "from-b", b"b")):
        assert s3.head_object(Bucket=here, Key=key)["ReplicationStatus"] == "COMPLETED"
        copy = s3.get_object(Bucket=there, Key=key)
        assert copy["Body"].read() == body and copy["ReplicationStatus"] == "REPLICA"
        # The replica is not replicated back: one version in each bucket, no loop.
        assert len(versions(s3, here, key)) == 1 and len(versions(s3, there, key)) == 1
    # A new version written where the replica is: replicated like any object, once.
    s3.put_object(Bucket="both-b", Key="from-a", Body=b"a2")
    assert s3.get_object(Bucket="both-a", Key="from-a")["Body"].read() == b"a2"
    assert [len(versions(s3, b, "from-a")) for b in ("both-a", "both-b")] == [2, 2]


def tags(s3, name, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=name, Key=key)["TagSet"]}


def test_a_replicas_metadata_goes_back_only_with_replica_modification_sync(client):
    s3 = client("s3", "sa-east-1")
    two_way(client, s3, "sync-a", "sync-b", "sa-east-1")
    s3.put_object(Bucket="sync-a", Key="photo", Body=b"1")
    s3.put_object_tagging(Bucket="sync-b", Key="photo",
                          Tagging={"TagSet": [{"Key": "label", "Value": "cat"}]})
    assert tags(s3, "sync-a", "photo") == {"label": "cat"}
    # The metadata went back without a new object: still one version on each side.
    assert [len(versions(s3, b, "photo")) for b in ("sync-a", "sync-b")] == [1, 1]

    two_way(client, s3, "nosync-a", "nosync-b", "sa-east-1", sync=False)
    s3.put_object(Bucket="nosync-a", Key="photo", Body=b"1")
    s3.put_object_tagging(Bucket="nosync-b", Key="photo",
                          Tagging={"TagSet": [{"Key": "label", "Value": "cat"}]})
    assert tags(s3, "nosync-a", "photo") == {}


def test_an_object_arrives_after_the_objects_lag_and_reads_pending_until_then(client, endpoint):
    import urllib.request

    def set_objects_lag(seconds):
        urllib.request.urlopen(urllib.request.Request(
            f"{endpoint}/moto-api/mraa/replication-lag",
            data=json.dumps({"objects": seconds}).encode(),
            headers={"Content-Type": "application/json"}, method="POST"), timeout=10)

    west, tokyo = client("s3", "us-west-1"), client("s3", SECONDARY)
    bucket(west, "lag-west", "us-west-1")
    bucket(tokyo, "lag-tokyo", SECONDARY)
    role = replication_role(client, "lag-replication", "lag-west", "lag-tokyo")
    rule = {**RULE, "Destination": {**RULE["Destination"], "Bucket": "arn:aws:s3:::lag-tokyo"}}
    west.put_bucket_replication(Bucket="lag-west", ReplicationConfiguration={
        "Role": role, "Rules": [rule]})

    def arrived():
        try:
            tokyo.head_object(Bucket="lag-tokyo", Key="photo")
            return True
        except ClientError:
            return False

    set_objects_lag(LAG)
    try:
        west.put_object(Bucket="lag-west", Key="photo", Body=b"1")
        # "Replication status information": PENDING at the source until S3 has copied it.
        assert west.head_object(Bucket="lag-west", Key="photo")["ReplicationStatus"] == "PENDING"
        assert not arrived()
        took = eventually(arrived, True)
        assert took >= LAG * 0.8, took
        assert west.head_object(Bucket="lag-west", Key="photo")["ReplicationStatus"] == "COMPLETED"
        assert tokyo.head_object(Bucket="lag-tokyo", Key="photo")["ReplicationStatus"] == "REPLICA"
    finally:
        set_objects_lag(0)
