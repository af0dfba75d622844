"""application/comments.py: a new comment is written only while the state is active, in the
primary (active-passive) or in any Region not drained (active-active), and the state check is
part of the write itself."""
import json

import boto3
import pytest

from conftest import OTHER, PRIMARY, SECONDARY, load_source

APP_TABLE = "mraa-demo-app-config"
COMMENTS_TABLE = "mraa-demo-comments"


@pytest.fixture
def deploy(aws, aws_env, in_region):
    """One region of the application layer: the two tables and the function's variables."""
    def make(region=PRIMARY, state="active", mode=None, drained=()):
        in_region(region)
        ddb = boto3.client("dynamodb", region_name=region)
        for table, key in [(APP_TABLE, "appId"), (COMMENTS_TABLE, "commentId")]:
            ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        if state is not None:
            ddb.put_item(TableName=APP_TABLE, Item=state_item(state, drained))
        for key, value in {"APP_CONFIG_TABLE": APP_TABLE, "COMMENTS_TABLE": COMMENTS_TABLE, "APP_ID": "demo",
                           "PRIMARY_REGION": PRIMARY, "SECONDARY_REGION": SECONDARY}.items():
            aws_env.setenv(key, value)
        if mode:
            aws_env.setenv("APP_MODE", mode)
        return load_source("application/comments.py"), ddb
    return make


def state_item(state, drained=()):
    """The app-config item: `drained` is a string set, absent when no Region is drained."""
    item = {"appId": {"S": "demo"}, "state": {"S": state}}
    if drained:
        item["drained"] = {"SS": list(drained)}
    return item


def comment_event(body, photo="photos/a.png", claims=None, request_id="req-1"):
    """POST /comments/{photoId} as API Gateway's proxy integration passes it on."""
    raw = body if isinstance(body, str) else json.dumps(body)
    context = {"stage": "prod", "requestId": request_id, "requestTimeEpoch": 1764370000000}
    if claims is not False:
        context["authorizer"] = {"claims": claims or {"cognito:username": "alice", "email": "alice@example.com"}}
    return {"resource": "/comments/{photoId}", "path": f"/comments/{photo}", "httpMethod": "POST",
            "pathParameters": {"photoId": photo}, "headers": {}, "body": raw, "isBase64Encoded": False,
            "requestContext": context}


def post_comment(fn, body, **kw):
    out = fn.handler(comment_event(body, **kw), None)
    return out["statusCode"], json.loads(out["body"])


def comments(ddb):
    return ddb.scan(TableName=COMMENTS_TABLE)["Items"]


def test_comment_is_written_while_active_in_the_primary(deploy, aws_env):
    aws_env.setenv("ALLOWED_ORIGIN", "https://d111.cloudfront.net")
    fn, ddb = deploy()
    out = fn.handler(comment_event({"text": "  Lovely light.  "}), None)
    assert out["statusCode"] == 201
    assert out["headers"]["Access-Control-Allow-Origin"] == "https://d111.cloudfront.net"
    assert json.loads(out["body"]) == {"commentId": "req-1", "photoId": "photos/a.png", "createdAt": "1764370000000"}
    assert comments(ddb) == [{"commentId": {"S": "req-1"}, "photoId": {"S": "photos/a.png"},
                              "author": {"S": "alice@example.com"}, "text": {"S": "Lovely light."},
                              "createdAt": {"S": "1764370000000"}}]


def test_comment_author_falls_back_to_the_user_name(deploy):
    fn, ddb = deploy()
    assert post_comment(fn, {"text": "hi"}, claims={"cognito:username": "bob"})[0] == 201
    assert comments(ddb)[0]["author"] == {"S": "bob"}


# Every state in both regions: only (active, primary) writes; the page is not trusted to ask.
@pytest.mark.parametrize("region, state, expected", [
    (PRIMARY, "active", None),
    (PRIMARY, "fenced", "comments are disabled while the application is fenced"),
    (PRIMARY, "failover", "comments are disabled while the application is failover"),
    (PRIMARY, None, "comments are disabled while the application is unknown"),
    (SECONDARY, "active", f"comments go to the primary region {PRIMARY}"),
    (SECONDARY, "fenced", f"comments go to the primary region {PRIMARY}"),
    (SECONDARY, "failover", f"comments go to the primary region {PRIMARY}"),
])
def test_comment_writes_follow_the_state_and_region(deploy, region, state, expected):
    fn, ddb = deploy(region, state=state)
    status, body = post_comment(fn, {"text": "hello"})
    if expected is None:
        assert status == 201 and len(comments(ddb)) == 1
    else:
        assert (status, body) == (409, {"message": expected})
        assert comments(ddb) == []


def test_state_changed_after_the_page_looked_still_refuses(deploy):
    # The page saw active; the state item moved to fenced before the write: the write's own
    # condition refuses it, not an earlier read.
    fn, ddb = deploy()
    ddb.put_item(TableName=APP_TABLE, Item={"appId": {"S": "demo"}, "state": {"S": "fenced"}})
    assert post_comment(fn, {"text": "late"})[0] == 409
    assert comments(ddb) == []


def test_a_replayed_request_id_does_not_overwrite_a_comment(deploy):
    fn, ddb = deploy()
    assert post_comment(fn, {"text": "first"})[0] == 201
    with pytest.raises(Exception, match="TransactionCanceled"):
        post_comment(fn, {"text": "second"})  # same requestId: API Gateway answers 502
    assert [c["text"]["S"] for c in comments(ddb)] == ["first"]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": 42}, {"text": "x" * 2001},
                                  "{not json", "[1]"])
def test_comment_text_is_checked(deploy, body):
    fn, ddb = deploy()
    assert post_comment(fn, body)[0] == 400
    assert comments(ddb) == []


def test_comment_needs_a_signed_in_user(deploy):
    fn, ddb = deploy()
    assert post_comment(fn, {"text": "hi"}, claims=False)[0] == 401
    assert comments(ddb) == []


def test_the_author_is_never_taken_from_the_body(deploy):
    fn, ddb = deploy()
    assert post_comment(fn, {"text": "hi", "author": "mallory@example.com"})[0] == 201
    assert comments(ddb)[0]["author"] == {"S": "alice@example.com"}


# ---- active-active: every Region not drained takes comments ------------------------------------

@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
@pytest.mark.parametrize("state, drained, expected", [
    ("active", (), None),
    ("active", ("other",), None),
    ("active", ("self",), "region {r} is drained: use {o}"),
    ("fenced", (), "comments are disabled while the application is fenced"),
    ("fenced", ("self",), "comments are disabled while the application is fenced"),
    (None, (), "comments are disabled while the application is unknown"),
])
def test_active_active_writes_in_every_region_not_drained(deploy, region, state, drained, expected):
    names = {"self": region, "other": OTHER[region]}
    fn, ddb = deploy(region, state=state, mode="active-active", drained=[names[d] for d in drained])
    status, body = post_comment(fn, {"text": f"from {region}"})
    if expected is None:
        assert status == 201
        assert [(c["commentId"]["S"], c["text"]["S"]) for c in comments(ddb)] == [("req-1", f"from {region}")]
    else:
        assert (status, body) == (409, {"message": expected.format(r=region, o=OTHER[region])})
        assert comments(ddb) == []


def test_active_active_drain_after_the_page_looked_still_refuses(deploy):
    # The page read "serving"; the Region was drained before the write: the transaction's own
    # condition refuses it.
    fn, ddb = deploy(SECONDARY, mode="active-active")
    assert post_comment(fn, {"text": "first"}, request_id="req-a")[0] == 201
    ddb.put_item(TableName=APP_TABLE, Item=state_item("active", [SECONDARY]))
    assert post_comment(fn, {"text": "late"}, request_id="req-b") == (
        409, {"message": f"region {SECONDARY} is drained: use {PRIMARY}"})
    ddb.put_item(TableName=APP_TABLE, Item=state_item("active"))  # returned
    assert post_comment(fn, {"text": "back"}, request_id="req-c")[0] == 201
    assert sorted(c["text"]["S"] for c in comments(ddb)) == ["back", "first"]


@pytest.mark.parametrize("mode", [None, "active-passive"])
def test_active_passive_ignores_drained(deploy, mode):
    # A drained set left by an earlier active-active deployment changes nothing here.
    fn, ddb = deploy(PRIMARY, mode=mode, drained=[PRIMARY])
    assert post_comment(fn, {"text": "hi"})[0] == 201
    fn, _ = deploy(SECONDARY, mode=mode)
    assert post_comment(fn, {"text": "hi"}) == (409, {"message": f"comments go to the primary region {PRIMARY}"})
