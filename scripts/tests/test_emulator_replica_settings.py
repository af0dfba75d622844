"""The emulator's per-replica settings (scripts/emulator_replica_settings.py), checked through
DynamoDB's own API: what each replica keeps for itself, what the global table shares."""
PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"


def make_global(east, name, encrypted=True):
    east.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": encrypted, **({"SSEType": "KMS"} if encrypted else {})})
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])


def pitr(ddb, name):
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    return described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def test_a_replica_of_a_kms_table_uses_its_own_regions_dynamodb_key(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_global(east, "sse")
    sse = tokyo.describe_table(TableName="sse")["Table"]["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    assert f":{SECONDARY}:" in sse["KMSMasterKeyArn"]
    make_global(east, "plain", encrypted=False)
    assert "SSEDescription" not in tokyo.describe_table(TableName="plain")["Table"]


def test_update_table_changes_a_replicas_encryption_alone(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_global(east, "sse-update", encrypted=False)
    tokyo.update_table(TableName="sse-update", SSESpecification={"Enabled": True, "SSEType": "KMS"})
    assert tokyo.describe_table(TableName="sse-update")["Table"]["SSEDescription"]["SSEType"] == "KMS"
    assert "SSEDescription" not in east.describe_table(TableName="sse-update")["Table"]


def test_pitr_deletion_protection_and_tags_are_kept_per_replica(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_global(east, "per-replica")
    for ddb in (east, tokyo):
        ddb.update_continuous_backups(
            TableName="per-replica",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    tokyo.update_continuous_backups(
        TableName="per-replica",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert (pitr(east, "per-replica"), pitr(tokyo, "per-replica")) == ("ENABLED", "DISABLED")

    east.update_table(TableName="per-replica", DeletionProtectionEnabled=True)
    assert east.describe_table(TableName="per-replica")["Table"]["DeletionProtectionEnabled"]
    assert not tokyo.describe_table(TableName="per-replica")["Table"]["DeletionProtectionEnabled"]

    arn = tokyo.describe_table(TableName="per-replica")["Table"]["TableArn"]
    tokyo.tag_resource(ResourceArn=arn, Tags=[{"Key": "mraa:app", "Value": "demo"}])
    assert tokyo.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "mraa:app", "Value": "demo"}]
    east_arn = east.describe_table(TableName="per-replica")["Table"]["TableArn"]
    assert east.list_tags_of_resource(ResourceArn=east_arn)["Tags"] == []


def test_time_to_live_is_one_setting_for_every_replica(client):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    make_global(east, "ttl")
    tokyo.update_time_to_live(
        TableName="ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    for ddb in (east, tokyo):
        described = ddb.describe_time_to_live(TableName="ttl")["TimeToLiveDescription"]
        assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
