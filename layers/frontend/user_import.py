"""mraa user import (secondary): copies users recorded in the primary into this region's pool."""
import json
import os
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError

READ_ONLY = {"sub", "identities"}


def marker_names(region):
    """Names of the per-region bookkeeping attributes of a users-table item."""
    return f"imported_{region}", f"import_attempts_{region}", f"import_error_{region}"


def writable_attributes(attrs):
    """Cognito attributes AdminCreateUser accepts, from the item's `attributes` map."""
    out = []
    for name, value in sorted((attrs or {}).items()):
        text = value.get("S") if isinstance(value, dict) else value
        if text is None or name in READ_ONLY or name.startswith("cognito:"):
            continue
        out.append({"Name": name, "Value": str(text)})
    return out


def scan_args(table, region, max_attempts):
    imp, att, _ = marker_names(region)
    return {
        "TableName": table,
        "FilterExpression": "attribute_not_exists(#i) AND (attribute_not_exists(#n) OR #n < :max)",
        "ExpressionAttributeNames": {"#i": imp, "#n": att},
        "ExpressionAttributeValues": {":max": {"N": str(max_attempts)}},
    }


def mark_args(table, username, region, now, error=None):
    """UpdateItem marking a user imported, or counting a failed attempt."""
    imp, att, err = marker_names(region)
    names = {"#i": imp, "#n": att, "#e": err}
    if error is None:
        expr, values = "SET #i = :t REMOVE #e", {":t": {"S": now}}
        del names["#n"]
    else:
        expr = "SET #n = if_not_exists(#n, :z) + :one, #e = :e"
        values = {":z": {"N": "0"}, ":one": {"N": "1"}, ":e": {"S": f"{now} {error}"[:1000]}}
        del names["#i"]
    return {"TableName": table, "Key": {"username": {"S": username}}, "UpdateExpression": expr,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def pending_users(ddb, args):
    while True:
        page = ddb.scan(**args)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        args = dict(args, ExclusiveStartKey=page["LastEvaluatedKey"])


def handler(event, context):
    region, table, pool = os.environ["AWS_REGION"], os.environ["USERS_TABLE"], os.environ["USER_POOL_ID"]
    ddb, idp = boto3.client("dynamodb"), boto3.client("cognito-idp")
    counts = {"imported": 0, "existing": 0, "failed": 0}
    for item in pending_users(ddb, scan_args(table, region, int(os.environ.get("MAX_ATTEMPTS", "10")))):
        if context is not None and context.get_remaining_time_in_millis() < 10000:
            break
        username = item.get("username", {}).get("S")
        if not username:
            continue
        now, error = datetime.now(timezone.utc).isoformat(timespec="seconds"), None
        try:
            idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                                  UserAttributes=writable_attributes(item.get("attributes", {}).get("M")))
            counts["imported"] += 1
        except idp.exceptions.UsernameExistsException:
            counts["existing"] += 1
        except ClientError as err:
            error = err.response.get("Error", {}).get("Code", "Error") + ": " + str(err)
            counts["failed"] += 1
        ddb.update_item(**mark_args(table, username, region, now, error))
    print(json.dumps({"event": "USER_IMPORT", **counts}))
    return counts
