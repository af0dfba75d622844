"""frontend/{post_auth,pre_auth,user_import}.py: user replication from the primary pool to the secondary."""
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import PRIMARY, SECONDARY, FakeContext, load_source

USERS = "mraa-demo-users"
IMPORTED, ATTEMPTS, ERROR = f"imported_{SECONDARY}", f"import_attempts_{SECONDARY}", f"import_error_{SECONDARY}"


def create_users_table(region):
    ddb = boto3.client("dynamodb", region_name=region)
    ddb.create_table(TableName=USERS, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}])
    return ddb


def user_item(ddb, username):
    return ddb.get_item(TableName=USERS, Key={"username": {"S": username}}, ConsistentRead=True).get("Item")


def trigger_event(source, username, attributes=None, pool="us-east-1_Primary"):
    """A Cognito user-pool trigger event (post- or pre-authentication)."""
    return {"version": "1", "triggerSource": source, "region": PRIMARY, "userPoolId": pool,
            "userName": username, "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": "web"},
            "request": {"userAttributes": attributes if attributes is not None else {}, "newDeviceUsed": False},
            "response": {}}


ALICE = {"sub": "0f1e2d3c-aaaa-bbbb-cccc-123456789012", "email_verified": "true",
         "cognito:user_status": "CONFIRMED", "cognito:email_alias": "alice@example.com",
         "email": "alice@example.com", "name": "Alice"}


# ---- post-authentication (primary) -------------------------------------------------------

@pytest.fixture
def post_auth(aws, aws_env):
    aws_env.setenv("USERS_TABLE", USERS)
    return load_source("frontend/post_auth.py")


def test_post_auth_records_the_user(post_auth):
    ddb = create_users_table(PRIMARY)
    event = trigger_event("PostAuthentication_Authentication", "alice", ALICE)
    assert post_auth.handler(event, None) is event  # Cognito needs the event back
    stored = user_item(ddb, "alice")
    assert stored["attributes"] == {"M": {k: {"S": v} for k, v in ALICE.items()}}
    assert stored["userPoolId"] == {"S": "us-east-1_Primary"}
    assert stored["sourceRegion"] == {"S": PRIMARY}
    assert stored["createdAt"] == stored["updatedAt"]


def test_post_auth_is_idempotent(post_auth):
    ddb = create_users_table(PRIMARY)
    post_auth.handler(trigger_event("PostAuthentication_Authentication", "alice", ALICE), None)
    first = user_item(ddb, "alice")
    # the import in the secondary marks the (replicated) item; a later sign-in must keep that
    ddb.update_item(TableName=USERS, Key={"username": {"S": "alice"}}, UpdateExpression="SET #i = :t",
                    ExpressionAttributeNames={"#i": IMPORTED}, ExpressionAttributeValues={":t": {"S": "then"}})
    first["createdAt"] = {"S": "2020-06-01T00:00:00+00:00"}
    ddb.update_item(TableName=USERS, Key={"username": {"S": "alice"}}, UpdateExpression="SET createdAt = :c",
                    ExpressionAttributeValues={":c": first["createdAt"]})
    renamed = dict(ALICE, name="Alice Liddell")
    for _ in range(2):
        post_auth.handler(trigger_event("PostAuthentication_Authentication", "alice", renamed), None)
    items = ddb.scan(TableName=USERS)["Items"]
    assert len(items) == 1
    again = items[0]
    assert again["createdAt"] == {"S": "2020-06-01T00:00:00+00:00"}
    assert again[IMPORTED] == {"S": "then"}
    assert again["attributes"]["M"]["name"] == {"S": "Alice Liddell"}


def test_post_auth_without_user_name_writes_nothing(post_auth):
    ddb = create_users_table(PRIMARY)
    event = trigger_event("PostAuthentication_Authentication", "", ALICE)
    assert post_auth.handler(event, None) is event
    assert post_auth.handler({}, None) == {}
    assert ddb.scan(TableName=USERS)["Count"] == 0


def test_post_auth_without_attributes(post_auth):
    # A trigger event without request.userAttributes (no claims to copy): the user is still recorded.
    ddb = create_users_table(PRIMARY)
    event = {"userName": "bob", "userPoolId": "us-east-1_Primary"}
    assert post_auth.handler(event, None) is event
    assert user_item(ddb, "bob")["attributes"] == {"M": {}}


def test_post_auth_stringifies_attribute_values(post_auth):
    ddb = create_users_table(PRIMARY)
    post_auth.handler(trigger_event("PostAuthentication_Authentication", "carol", {"email_verified": True, "n": 3}), None)
    assert user_item(ddb, "carol")["attributes"]["M"] == {"email_verified": {"S": "True"}, "n": {"S": "3"}}


def test_post_auth_never_blocks_a_sign_in(post_auth, capsys):
    # No table (or no permission): the sign-in goes on, the failure is logged, the next sign-in retries.
    event = trigger_event("PostAuthentication_Authentication", "alice", ALICE)
    assert post_auth.handler(event, None) is event
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["event"] == "USER_RECORD_FAILED" and log["username"] == "alice"
    assert "ResourceNotFoundException" in log["error"]


# ---- pre-authentication (secondary) ------------------------------------------------------

@pytest.fixture
def pre_auth(aws, aws_env, in_region):
    in_region(SECONDARY)
    aws_env.setenv("USERS_TABLE", USERS)
    return load_source("frontend/pre_auth.py")


def test_pre_auth_admits_replicated_users(pre_auth):
    ddb = create_users_table(SECONDARY)
    ddb.put_item(TableName=USERS, Item={"username": {"S": "alice"}, "attributes": {"M": {}}})
    event = trigger_event("PreAuthentication_Authentication", "alice")
    assert pre_auth.handler(event, None) is event


@pytest.mark.parametrize("username", ["mallory", "", None])
def test_pre_auth_refuses_unknown_users(pre_auth, username):
    create_users_table(SECONDARY)
    event = trigger_event("PreAuthentication_Authentication", username)
    with pytest.raises(Exception, match="not registered in the primary region"):
        pre_auth.handler(event, None)


def test_pre_auth_refuses_when_the_table_is_unreadable(pre_auth):
    # Fails closed: no table, no sign-in.
    with pytest.raises(ClientError):
        pre_auth.handler(trigger_event("PreAuthentication_Authentication", "alice"), None)


def test_is_replicated():
    mod = load_source("frontend/pre_auth.py")
    assert mod.is_replicated({"username": {"S": "a"}})
    assert not mod.is_replicated({}) and not mod.is_replicated({"username": {"S": ""}}) and not mod.is_replicated(None)


# ---- user import (secondary) -------------------------------------------------------------

@pytest.fixture
def secondary(aws, aws_env, in_region):
    """The secondary region: users table replica, user pool, import function variables."""
    in_region(SECONDARY)
    ddb = create_users_table(SECONDARY)
    idp = boto3.client("cognito-idp", region_name=SECONDARY)
    pool = idp.create_user_pool(PoolName="mraa-demo-users", AliasAttributes=["email"])["UserPool"]["Id"]
    aws_env.setenv("USERS_TABLE", USERS)
    aws_env.setenv("USER_POOL_ID", pool)
    aws_env.setenv("MAX_ATTEMPTS", "3")
    return ddb, idp, pool


def record(ddb, username, attributes=None, **extra):
    item = {"username": {"S": username}, "attributes": {"M": {k: {"S": v} for k, v in (attributes or {}).items()}}}
    item.update(extra)
    ddb.put_item(TableName=USERS, Item=item)


@pytest.fixture
def user_import():
    return load_source("frontend/user_import.py")


def test_import_creates_users_and_marks_them(secondary, user_import, context, capsys):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    record(ddb, "bob", {"email": "bob@example.com"})
    assert user_import.handler({}, context) == {"imported": 2, "existing": 0, "failed": 0}
    user = idp.admin_get_user(UserPoolId=pool, Username="alice")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == "alice@example.com" and attrs["name"] == "Alice" and attrs["email_verified"] == "true"
    assert attrs["sub"] != ALICE["sub"]  # sub and cognito:* are the pool's own, never copied
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # passwords are not replicated (seed 001)
    for name in ("alice", "bob"):
        item = user_item(ddb, name)
        assert IMPORTED in item and ERROR not in item
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["event"] == "USER_IMPORT"
    # next run: nothing left to do
    assert user_import.handler({}, context) == {"imported": 0, "existing": 0, "failed": 0}


def test_user_already_in_the_pool_is_marked_imported(secondary, user_import, context):
    ddb, idp, pool = secondary
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, context) == {"imported": 0, "existing": 1, "failed": 0}
    assert IMPORTED in user_item(ddb, "alice")


def test_users_imported_elsewhere_are_not_skipped(secondary, user_import, context):
    # The markers are per region: an import into another region's pool does not count here.
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE, **{"imported_eu-west-1": {"S": "then"}})
    assert user_import.handler({}, context)["imported"] == 1


def test_failed_imports_are_retried_with_a_count_then_given_up(secondary, user_import, context, aws_env):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    aws_env.setenv("USER_POOL_ID", f"{SECONDARY}_doesnotexist")
    for attempt in (1, 2, 3):
        assert user_import.handler({}, context) == {"imported": 0, "existing": 0, "failed": 1}
        item = user_item(ddb, "alice")
        assert item[ATTEMPTS] == {"N": str(attempt)}
        assert "ResourceNotFoundException" in item[ERROR]["S"] and IMPORTED not in item
    # MAX_ATTEMPTS (3) reached: given up, even once the pool is back
    aws_env.setenv("USER_POOL_ID", pool)
    assert user_import.handler({}, context) == {"imported": 0, "existing": 0, "failed": 0}
    assert user_item(ddb, "alice")[ATTEMPTS] == {"N": "3"}
    with pytest.raises(ClientError):
        idp.admin_get_user(UserPoolId=pool, Username="alice")


def test_a_retry_that_succeeds_clears_the_error(secondary, user_import, context, aws_env):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    aws_env.setenv("USER_POOL_ID", f"{SECONDARY}_doesnotexist")
    assert user_import.handler({}, context)["failed"] == 1
    aws_env.setenv("USER_POOL_ID", pool)
    assert user_import.handler({}, context) == {"imported": 1, "existing": 0, "failed": 0}
    item = user_item(ddb, "alice")
    assert IMPORTED in item and ERROR not in item and item[ATTEMPTS] == {"N": "1"}


def test_one_failure_does_not_stop_the_others(secondary, user_import, context, monkeypatch):
    ddb, _, pool = secondary
    record(ddb, "alice", ALICE)
    record(ddb, "bob", {"email": "bob@example.com"})
    real_client = boto3.client

    def client(name, *args, **kwargs):
        made = real_client(name, *args, **kwargs)
        if name == "cognito-idp":
            create = made.admin_create_user

            def admin_create_user(**kw):
                if kw["Username"] == "bob":
                    raise ClientError({"Error": {"Code": "InvalidParameterException", "Message": "bad email"}},
                                      "AdminCreateUser")
                return create(**kw)
            made.admin_create_user = admin_create_user
        return made
    monkeypatch.setattr(user_import.boto3, "client", client)
    assert user_import.handler({}, context) == {"imported": 1, "existing": 0, "failed": 1}
    assert IMPORTED in user_item(ddb, "alice")
    bob = user_item(ddb, "bob")
    assert bob[ATTEMPTS] == {"N": "1"} and "InvalidParameterException" in bob[ERROR]["S"]


def test_import_stops_before_the_lambda_times_out(secondary, user_import):
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, FakeContext(remaining_ms=5_000)) == {"imported": 0, "existing": 0, "failed": 0}
    assert IMPORTED not in user_item(ddb, "alice")


def test_import_without_a_context(secondary, user_import):
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, None)["imported"] == 1


def test_pending_users_follows_pages(user_import):
    class Pages:
        def __init__(self):
            self.calls = []

        def scan(self, **args):
            self.calls.append(args)
            if "ExclusiveStartKey" not in args:
                return {"Items": [{"username": {"S": "a"}}], "LastEvaluatedKey": {"username": {"S": "a"}}}
            return {"Items": [{"username": {"S": "b"}}]}
    ddb = Pages()
    names = [i["username"]["S"] for i in user_import.pending_users(ddb, {"TableName": USERS})]
    assert names == ["a", "b"] and ddb.calls[1]["ExclusiveStartKey"] == {"username": {"S": "a"}}


def test_writable_attributes():
    mod = load_source("frontend/user_import.py")
    attrs = {"sub": {"S": "x"}, "identities": {"S": "[]"}, "cognito:user_status": {"S": "CONFIRMED"},
             "email": {"S": "a@b"}, "name": "plain", "nothing": {"NULL": True}}
    assert mod.writable_attributes(attrs) == [{"Name": "email", "Value": "a@b"}, {"Name": "name", "Value": "plain"}]
    assert mod.writable_attributes(None) == []


def test_replication_end_to_end(aws, aws_env, in_region, context):
    """post-auth in the primary -> (global table) -> import in the secondary -> pre-auth admits."""
    aws_env.setenv("USERS_TABLE", USERS)
    primary_table = create_users_table(PRIMARY)
    load_source("frontend/post_auth.py").handler(trigger_event("PostAuthentication_Authentication", "alice", ALICE), None)
    replica = create_users_table(SECONDARY)
    for item in primary_table.scan(TableName=USERS)["Items"]:  # what global-table replication does
        replica.put_item(TableName=USERS, Item=item)
    in_region(SECONDARY)
    idp = boto3.client("cognito-idp", region_name=SECONDARY)
    pool = idp.create_user_pool(PoolName="mraa-demo-users")["UserPool"]["Id"]
    aws_env.setenv("USER_POOL_ID", pool)
    assert load_source("frontend/user_import.py").handler({}, context)["imported"] == 1
    pre_auth = load_source("frontend/pre_auth.py")
    event = trigger_event("PreAuthentication_Authentication", "alice", pool=pool)
    assert pre_auth.handler(event, None) is event
    with pytest.raises(Exception, match="not registered"):
        pre_auth.handler(trigger_event("PreAuthentication_Authentication", "created-in-console", pool=pool), None)
