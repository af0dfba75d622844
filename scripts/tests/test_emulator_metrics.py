"""The emulator's replication metrics (scripts/emulator_metrics.py), read through CloudWatch's own
GetMetricData in the protocol AWS's SDKs speak to it today (Smithy RPC v2 CBOR), and its lag
control's refusals."""
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import REPO
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


def state(cloudwatch, name):
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


def test_alarms_are_evaluated_on_the_published_metrics(client):
    cloudwatch = client("cloudwatch", "eu-west-2")
    dims = [{"Name": "TableName", "Value": "t"}, {"Name": "ReceivingRegion", "Value": "x-1"}]
    common = {"Namespace": "AWS/DynamoDB", "MetricName": "ReplicationLatency",
              "Dimensions": dims, "Statistic": "Average", "Period": 60,
              "EvaluationPeriods": 1, "Threshold": 5000,
              "ComparisonOperator": "GreaterThanThreshold"}
    # No datapoint yet: INSUFFICIENT_DATA by default, OK where missing data is not a breach.
    cloudwatch.put_metric_alarm(AlarmName="missing", **common)
    cloudwatch.put_metric_alarm(AlarmName="quiet", TreatMissingData="notBreaching", **common)
    assert state(cloudwatch, "missing") == "INSUFFICIENT_DATA"
    assert state(cloudwatch, "quiet") == "OK"

    def publish(value, dimensions=dims):
        cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=[
            {"MetricName": "ReplicationLatency", "Value": value, "Unit": "Milliseconds",
             "Dimensions": dimensions}])

    # Another table's latency is not this alarm's metric.
    publish(60000, [{"Name": "TableName", "Value": "other"}, dims[1]])
    assert state(cloudwatch, "quiet") == "OK"
    publish(200)
    assert state(cloudwatch, "missing") == "OK"
    # The period's average past the threshold: ALARM, and back once it is under it.
    publish(20000)
    assert state(cloudwatch, "quiet") == "ALARM"
    assert state(cloudwatch, "missing") == "ALARM"
    for _ in range(10):
        publish(100)
    assert state(cloudwatch, "quiet") == "OK"
    # An update keeps the state; the next evaluation decides it.
    cloudwatch.put_metric_alarm(AlarmName="quiet", TreatMissingData="notBreaching",
                                **{**common, "Threshold": 1000})
    assert state(cloudwatch, "quiet") == "ALARM"


def test_the_alarms_template_makes_topic_subscriptions_and_alarms(client, endpoint):
    template = (REPO / "templates/alarms.yaml").read_text()
    cfn = client("cloudformation", "eu-west-1")
    params = {"AppName": "al", "PrimaryRegion": "eu-west-1", "SecondaryRegion": "ap-northeast-1",
              "NotifyEmails": "ops@example.test,oncall@example.test"}
    cfn.create_stack(StackName="mraa-al-alarms", TemplateBody=template, Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in
               cfn.describe_stacks(StackName="mraa-al-alarms")["Stacks"][0]["Outputs"]}
    sns = client("sns", "eu-west-1")
    topic = outputs["TopicArn"]
    assert topic.startswith("arn:aws:sns:eu-west-1:") and topic.endswith(":mraa-al-alarms")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Endpoint"] for s in listed) == ["oncall@example.test", "ops@example.test"]
    # Nobody followed AWS's confirmation link: both wake no one yet.
    assert {s["SubscriptionArn"] for s in listed} == {"PendingConfirmation"}
    cloudwatch = client("cloudwatch", "eu-west-1")
    names = outputs["AlarmNames"].split(",")
    alarms = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted([
        "mraa-al-items-comments-to-ap-northeast-1", "mraa-al-items-app-config-to-ap-northeast-1",
        "mraa-al-objects-latency", "mraa-al-objects-failed"])
    assert all(a["AlarmActions"] == [topic] for a in alarms)
    # Objects past RTC's 15 minutes put the latency alarm in ALARM.
    account = topic.split(":")[4]
    cloudwatch.put_metric_data(Namespace="AWS/S3", MetricData=[
        {"MetricName": "ReplicationLatency", "Value": 1200, "Unit": "Seconds", "Dimensions": [
            {"Name": "SourceBucket", "Value": f"mraa-al-objects-{account}-eu-west-1"},
            {"Name": "DestinationBucket", "Value": f"mraa-al-objects-{account}-ap-northeast-1"},
            {"Name": "RuleId", "Value": "mraa-primary-to-secondary"}]}])
    assert state(cloudwatch, "mraa-al-objects-latency") == "ALARM"
    assert state(cloudwatch, "mraa-al-objects-failed") == "OK"
    cfn.delete_stack(StackName="mraa-al-alarms")
    assert cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    assert not any(t["TopicArn"] == topic for t in sns.list_topics()["Topics"])
    assert not any(s["TopicArn"] == topic for s in sns.list_subscriptions()["Subscriptions"])


def test_an_alarm_may_not_notify_a_topic_of_another_region(client):
    template = (REPO / "templates/alarms.yaml").read_text()
    cfn = client("cloudformation", "eu-west-1")
    params = {"AppName": "ax", "PrimaryRegion": "eu-west-1", "SecondaryRegion": "ap-northeast-1",
              "PrimaryTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
              "SecondaryTopicArn": "arn:aws:sns:ap-northeast-1:123456789012:ops"}
    with pytest.raises(ClientError, match="Invalid region us-east-1 specified"):
        cfn.create_stack(StackName="mraa-ax-alarms", TemplateBody=template, Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
