"""mraa comments API (Lambda proxy): a new comment while active, in the primary
(active-passive) or in any Region not drained (active-active).

The state check is part of the write: one transaction whose condition reads the
app-config item, so a state change between two requests never lets a write through.
"""
import json
import os
import time
import uuid

import boto3

_db = []


def db():
    if not _db:
        _db.append(boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION")))
    return _db[0]


def response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json",
                    "Access-Control-Allow-Origin": os.environ.get("ALLOWED_ORIGIN", "*")},
        "body": json.dumps(body),
    }


def refused(item, region, primary):
    state = item.get("state", {}).get("S", "")
    if os.environ.get("APP_MODE") == "active-active":
        if state == "active" and region in item.get("drained", {}).get("SS", []):
            other = os.environ["SECONDARY_REGION"] if region == primary else primary
            return f"region {region} is drained: use {other}"
    elif region != primary:
        return f"comments go to the primary region {primary}"
    return f"comments are disabled while the application is {state or 'unknown'}"


def handler(event, context):
    try:
        body = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    photo = (event.get("pathParameters") or {}).get("photoId") or ""
    if not photo or not isinstance(text, str) or not 1 <= len(text.strip()) <= 2000:
        return response(400, {"message": "a comment needs a text of 1 to 2000 characters"})
    ctx = event.get("requestContext") or {}
    claims = (ctx.get("authorizer") or {}).get("claims") or {}
    author = claims.get("email") or claims.get("cognito:username")
    if not author:
        return response(401, {"message": "sign in to comment"})
    region, primary = os.environ.get("AWS_REGION"), os.environ["PRIMARY_REGION"]
    check, values = "#s = :active", {":active": {"S": "active"}}
    if os.environ.get("APP_MODE") == "active-active":
        check += " AND (attribute_not_exists(drained) OR NOT contains(drained, :region))"
        values[":region"] = {"S": region}
    elif region != primary:
        return response(409, {"message": refused({}, region, primary)})
    comment_id = ctx.get("requestId") or str(uuid.uuid4())
    created = str(ctx.get("requestTimeEpoch") or int(time.time() * 1000))
    try:
        # ConditionCheck: "checks the existence and condition of an item" within the
        # transaction (DynamoDB Developer Guide, "Amazon DynamoDB Transactions: How it works").
        db().transact_write_items(TransactItems=[
            {"ConditionCheck": {
                "TableName": os.environ["APP_CONFIG_TABLE"], "Key": {"appId": {"S": os.environ["APP_ID"]}},
                "ConditionExpression": check,
                "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Put": {
                "TableName": os.environ["COMMENTS_TABLE"],
                "Item": {"commentId": {"S": comment_id}, "photoId": {"S": photo}, "author": {"S": author},
                         "text": {"S": text.strip()}, "createdAt": {"S": created}},
                "ConditionExpression": "attribute_not_exists(commentId)"}},
        ])
    except db().exceptions.TransactionCanceledException as err:
        first = (err.response.get("CancellationReasons") or [{}])[0]
        if first.get("Code") != "ConditionalCheckFailed":
            raise
        return response(409, {"message": refused(first.get("Item") or {}, region, primary)})
    return response(201, {"commentId": comment_id, "photoId": photo, "createdAt": created})
