"""Cognito's multi-Region replication of user pools and KMS's ReplicateKey in the emulator
(scripts/emulator_cognito_replica.py), through the services' own APIs."""
import time

import pytest
from botocore.exceptions import ClientError

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
PASSWORD = "Correct-Horse-9!"


def status_of(idp, pool):
    return next(r["Status"] for r in idp.list_user_pool_replicas(UserPoolId=pool)[
        "UserPoolReplicas"] if r["Role"] == "SECONDARY")


def wait_for(idp, pool, status, within=5.0):
    """Polls until the replica reads `status` (Cognito changes it asynchronously)."""
    start = time.monotonic()
    while (now := status_of(idp, pool)) != status:
        assert time.monotonic() - start < within, f"replica still {now}, not {status}"
        time.sleep(0.05)


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def _mr_key(client, region=PRIMARY):
    return client("kms", region).create_key(MultiRegion=True)["KeyMetadata"]


def _pool(client, name, key_arn=None, tier="ESSENTIALS"):
    idp = client("cognito-idp", PRIMARY)
    extra = {"KeyConfiguration": {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": key_arn}} \
        if key_arn else {}
    pool = idp.create_user_pool(PoolName=name, UserPoolTier=tier, **extra)["UserPool"]
    app = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], app["ClientId"]


def _replicated(client, name):
    key = _mr_key(client)
    client("kms", PRIMARY).replicate_key(KeyId=key["KeyId"], ReplicaRegion=SECONDARY)
    pool, app = _pool(client, name, key["Arn"])
    created = client("cognito-idp", PRIMARY).create_user_pool_replica(
        UserPoolId=pool, RegionName=SECONDARY)["UserPoolReplica"]
    return pool, app, created


def _user(client, pool, name):
    idp = client("cognito-idp", PRIMARY)
    idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD,
                                Permanent=True)


def _sign_in(client, region, pool, app, name, password=PASSWORD):
    return client("cognito-idp", region).admin_initiate_auth(
        UserPoolId=pool, ClientId=app, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password})["AuthenticationResult"]


def test_a_primary_user_signs_in_against_the_active_replica_with_its_password(client):
    pool, app, created = _replicated(client, "shared")
    assert created["Status"] == "CREATING" and created["Role"] == "SECONDARY"
    wait_for(client("cognito-idp", PRIMARY), pool, "INACTIVE")
    assert created["UserPoolArn"].split(":")[3] == SECONDARY
    _user(client, pool, "jane")
    secondary = client("cognito-idp", SECONDARY)
    # The same pool id answers in the secondary, with the same users.
    assert secondary.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
    assert secondary.admin_get_user(UserPoolId=pool, Username="jane")["Username"] == "jane"
    # INACTIVE: no end-user requests.
    with pytest.raises(ClientError) as error:
        _sign_in(client, SECONDARY, pool, app, "jane")
    assert _code(error) == "OperationNotEnabledException"
    # Activated from the secondary alone (the primary may be down), asynchronously: it reads
    # INACTIVE and signs no one in until the change lands.
    secondary.update_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY, Status="ACTIVE")
    with pytest.raises(ClientError) as error:
        _sign_in(client, SECONDARY, pool, app, "jane")
    assert _code(error) == "OperationNotEnabledException"
    assert status_of(secondary, pool) == "INACTIVE"
    wait_for(secondary, pool, "ACTIVE")
    assert _sign_in(client, SECONDARY, pool, app, "jane")["AccessToken"]
    with pytest.raises(ClientError, match="NotAuthorized"):
        _sign_in(client, SECONDARY, pool, app, "jane", "Wrong-Password-1!")
    listed = secondary.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"]
    assert {(r["RegionName"], r["Role"], r["Status"]) for r in listed} == {
        (PRIMARY, "PRIMARY", "ACTIVE"), (SECONDARY, "SECONDARY", "ACTIVE")}


def test_the_replica_creates_and_changes_no_user(client):
    pool, app, _ = _replicated(client, "readonly")
    _user(client, pool, "joe")
    secondary = client("cognito-idp", SECONDARY)
    secondary.update_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY, Status="ACTIVE")
    wait_for(secondary, pool, "ACTIVE")
    for call in (
        lambda: secondary.admin_create_user(UserPoolId=pool, Username="new"),
        lambda: secondary.admin_set_user_password(
            UserPoolId=pool, Username="joe", Password=PASSWORD, Permanent=True),
        lambda: secondary.admin_reset_user_password(UserPoolId=pool, Username="joe"),
        lambda: secondary.update_user_pool(UserPoolId=pool, MfaConfiguration="OFF"),
        lambda: secondary.delete_user_pool(UserPoolId=pool),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "OperationNotEnabledException"
    # Regional settings are its own; the primary keeps its triggers.
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:guard"
    secondary.update_user_pool(UserPoolId=pool, LambdaConfig={"PreAuthentication": arn})
    assert secondary.describe_user_pool(UserPoolId=pool)["UserPool"]["LambdaConfig"] == {
        "PreAuthentication": arn}
    assert client("cognito-idp", PRIMARY).describe_user_pool(
        UserPoolId=pool)["UserPool"].get("LambdaConfig", {}) == {}


def test_replication_needs_a_plan_and_a_multi_region_key_in_both_regions(client):
    idp = client("cognito-idp", PRIMARY)
    plain, _ = _pool(client, "no-key")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        idp.create_user_pool_replica(UserPoolId=plain, RegionName=SECONDARY)
    key = _mr_key(client)
    unreplicated, _ = _pool(client, "key-not-replicated", key["Arn"])
    with pytest.raises(ClientError, match="InvalidParameterException"):
        idp.create_user_pool_replica(UserPoolId=unreplicated, RegionName=SECONDARY)
    lite, _ = _pool(client, "lite", key["Arn"], tier="LITE")
    with pytest.raises(ClientError) as error:
        idp.create_user_pool_replica(UserPoolId=lite, RegionName=SECONDARY)
    assert _code(error) == "FeatureUnavailableInTierException"


def test_one_replica_deleted_from_the_primary_once_inactive(client):
    pool, _, _ = _replicated(client, "deleted")
    primary, secondary = client("cognito-idp", PRIMARY), client("cognito-idp", SECONDARY)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        primary.create_user_pool_replica(UserPoolId=pool, RegionName="eu-west-1")
    # CREATING: not yet deletable ("You can only delete replicas that are in the INACTIVE
    # status", DeleteUserPoolReplica).
    with pytest.raises(ClientError, match="InvalidParameterException"):
        primary.delete_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY)
    primary.update_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY, Status="ACTIVE")
    wait_for(primary, pool, "ACTIVE")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        primary.delete_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        primary.delete_user_pool(UserPoolId=pool)  # its replica first
    secondary.update_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY, Status="INACTIVE")
    # Asked right away, the replica is still ACTIVE: the delete is refused.
    with pytest.raises(ClientError, match="InvalidParameterException"):
        primary.delete_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY)
    wait_for(primary, pool, "INACTIVE")
    with pytest.raises(ClientError, match="OperationNotEnabledException"):
        secondary.delete_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY)
    primary.delete_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        secondary.describe_user_pool(UserPoolId=pool)
    assert len(primary.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"]) == 1


def test_replicate_key_only_a_multi_region_primary_once_per_region(client):
    kms = client("kms", PRIMARY)
    single = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as error:
        kms.replicate_key(KeyId=single, ReplicaRegion=SECONDARY)
    assert _code(error) == "UnsupportedOperationException"
    key = _mr_key(client)
    kms.replicate_key(KeyId=key["KeyId"], ReplicaRegion=SECONDARY)
    with pytest.raises(ClientError) as error:
        kms.replicate_key(KeyId=key["KeyId"], ReplicaRegion=SECONDARY)
    assert _code(error) == "AlreadyExistsException"
    replica = client("kms", SECONDARY).describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert replica["Arn"].split(":")[3] == SECONDARY
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"][
        "MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_unsigned_sign_in_goes_to_its_region_or_is_refused(client, endpoint):
    pool, app, _ = _replicated(client, "unsigned")
    _user(client, pool, "ann")
    client("cognito-idp", SECONDARY).update_user_pool_replica(
        UserPoolId=pool, RegionName=SECONDARY, Status="ACTIVE")
    wait_for(client("cognito-idp", SECONDARY), pool, "ACTIVE")
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    unsigned = boto3.client("cognito-idp", region_name=SECONDARY, endpoint_url=endpoint,
                            config=Config(signature_version=UNSIGNED,
                                          retries={"max_attempts": 1}))
    # Nothing in the request names its region: refused, never answered by the primary.
    with pytest.raises(ClientError, match="cannot tell which region"):
        unsigned.initiate_auth(ClientId=app, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD})


def test_on_the_clock_a_status_change_takes_its_scaled_time(tmp_path):
    import sys

    from conftest import REPO, clients, start_emulator, stop_emulator

    sys.path.insert(0, str(REPO / "scripts"))
    import emulator_time

    scale = 60
    proc, url = start_emulator(tmp_path / "emulator.log", MRAA_EMULATOR_TIME_SCALE=str(scale))
    try:
        client = clients(url)
        key = _mr_key(client)
        client("kms", PRIMARY).replicate_key(KeyId=key["KeyId"], ReplicaRegion=SECONDARY)
        pool, _ = _pool(client, "clocked", key["Arn"])
        primary = client("cognito-idp", PRIMARY)
        # Timed from before the request: the change cannot land sooner than its duration.
        start = time.monotonic()
        created = primary.create_user_pool_replica(
            UserPoolId=pool, RegionName=SECONDARY)["UserPoolReplica"]
        assert created["Status"] == "CREATING"
        wait_for(primary, pool, "INACTIVE")
        assert time.monotonic() - start >= emulator_time.USER_POOL_REPLICA_CREATE / scale
        start = time.monotonic()
        primary.update_user_pool_replica(UserPoolId=pool, RegionName=SECONDARY, Status="ACTIVE")
        # Reads do not hurry it: it lands on the clock.
        assert status_of(primary, pool) == "INACTIVE"
        assert status_of(primary, pool) == "INACTIVE"
        wait_for(primary, pool, "ACTIVE")
        took = time.monotonic() - start
        assert took >= emulator_time.USER_POOL_REPLICA_STATUS_CHANGE / scale, took
    finally:
        stop_emulator(proc)


def test_an_attribute_change_reads_in_the_replica_after_the_users_lag(client, endpoint):
    import json
    import urllib.request

    def set_users_lag(seconds):
        urllib.request.urlopen(urllib.request.Request(
            f"{endpoint}/moto-api/mraa/replication-lag",
            data=json.dumps({"users": seconds}).encode(),
            headers={"Content-Type": "application/json"}, method="POST"), timeout=10)

    def name_in(region):
        user = client("cognito-idp", region).admin_get_user(UserPoolId=pool, Username="probe")
        return {a["Name"]: a["Value"] for a in user["UserAttributes"]}.get("name")

    pool, _, _ = _replicated(client, "attributes")
    _user(client, pool, "probe")
    primary = client("cognito-idp", PRIMARY)
    set_users_lag(0.5)
    try:
        primary.admin_update_user_attributes(UserPoolId=pool, Username="probe", UserAttributes=[
            {"Name": "name", "Value": "first"}])
        primary.admin_update_user_attributes(UserPoolId=pool, Username="probe", UserAttributes=[
            {"Name": "name", "Value": "second"}])
        # Written in the primary, read there at once; the replica reads the old directory until
        # replication has brought each change, in the order they were made.
        assert name_in(PRIMARY) == "second"
        assert name_in(SECONDARY) is None
        start = time.monotonic()
        # One read per round: reading again for the check could see the change arrive in between.
        while (seen := name_in(SECONDARY)) != "second":
            assert seen in (None, "first")
            assert time.monotonic() - start < 5, "the change never reached the replica"
            time.sleep(0.05)
        assert time.monotonic() - start >= 0.3
    finally:
        set_users_lag(0)
