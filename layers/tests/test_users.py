"""frontend/{post_auth,pre_auth,user_import}.py: user replication from the primary pool to the secondary."""
import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import PRIMARY, SECONDARY, FakeContext, load_source

USERS = "mraa-demo-users"
DONE, ATTEMPTS, ERROR = f"confirmed_{SECONDARY}", f"import_attempts_{SECONDARY}", f"import_error_{SECONDARY}"
OLD_DONE = f"imported_{SECONDARY}"  # the marker of imports that left users in FORCE_CHANGE_PASSWORD


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
                    ExpressionAttributeNames={"#i": DONE}, ExpressionAttributeValues={":t": {"S": "then"}})
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
    assert again[DONE] == {"S": "then"}
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

# The pool of templates/frontend.yaml, as far as moto models it.
POOL_SETTINGS = {
    "AliasAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
    "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                                    "RequireNumbers": True, "RequireSymbols": True}},
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
}
# Cognito's password policy; the symbols it counts are listed in the developer guide (managing-users-passwords).
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "


def meets_policy(password):
    return len(password) >= 12 and all(any(test(c) for c in password) for test in (
        str.islower, str.isupper, str.isdigit, SYMBOLS.__contains__))


@pytest.fixture
def secondary(aws, aws_env, in_region):
    """The secondary region: users table replica, user pool, import function variables."""
    in_region(SECONDARY)
    ddb = create_users_table(SECONDARY)
    idp = boto3.client("cognito-idp", region_name=SECONDARY)
    pool = idp.create_user_pool(PoolName="mraa-demo-users", **POOL_SETTINGS)["UserPool"]["Id"]
    aws_env.setenv("USERS_TABLE", USERS)
    aws_env.setenv("USER_POOL_ID", pool)
    aws_env.setenv("MAX_ATTEMPTS", "3")
    return ddb, idp, pool


def record(ddb, username, attributes=None, **extra):
    item = {"username": {"S": username}, "attributes": {"M": {k: {"S": v} for k, v in (attributes or {}).items()}}}
    item.update(extra)
    ddb.put_item(TableName=USERS, Item=item)


def counts(**some):
    return {"imported": 0, "repaired": 0, "existing": 0, "failed": 0, **some}


def pool_user(idp, pool, username):
    """(status, attributes) of a user of the pool."""
    user = idp.admin_get_user(UserPoolId=pool, Username=username)
    return user["UserStatus"], {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def web_client(idp, pool):
    """The site's app client (templates/frontend.yaml UserPoolClient: USER_PASSWORD_AUTH, no secret)."""
    return idp.create_user_pool_client(UserPoolId=pool, ClientName="web", GenerateSecret=False,
                                       ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                                       )["UserPoolClient"]["ClientId"]


def sign_in(idp, client, username, password):
    return idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def reset_password(idp, pool, client, username, new_password):
    """The site's "Forgot your password?" flow: ForgotPassword, the emailed code, ConfirmForgotPassword.

    moto checks neither precondition Cognito has, so they are asserted first: a reset code goes only
    to a verified email or phone (docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/
    API_ForgotPassword.html), and a user in FORCE_CHANGE_PASSWORD gets none
    (repost.aws/knowledge-center/cognito-forgot-password). moto returns the code in a response
    header instead of an email, and verifies only codes that carry its prefix.
    """
    status, attrs = pool_user(idp, pool, username)
    assert status == "CONFIRMED" and attrs.get("email_verified") == "true", (status, attrs)
    sent = idp.forgot_password(ClientId=client, Username=username)
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = sent["ResponseMetadata"]["HTTPHeaders"]["x-moto-forgot-password-confirmation-code"]
    with pytest.raises(ClientError, match="ExpiredCodeException"):
        idp.confirm_forgot_password(ClientId=client, Username=username, Password=new_password,
                                    ConfirmationCode="moto-confirmation-code:wrong")
    idp.confirm_forgot_password(ClientId=client, Username=username, Password=new_password, ConfirmationCode=code)


def break_operation(monkeypatch, module, operation, fails):
    """Makes the Cognito client of `module` raise for `operation` while fails(kwargs) is true."""
    real_client = boto3.client

    def client(name, *args, **kwargs):
        made = real_client(name, *args, **kwargs)
        if name == "cognito-idp":
            real = getattr(made, operation)

            def broken(**kw):
                if fails(kw):
                    raise ClientError({"Error": {"Code": "InternalErrorException", "Message": "broken"}}, operation)
                return real(**kw)
            setattr(made, operation, broken)
        return made
    monkeypatch.setattr(module.boto3, "client", client)


@pytest.fixture
def user_import():
    return load_source("frontend/user_import.py")


def test_import_creates_confirmed_users_with_a_verified_email(secondary, user_import, context, capsys):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    record(ddb, "bob", {"email": "bob@example.com", "email_verified": "false"})
    assert user_import.handler({}, context) == counts(imported=2)
    status, attrs = pool_user(idp, pool, "alice")
    assert attrs["email"] == "alice@example.com" and attrs["name"] == "Alice" and attrs["email_verified"] == "true"
    assert attrs["sub"] != ALICE["sub"]  # sub and cognito:* are the pool's own, never copied
    # a password nobody knows, not a temporary one: ForgotPassword works in CONFIRMED only
    assert status == "CONFIRMED"
    status, attrs = pool_user(idp, pool, "bob")
    assert status == "CONFIRMED" and attrs["email_verified"] == "true"  # "false" in the primary's record
    for name in ("alice", "bob"):
        item = user_item(ddb, name)
        assert DONE in item and ERROR not in item
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"event": "USER_IMPORT", **counts(imported=2)}
    # next run: nothing left to do
    assert user_import.handler({}, context) == counts()


def test_an_imported_user_resets_the_password_by_email_then_signs_in(secondary, user_import, context):
    ddb, idp, pool = secondary
    client = web_client(idp, pool)
    record(ddb, "alice", ALICE)
    user_import.handler({}, context)
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        sign_in(idp, client, "alice", "Correct-Horse-42!")  # the primary's password is not here
    reset_password(idp, pool, client, "alice", "Brand-New-Pass-7?")
    out = sign_in(idp, client, "alice", "Brand-New-Pass-7?")
    assert "ChallengeName" not in out and out["AuthenticationResult"]["IdToken"]


def test_users_imported_in_force_change_password_are_repaired(secondary, user_import, context):
    # Imported before with AdminCreateUser alone: a temporary password nobody was told, no reset possible.
    ddb, idp, pool = secondary
    client = web_client(idp, pool)
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "old@example.com"}])
    record(ddb, "alice", ALICE, **{OLD_DONE: {"S": "then"}})
    assert pool_user(idp, pool, "alice")[0] == "FORCE_CHANGE_PASSWORD"
    assert user_import.handler({}, context) == counts(repaired=1)
    status, attrs = pool_user(idp, pool, "alice")
    assert status == "CONFIRMED" and attrs["email"] == "alice@example.com" and attrs["email_verified"] == "true"
    assert DONE in user_item(ddb, "alice")
    reset_password(idp, pool, client, "alice", "Brand-New-Pass-7?")
    assert sign_in(idp, client, "alice", "Brand-New-Pass-7?")["AuthenticationResult"]["IdToken"]
    assert user_import.handler({}, context) == counts()


def test_a_user_with_a_password_of_their_own_is_left_alone(secondary, user_import, context):
    ddb, idp, pool = secondary
    client = web_client(idp, pool)
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Chosen-Pass-123!", Permanent=True)
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, context) == counts(existing=1)
    assert DONE in user_item(ddb, "alice")
    assert sign_in(idp, client, "alice", "Chosen-Pass-123!")["AuthenticationResult"]["IdToken"]


def test_users_imported_elsewhere_are_not_skipped(secondary, user_import, context):
    # The markers are per region: an import into another region's pool does not count here.
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE, **{"confirmed_eu-west-1": {"S": "then"}})
    assert user_import.handler({}, context)["imported"] == 1


def test_failed_imports_are_retried_with_a_count_then_given_up(secondary, user_import, context, aws_env):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    aws_env.setenv("USER_POOL_ID", f"{SECONDARY}_doesnotexist")
    for attempt in (1, 2, 3):
        assert user_import.handler({}, context) == counts(failed=1)
        item = user_item(ddb, "alice")
        assert item[ATTEMPTS] == {"N": str(attempt)}
        assert "ResourceNotFoundException" in item[ERROR]["S"] and DONE not in item
    # MAX_ATTEMPTS (3) reached: given up, even once the pool is back
    aws_env.setenv("USER_POOL_ID", pool)
    assert user_import.handler({}, context) == counts()
    assert user_item(ddb, "alice")[ATTEMPTS] == {"N": "3"}
    with pytest.raises(ClientError):
        idp.admin_get_user(UserPoolId=pool, Username="alice")


def test_a_retry_that_succeeds_clears_the_error(secondary, user_import, context, aws_env):
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    aws_env.setenv("USER_POOL_ID", f"{SECONDARY}_doesnotexist")
    assert user_import.handler({}, context)["failed"] == 1
    aws_env.setenv("USER_POOL_ID", pool)
    assert user_import.handler({}, context) == counts(imported=1)
    item = user_item(ddb, "alice")
    assert DONE in item and ERROR not in item and item[ATTEMPTS] == {"N": "1"}


def test_a_user_created_without_a_password_is_repaired_by_the_next_run(secondary, user_import, context, monkeypatch):
    # AdminCreateUser went through, AdminSetUserPassword did not: the attempt counts, the next run repairs.
    ddb, idp, pool = secondary
    record(ddb, "alice", ALICE)
    failing = [True]
    break_operation(monkeypatch, user_import, "admin_set_user_password", lambda kw: failing[0])
    assert user_import.handler({}, context) == counts(failed=1)
    assert pool_user(idp, pool, "alice")[0] == "FORCE_CHANGE_PASSWORD"
    assert "InternalErrorException" in user_item(ddb, "alice")[ERROR]["S"]
    failing[0] = False
    assert user_import.handler({}, context) == counts(repaired=1)
    assert pool_user(idp, pool, "alice")[0] == "CONFIRMED"
    item = user_item(ddb, "alice")
    assert DONE in item and ERROR not in item and item[ATTEMPTS] == {"N": "1"}


def test_one_failure_does_not_stop_the_others(secondary, user_import, context, monkeypatch):
    ddb, _, pool = secondary
    record(ddb, "alice", ALICE)
    record(ddb, "bob", {"email": "bob@example.com"})
    break_operation(monkeypatch, user_import, "admin_create_user", lambda kw: kw["Username"] == "bob")
    assert user_import.handler({}, context) == counts(imported=1, failed=1)
    assert DONE in user_item(ddb, "alice")
    bob = user_item(ddb, "bob")
    assert bob[ATTEMPTS] == {"N": "1"} and "InternalErrorException" in bob[ERROR]["S"]


def test_passwords_are_never_logged_or_stored(secondary, user_import, context, aws_env, monkeypatch, capsys, caplog):
    caplog.set_level(logging.INFO)  # more than Lambda's default
    ddb, idp, pool = secondary
    made = []
    real = user_import.random_password
    monkeypatch.setattr(user_import, "random_password", lambda: made.append(real()) or made[-1])
    record(ddb, "alice", ALICE)
    record(ddb, "bob", {"email": "bob@example.com"})
    results = [user_import.handler({}, context)]
    # a pool whose policy refuses the password: the failure is recorded, the password is not
    strict = idp.create_user_pool(PoolName="strict", **dict(
        POOL_SETTINGS, Policies={"PasswordPolicy": {"MinimumLength": 64}}))["UserPool"]["Id"]
    aws_env.setenv("USER_POOL_ID", strict)
    record(ddb, "carol", {"email": "carol@example.com"})
    results.append(user_import.handler({}, context))
    assert results == [counts(imported=2), counts(failed=1)]
    assert "InvalidPasswordException" in user_item(ddb, "carol")[ERROR]["S"]
    assert len(made) == 3 and len(set(made)) == 3
    captured = capsys.readouterr()
    stored = json.dumps(ddb.scan(TableName=USERS)["Items"])
    for secret in made:
        for where in (captured.out, captured.err, caplog.text, stored, json.dumps(results)):
            assert secret not in where


def test_random_passwords_meet_the_pool_policy(user_import):
    passwords = [user_import.random_password() for _ in range(200)]
    assert [p for p in passwords if not meets_policy(p)] == []
    assert len(set(passwords)) == 200 and min(map(len, passwords)) >= 32


def test_import_stops_before_the_lambda_times_out(secondary, user_import):
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, FakeContext(remaining_ms=5_000)) == counts()
    assert DONE not in user_item(ddb, "alice")


def test_import_without_a_context(secondary, user_import):
    ddb, _, _ = secondary
    record(ddb, "alice", ALICE)
    assert user_import.handler({}, None)["imported"] == 1


def test_pending_users_follows_pages(secondary, user_import):
    ddb, _, _ = secondary
    for name in ("a", "b", "c"):
        record(ddb, name)
    names = sorted(i["username"]["S"] for i in user_import.pending_users(ddb, TableName=USERS, Limit=1))
    assert names == ["a", "b", "c"]


def test_writable_attributes():
    mod = load_source("frontend/user_import.py")
    attrs = {"sub": {"S": "x"}, "identities": {"S": "[]"}, "cognito:user_status": {"S": "CONFIRMED"},
             "email": {"S": "a@b"}, "email_verified": {"S": "false"}, "name": "plain", "nothing": {"NULL": True}}
    assert mod.writable_attributes(attrs) == [{"Name": "email", "Value": "a@b"}, {"Name": "email_verified", "Value": "true"},
                                              {"Name": "name", "Value": "plain"}]
    assert mod.writable_attributes({"name": {"S": "no email"}}) == [{"Name": "name", "Value": "no email"}]
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
