"""application/photos.py: photo list with presigned GETs, presigned PUTs only while active, in the
primary (active-passive) or in any Region not drained (active-active), into that Region's bucket."""
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

from conftest import OTHER, PRIMARY, SECONDARY, load_source

APP_TABLE = "mraa-demo-app-config"
KEY_RE = re.compile(r"^photos/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.(jpg|jpeg|png|gif|webp)$")


def bucket_name(region):
    return f"mraa-demo-objects-123456789012-{region}"


@pytest.fixture
def deploy(aws, aws_env, in_region):
    """One region of the application layer: objects bucket, app-config table, function variables."""
    def make(region=PRIMARY, state="active", mode=None, drained=()):
        in_region(region)
        s3 = boto3.client("s3", region_name=region)
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket_name(region), **kwargs)
        ddb = boto3.client("dynamodb", region_name=region)
        ddb.create_table(TableName=APP_TABLE, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "appId", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "appId", "KeyType": "HASH"}])
        if state is not None:
            item = {"appId": {"S": "demo"}, "state": {"S": state}}
            if drained:
                item["drained"] = {"SS": list(drained)}  # a string set, absent when empty
            ddb.put_item(TableName=APP_TABLE, Item=item)
        for key, value in {"BUCKET_NAME": bucket_name(region), "APP_CONFIG_TABLE": APP_TABLE, "APP_ID": "demo",
                           "PRIMARY_REGION": PRIMARY, "SECONDARY_REGION": SECONDARY, "URL_TTL": "900"}.items():
            aws_env.setenv(key, value)
        if mode:
            aws_env.setenv("APP_MODE", mode)
        return load_source("application/photos.py"), s3, ddb
    return make


def proxy_event(method, body=None, claims=True):
    """An API Gateway REST proxy event as the Cognito authorizer passes it on."""
    event = {"resource": "/photos", "path": "/photos", "httpMethod": method, "headers": {},
             "body": body, "isBase64Encoded": False, "requestContext": {"stage": "prod"}}
    if claims:
        event["requestContext"]["authorizer"] = {"claims": {"cognito:username": "alice", "email": "alice@example.com"}}
    return event


def call(fn, method, body=None, **kw):
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    out = fn.handler(proxy_event(method, raw, **kw), None)
    return out["statusCode"], (json.loads(out["body"]) if out["body"] else None), out["headers"]


def test_empty_bucket_lists_no_photos(deploy):
    fn, _, _ = deploy()
    assert call(fn, "GET")[:2] == (200, {"photos": []})


def test_list_has_presigned_get_urls_newest_first(deploy):
    fn, s3, _ = deploy()
    bucket = bucket_name(PRIMARY)
    s3.put_object(Bucket=bucket, Key="photos/old.png", Body=b"old", ContentType="image/png")
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    s3.put_object(Bucket=bucket, Key="photos/new.jpg", Body=b"new", ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="photos/", Body=b"")            # a "folder" marker
    s3.put_object(Bucket=bucket, Key="other/secret.png", Body=b"x")  # outside the prefix
    status, body, headers = call(fn, "GET")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert [p["key"] for p in body["photos"]] == ["photos/new.jpg", "photos/old.png"]
    for photo, content in zip(body["photos"], [b"new", b"old"]):
        assert set(photo) == {"key", "size", "lastModified", "url"}
        assert photo["size"] == len(content)
        url = urlparse(photo["url"])
        query = parse_qs(url.query)
        assert url.scheme == "https" and url.hostname.startswith(bucket + ".")
        assert url.path == "/" + photo["key"]
        assert query["X-Amz-Expires"] == ["900"] and "X-Amz-Signature" in query
        assert requests.get(photo["url"], timeout=5).content == content  # the URL really works


def test_list_in_the_secondary_region_reads_its_own_bucket(deploy):
    fn, s3, _ = deploy(SECONDARY, state="failover")
    s3.put_object(Bucket=bucket_name(SECONDARY), Key="photos/replicated.png", Body=b"r")
    status, body, _ = call(fn, "GET")
    assert status == 200 and [p["key"] for p in body["photos"]] == ["photos/replicated.png"]
    assert f"/{SECONDARY}/" in body["photos"][0]["url"] or SECONDARY in urlparse(body["photos"][0]["url"]).hostname


def test_upload_url_while_active_in_the_primary(deploy):
    fn, s3, _ = deploy()
    status, body, _ = call(fn, "POST", {"filename": "Holiday Photo.PNG"})
    assert status == 201
    assert KEY_RE.match(body["key"]) and body["key"].endswith(".png")
    assert body["contentType"] == "image/png" and body["expiresIn"] == 900
    query = parse_qs(urlparse(body["uploadUrl"]).query)
    assert "content-type" in query["X-Amz-SignedHeaders"][0].split(";")
    # The browser PUTs the file to the presigned URL: the object appears under the server's key.
    put = requests.put(body["uploadUrl"], data=b"\x89PNG...", headers={"Content-Type": "image/png"}, timeout=5)
    assert put.status_code == 200
    obj = s3.get_object(Bucket=bucket_name(PRIMARY), Key=body["key"])
    assert obj["Body"].read() == b"\x89PNG..." and obj["ContentType"] == "image/png"


def test_keys_are_generated_by_the_server(deploy):
    fn, _, _ = deploy()
    keys = set()
    for name in ["../../etc/passwd.jpg", "photos/other-users-photo.jpg", "a.jpeg", "x.webp", "y.GIF"]:
        status, body, _ = call(fn, "POST", {"filename": name, "key": "photos/chosen.jpg"})
        assert status == 201 and KEY_RE.match(body["key"]), body
        keys.add(body["key"])
    assert len(keys) == 5


@pytest.mark.parametrize("body, ext, ctype", [
    ({"contentType": "image/jpeg"}, "jpg", "image/jpeg"),
    ({"contentType": "IMAGE/WEBP"}, "webp", "image/webp"),
    ({"filename": "no-extension", "contentType": "image/gif"}, "gif", "image/gif"),
    ({"filename": "photo.jpeg", "contentType": "text/plain"}, "jpeg", "image/jpeg"),
])
def test_type_from_filename_or_content_type(deploy, body, ext, ctype):
    fn, _, _ = deploy()
    status, out, _ = call(fn, "POST", body)
    assert status == 201 and out["key"].endswith("." + ext) and out["contentType"] == ctype


@pytest.mark.parametrize("state, message", [
    ("fenced", "uploads are disabled while the application is fenced"),
    ("failover", "uploads are disabled while the application is failover"),
    (None, "uploads are disabled while the application is unknown"),
])
def test_no_upload_url_unless_active(deploy, state, message):
    fn, s3, _ = deploy(state=state)
    status, body, headers = call(fn, "POST", {"filename": "a.png"})
    assert (status, body) == (409, {"message": message})
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert s3.list_objects_v2(Bucket=bucket_name(PRIMARY)).get("KeyCount") == 0


@pytest.mark.parametrize("state", ["active", "failover", "fenced"])
def test_no_upload_url_in_the_secondary(deploy, state):
    fn, _, _ = deploy(SECONDARY, state=state)
    status, body, _ = call(fn, "POST", {"filename": "a.png"})
    assert status == 409
    if state == "active":
        assert body == {"message": f"uploads go to the primary region {PRIMARY}"}


@pytest.mark.parametrize("raw", [
    "{not json", "[1, 2]", "null", '"a.png"', "42",
])
def test_body_must_be_a_json_object(deploy, raw):
    fn, _, _ = deploy()
    assert call(fn, "POST", raw)[:2] == (400, {"message": "body must be a JSON object"})


@pytest.mark.parametrize("body", [
    {}, {"filename": "notes.txt"}, {"filename": "evil.svg"}, {"filename": "script.png.exe"},
    {"contentType": "image/svg+xml"}, {"filename": 42}, {"contentType": ["image/png"]},
])
def test_only_images_are_accepted(deploy, body):
    fn, _, _ = deploy()
    assert call(fn, "POST", body)[:2] == (400, {"message": "not a jpg, png, gif or webp image"})


def test_bad_type_is_refused_before_the_state_is_read(deploy):
    fn, _, _ = deploy(state="fenced")
    assert call(fn, "POST", {"filename": "a.txt"})[0] == 400


def test_empty_post_body(deploy):
    fn, _, _ = deploy()
    assert call(fn, "POST", None)[:2] == (400, {"message": "not a jpg, png, gif or webp image"})


def test_preflight_and_other_methods(deploy, aws_env):
    aws_env.setenv("ALLOWED_ORIGIN", "https://d111.cloudfront.net")
    fn, _, _ = deploy()
    status, body, headers = call(fn, "OPTIONS", claims=False)
    assert (status, body) == (204, None)
    assert headers["Access-Control-Allow-Origin"] == "https://d111.cloudfront.net"
    assert headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert set(headers["Access-Control-Allow-Methods"].split(",")) == {"GET", "POST", "OPTIONS"}
    for method in ["PUT", "DELETE", ""]:
        status, body, _ = call(fn, method)
        assert status == 405 and "not allowed" in body["message"]


def test_missing_claims_do_not_matter_to_the_function(deploy):
    # Token checks (signature, expiry) are API Gateway's Cognito authorizer's job: an expired
    # or missing token never reaches the function. The function itself reads no claims, so an
    # event without requestContext.authorizer is handled exactly like one with claims.
    fn, _, _ = deploy()
    assert call(fn, "GET", claims=False)[:2] == call(fn, "GET")[:2]
    status, body, _ = call(fn, "POST", {"filename": "a.png"}, claims=False)
    assert status == 201 and KEY_RE.match(body["key"])
    event = {"httpMethod": "GET"}  # nothing but the method
    assert fn.handler(event, None)["statusCode"] == 200


def test_unreadable_state_fails_the_upload_request(deploy, aws_env):
    fn, _, _ = deploy()
    aws_env.setenv("APP_CONFIG_TABLE", "mraa-demo-missing")
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        call(fn, "POST", {"filename": "a.png"})  # API Gateway answers 502: no upload without a known state


# ---- active-active: uploads in every Region not drained, into that Region's own bucket ---------

@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
def test_active_active_upload_goes_to_this_regions_bucket(deploy, region):
    fn, s3, _ = deploy(region, mode="active-active", drained=[OTHER[region]])
    status, body, _ = call(fn, "POST", {"filename": "a.png"})
    assert status == 201 and KEY_RE.match(body["key"])
    url = urlparse(body["uploadUrl"])
    assert url.hostname.startswith(bucket_name(region) + ".")
    put = requests.put(body["uploadUrl"], data=b"png", headers={"Content-Type": "image/png"}, timeout=5)
    assert put.status_code == 200
    assert s3.get_object(Bucket=bucket_name(region), Key=body["key"])["Body"].read() == b"png"


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
@pytest.mark.parametrize("state, drained, message", [
    ("active", ("self",), "region {r} is drained: use {o}"),
    ("fenced", (), "uploads are disabled while the application is fenced"),
    ("fenced", ("self",), "uploads are disabled while the application is fenced"),
    (None, (), "uploads are disabled while the application is unknown"),
])
def test_active_active_refusals(deploy, region, state, drained, message):
    names = {"self": region, "other": OTHER[region]}
    fn, s3, _ = deploy(region, state=state, mode="active-active", drained=[names[d] for d in drained])
    status, body, _ = call(fn, "POST", {"filename": "a.png"})
    assert (status, body) == (409, {"message": message.format(r=region, o=OTHER[region])})
    assert s3.list_objects_v2(Bucket=bucket_name(region)).get("KeyCount") == 0


@pytest.mark.parametrize("mode", [None, "active-passive"])
def test_active_passive_ignores_drained(deploy, mode):
    fn, _, _ = deploy(PRIMARY, mode=mode, drained=[PRIMARY])
    assert call(fn, "POST", {"filename": "a.png"})[0] == 201
