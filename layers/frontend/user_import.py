"""mraa user import (secondary): copies users recorded in the primary into this region's pool.

No password is copied: a user gets the primary's email, verified, and a random password nobody
knows, so "Forgot your password?" works. docs.aws.amazon.com/cognito-user-identity-pools/latest/
APIReference/API_{AdminCreateUser,AdminSetUserPassword,ForgotPassword}.html
"""
import json
import os
import secrets
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError

READ_ONLY = {"sub", "identities"}


def random_password():
    """With a lower, upper, digit and symbol (the pool's policy); never logged or stored."""
    while True:
        p = secrets.token_urlsafe(24)
        if all(any(f(c) for c in p) for f in (str.islower, str.isupper, str.isdigit, "-_".__contains__)):
            return p


def writable_attributes(attrs):
    """Cognito attributes AdminCreateUser accepts; the email verified: ForgotPassword mails only such."""
    out = {k: v.get("S") if isinstance(v, dict) else v for k, v in (attrs or {}).items()}
    out = {k: str(v) for k, v in out.items() if v is not None and k not in READ_ONLY and not k.startswith("cognito:")}
    if "email" in out:
        out["email_verified"] = "true"
    return [{"Name": k, "Value": v} for k, v in sorted(out.items())]


def pending_users(ddb, **scan):
    for page in ddb.get_paginator("scan").paginate(**scan):
        yield from page.get("Items", [])


def confirm(idp, pool, username, attrs):
    """Creates or repairs one user: imported, repaired or existing."""
    who, outcome = {"UserPoolId": pool, "Username": username}, "imported"
    try:
        idp.admin_create_user(**who, MessageAction="SUPPRESS", UserAttributes=attrs)
    except idp.exceptions.UsernameExistsException:
        if idp.admin_get_user(**who)["UserStatus"] != "FORCE_CHANGE_PASSWORD":
            return "existing"  # a password of its own: kept
        idp.admin_update_user_attributes(**who, UserAttributes=attrs)
        outcome = "repaired"
    idp.admin_set_user_password(**who, Password=random_password(), Permanent=True)  # -> CONFIRMED
    return outcome


def handler(event, context):
    region, table, pool = os.environ["AWS_REGION"], os.environ["USERS_TABLE"], os.environ["USER_POOL_ID"]
    ddb, idp = boto3.client("dynamodb"), boto3.client("cognito-idp")
    # confirmed_, not the former imported_: users imported in FORCE_CHANGE_PASSWORD come back
    done, tries, err = (f"{m}_{region}" for m in ("confirmed", "import_attempts", "import_error"))
    counts = dict.fromkeys(("imported", "repaired", "existing", "failed"), 0)
    for item in pending_users(
            ddb, TableName=table, FilterExpression="attribute_not_exists(#d) AND (attribute_not_exists(#n) OR #n < :m)",
            ExpressionAttributeNames={"#d": done, "#n": tries},
            ExpressionAttributeValues={":m": {"N": os.environ.get("MAX_ATTEMPTS", "10")}}):
        if context is not None and context.get_remaining_time_in_millis() < 10000:
            break
        username, now = item["username"]["S"], datetime.now(timezone.utc).isoformat(timespec="seconds")
        update = {"UpdateExpression": "SET #d = :t REMOVE #e", "ExpressionAttributeNames": {"#d": done, "#e": err},
                  "ExpressionAttributeValues": {":t": {"S": now}}}
        try:
            counts[confirm(idp, pool, username, writable_attributes(item.get("attributes", {}).get("M")))] += 1
        except ClientError as e:  # its text names the error code, never a password
            counts["failed"] += 1
            update = {"UpdateExpression": "SET #e = :t ADD #n :one",
                      "ExpressionAttributeNames": {"#n": tries, "#e": err},
                      "ExpressionAttributeValues": {":t": {"S": f"{now} {e}"[:1000]}, ":one": {"N": "1"}}}
        ddb.update_item(TableName=table, Key={"username": {"S": username}}, **update)
    print(json.dumps({"event": "USER_IMPORT", **counts}))
    return counts
