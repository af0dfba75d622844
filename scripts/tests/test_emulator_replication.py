"""The emulator's global-table replicas and S3 replication (scripts/emulator_replication.py),
refusals included, checked through DynamoDB's and S3's own APIs."""
import pytest
from botocore.exceptions import ClientError

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

    tokyo.put_item(TableName="global", Item={"id": {"S": "k"}, "v": {"S": "tokyo"}})
    assert east.get_item(TableName="global", Key={"id": {"S": "k"}})["Item"]["v"] == {"S": "tokyo"}
    east.update_item(TableName="global", Key={"id": {"S": "k"}}, UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": {"S": "east"}})
    assert tokyo.get_item(TableName="global", Key={"id": {"S": "k"}})["Item"]["v"] == {"S": "east"}
    tokyo.delete_item(TableName="global", Key={"id": {"S": "k"}})
    assert "Item" not in east.get_item(TableName="global", Key={"id": {"S": "k"}})

    east.update_table(TableName="global", ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}])
    assert "global" not in tokyo.list_tables()["TableNames"]
    assert replicas(east, "global") == {}


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


def test_objects_and_delete_markers_replicate_and_the_rule_reads_back(client):
    east, tokyo = client("s3", "us-west-2"), client("s3", SECONDARY)
    bucket(east, "objects-west", "us-west-2")
    bucket(tokyo, "objects-tokyo", SECONDARY)
    east.put_object(Bucket="objects-west", Key="early", Body=b"0")
    config = {"Role": "arn:aws:iam::123456789012:role/replication", "Rules": [RULE]}
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
    s3.put_bucket_replication(Bucket="src-disabled", ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replication", "Rules": [rule]})
    s3.put_object(Bucket="src-disabled", Key="k", Body=b"x")
    s3.delete_object(Bucket="src-disabled", Key="k")
    versions = s3.list_object_versions(Bucket="dst-disabled")
    assert [v["Key"] for v in versions["Versions"]] == ["k"]
    assert not versions.get("DeleteMarkers")
