"""mraa pre-authentication trigger (secondary): only users replicated from the primary may sign in."""
import os

import boto3

_ddb = None


def is_replicated(item):
    """True when a users-table item describes a user recorded in the primary."""
    return bool(item) and bool(item.get("username", {}).get("S"))


def handler(event, context):
    global _ddb
    username = event.get("userName") or ""
    if _ddb is None:
        _ddb = boto3.client("dynamodb")
    item = {}
    if username:
        resp = _ddb.get_item(
            TableName=os.environ["USERS_TABLE"],
            Key={"username": {"S": username}},
            ProjectionExpression="username",
        )
        item = resp.get("Item") or {}
    if not is_replicated(item):
        raise Exception("This user is not registered in the primary region.")
    return event
