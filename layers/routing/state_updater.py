"""mraa state updater: sets the application state (seed 001, Appendix A)."""
import json
import os
from datetime import datetime, timezone

import boto3

STATES = ("active", "fenced", "failover")
_ddb = None


def parse_request(event):
    """Validate {"AppId","TableName","NewState"[,"ExpectedState"]}; returns a dict or raises ValueError."""
    if isinstance(event, str):
        event = json.loads(event)
    if not isinstance(event, dict):
        raise ValueError("payload must be a JSON object")
    app_id = str(event.get("AppId") or "").strip()
    table = str(event.get("TableName") or os.environ.get("APP_CONFIG_TABLE", "")).strip()
    state = str(event.get("NewState") or "").strip().lower()
    expected = str(event.get("ExpectedState") or "").strip().lower()
    if not app_id:
        raise ValueError("AppId is required")
    if not table:
        raise ValueError("TableName is required")
    if state not in STATES:
        raise ValueError(f"NewState must be one of {', '.join(STATES)}")
    if expected and expected not in STATES:
        raise ValueError(f"ExpectedState must be one of {', '.join(STATES)}")
    return {"AppId": app_id, "TableName": table, "NewState": state, "ExpectedState": expected or None}


def update_args(req, now):
    """The conditional UpdateItem call for a validated request."""
    cond = "attribute_exists(appId)"
    values = {":s": {"S": req["NewState"]}, ":t": {"S": now}, ":r": {"S": os.environ.get("AWS_REGION", "")}}
    if req["ExpectedState"]:
        cond += " AND #s = :e"
        values[":e"] = {"S": req["ExpectedState"]}
    return {
        "TableName": req["TableName"],
        "Key": {"appId": {"S": req["AppId"]}},
        "UpdateExpression": "SET #s = :s, updatedAt = :t, updatedIn = :r",
        "ConditionExpression": cond,
        "ExpressionAttributeNames": {"#s": "state"},
        "ExpressionAttributeValues": values,
        "ReturnValues": "UPDATED_OLD",
    }


def result(status, req=None, previous=None, message=""):
    out = {"Status": status, "Message": message}
    if req:
        out.update(AppId=req["AppId"], TableName=req["TableName"], NewState=req["NewState"])
    if previous is not None:
        out["PreviousState"] = previous
    return out


def handler(event, context):
    global _ddb
    try:
        req = parse_request(event)
    except (ValueError, json.JSONDecodeError) as err:
        return result("INVALID", message=str(err))
    if _ddb is None:
        _ddb = boto3.client("dynamodb")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        resp = _ddb.update_item(**update_args(req, now))
    except _ddb.exceptions.ConditionalCheckFailedException:
        why = f"state is not {req['ExpectedState']}" if req["ExpectedState"] else "no such AppId"
        return result("CONFLICT", req, message=why)
    previous = resp.get("Attributes", {}).get("state", {}).get("S", "")
    print(json.dumps({"event": "STATE_UPDATED", "appId": req["AppId"], "from": previous, "to": req["NewState"]}))
    return result("UPDATED", req, previous, f"state {previous or '(none)'} -> {req['NewState']}")
