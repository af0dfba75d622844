"""The emulator's replication metrics (scripts/emulator_metrics.py), read through CloudWatch's own
GetMetricData in the protocol AWS's SDKs speak to it today (Smithy RPC v2 CBOR), and its lag
control's refusals."""
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from test_emulator_replication import replication_role

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
ACCOUNT = "123456789012"


def set_lag(endpoint, account=ACCOUNT, **values):
    request = urllib.request.Request(
        f"{endpoint}/moto-api/mraa/replication-lag", data=json.dumps(values).encode(),
        headers={"Content-Type": "application/json", "x-moto-account-id": account},
        method="POST")
    return json.loads(urllib.request.urlopen(request, timeout=10).read())


def latest(cloudwatch, namespace, name, dimensions, stat="Maximum"):
    now = datetime.now(timezone.utc)
    result = cloudwatch.get_metric_data(
        StartTime=now - timedelta(minutes=15), EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampDescending",
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]},
            "Period": 60, "Stat": stat}}])["MetricDataResults"][0]
    return result["Values"][0] if result["Values"] else None


def test_cloudwatch_answers_rpc_v2_cbor(client, endpoint):
    # The Rust SDK speaks only CBOR to CloudWatch (boto3 may pick JSON): a request encoded and an
    # answer decoded by botocore's own codec for that protocol.
    from botocore.parsers import RpcV2CBORParser
    from botocore.serialize import RpcV2CBORSerializer

    cloudwatch = client("cloudwatch")
    model = cloudwatch.meta.service_model.operation_model("ListMetrics")
    body = RpcV2CBORSerializer().serialize_to_request({"Namespace": "none"}, model)["body"]
    request = urllib.request.Request(
        f"{endpoint}/service/GraniteServiceVersion20100801/operation/ListMetrics", data=body,
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
                                  "monitoring/aws4_request, SignedHeaders=host, Signature=0"},
        method="POST")
    answer = urllib.request.urlopen(request, timeout=10)
    assert answer.headers["smithy-protocol"] == "rpc-v2-cbor"
    parsed = RpcV2CBORParser().parse(
        {"body": answer.read(), "headers": {}, "status_code": 200}, model.output_shape)
    assert parsed.get("Metrics", []) == []
    cloudwatch.put_metric_data(Namespace="T", MetricData=[
        {"MetricName": "m", "Value": 2.5, "Unit": "Seconds",
         "Dimensions": [{"Name": "d", "Value": "x"}]}])
    assert latest(cloudwatch, "T", "m", {"d": "x"}) == 2.5
    with pytest.raises(ClientError) as refused:
        cloudwatch.get_metric_data(
            StartTime=datetime(2026, 1, 2, tzinfo=timezone.utc),
            EndTime=datetime(2026, 1, 1, tzinfo=timezone.utc), MetricDataQueries=[])
    assert "EndTime must be greater" in str(refused.value)


def test_item_replication_latency_per_receiving_region(client, endpoint):
    east, tokyo = client("dynamodb", PRIMARY), client("dynamodb", SECONDARY)
    east.create_table(
        TableName="lagged", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    east.update_table(TableName="lagged", ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    set_lag(endpoint, items=0.25)
    east.put_item(TableName="lagged", Item={"id": {"S": "a"}})
    dims = {"TableName": "lagged", "ReceivingRegion": SECONDARY}
    # Published in the source region (milliseconds), not in the receiving one.
    assert latest(client("cloudwatch", PRIMARY), "AWS/DynamoDB", "ReplicationLatency", dims) == 250
    assert latest(client("cloudwatch", SECONDARY), "AWS/DynamoDB", "ReplicationLatency",
                  dims) is None
    set_lag(endpoint, items=600)
    tokyo.put_item(TableName="lagged", Item={"id": {"S": "b"}})
    back = {"TableName": "lagged", "ReceivingRegion": PRIMARY}
    assert latest(client("cloudwatch", SECONDARY), "AWS/DynamoDB", "ReplicationLatency",
                  back) == 600_000
    # A table that is not global replicates nowhere: no datapoint.
    east.create_table(
        TableName="alone", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    east.put_item(TableName="alone", Item={"id": {"S": "a"}})
    assert latest(client("cloudwatch", PRIMARY), "AWS/DynamoDB", "ReplicationLatency",
                  {"TableName": "alone", "ReceivingRegion": SECONDARY}) is None
    set_lag(endpoint, items=0.5)


def bucket(s3, name, region):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def test_object_replication_metrics_under_rtc(client, endpoint):
    s3 = client("s3", PRIMARY)
    bucket(s3, "m-src", "eu-west-1")
    bucket(s3, "m-dst", "ap-northeast-1")
    rule = {"ID": "r1", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": "arn:aws:s3:::m-dst",
                            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}}
    # S3 replicates as the rule's role: one that may read the source and write the destination.
    role = replication_role(client, "m-replication", "m-src", "m-dst")
    s3.put_bucket_replication(Bucket="m-src", ReplicationConfiguration={
        "Role": role, "Rules": [rule]})
    dims = {"SourceBucket": "m-src", "DestinationBucket": "m-dst", "RuleId": "r1"}
    cloudwatch = client("cloudwatch", "eu-west-1")
    set_lag(endpoint, objects=0)
    s3.put_object(Bucket="m-src", Key="k", Body=b"x")
    assert latest(cloudwatch, "AWS/S3", "ReplicationLatency", dims) == 0
    assert latest(cloudwatch, "AWS/S3", "OperationsPendingReplication", dims) == 0
    # Stalled: past S3 RTC's 15 minutes, and the objects held back are pending.
    set_lag(endpoint, objects=1200)
    s3.put_object(Bucket="m-src", Key="k2", Body=b"x")
    s3.put_object(Bucket="m-src", Key="k3", Body=b"x")
    assert latest(cloudwatch, "AWS/S3", "ReplicationLatency", dims) == 1200
    assert latest(cloudwatch, "AWS/S3", "OperationsPendingReplication", dims) == 2
    assert latest(cloudwatch, "AWS/S3", "OperationsFailedReplication", dims, "Sum") == 0
    set_lag(endpoint, objects=15)
    # A destination that is not versioned fails the replication, and it is counted.
    bucket(s3, "f-src", "eu-west-1")
    s3.create_bucket(Bucket="f-dst", CreateBucketConfiguration={
        "LocationConstraint": "ap-northeast-1"})
    s3.put_bucket_replication(Bucket="f-src", ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/r",
        "Rules": [{**rule, "Destination": {**rule["Destination"], "Bucket": "arn:aws:s3:::f-dst"}}]})
    s3.put_object(Bucket="f-src", Key="k", Body=b"x")
    failed = {"SourceBucket": "f-src", "DestinationBucket": "f-dst", "RuleId": "r1"}
    assert latest(cloudwatch, "AWS/S3", "OperationsFailedReplication", failed, "Sum") == 1


def test_the_lag_is_per_account_and_refuses_nonsense(endpoint):
    assert set_lag(endpoint, account="111122223333", items=9)["items"] == 9
    assert set_lag(endpoint, account="444455556666")["items"] != 9
    for bad in ({"items": -1}, {"items": "slow"}, {"bytes": 3}):
        with pytest.raises(urllib.error.HTTPError) as refused:
            set_lag(endpoint, **bad)
        assert refused.value.code == 400
