"""mraa post-authentication trigger (primary): records the user for replication."""
import json
import os
from datetime import datetime, timezone

import boto3

_ddb = None


def user_record(event):
    """(username, attributes) of a Cognito trigger event; attributes are strings."""
    username = event.get("userName") or ""
    attrs = (event.get("request") or {}).get("userAttributes") or {}
    return username, {str(k): str(v) for k, v in attrs.items()}


def update_args(table, username, attrs, pool_id, now):
    """Idempotent upsert: refreshes the profile, keeps createdAt and import markers."""
    return {
        "TableName": table,
        "Key": {"username": {"S": username}},
        "UpdateExpression": "SET #a = :a, userPoolId = :p, sourceRegion = :r, updatedAt = :t,"
        " createdAt = if_not_exists(createdAt, :t)",
        "ExpressionAttributeNames": {"#a": "attributes"},
        "ExpressionAttributeValues": {
            ":a": {"M": {k: {"S": v} for k, v in attrs.items()}},
            ":p": {"S": pool_id},
            ":r": {"S": os.environ.get("AWS_REGION", "")},
            ":t": {"S": now},
        },
    }


def handler(event, context):
    global _ddb
    username, attrs = user_record(event)
    if not username:
        return event
    if _ddb is None:
        _ddb = boto3.client("dynamodb")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        _ddb.update_item(**update_args(os.environ["USERS_TABLE"], username, attrs, event.get("userPoolId", ""), now))
    except Exception as err:  # never block a sign-in: the next one retries
        print(json.dumps({"event": "USER_RECORD_FAILED", "username": username, "error": str(err)}))
    return event
