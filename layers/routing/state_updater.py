"""mraa state updater (seed 001, Appendix A); in active-active, Drain and Return a Region."""
import json
import os
from datetime import datetime, timezone

import boto3

STATES = ("active", "fenced", "failover")
_ddb = boto3.client("dynamodb")


def pick(value, allowed, what):
    value = str(value or "").strip().lower()
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}")
    return value


def parse_request(event):
    if isinstance(event, str):
        event = json.loads(event)
    if not isinstance(event, dict):
        raise ValueError("payload must be a JSON object")
    req = {"AppId": str(event.get("AppId") or "").strip(),
           "TableName": str(event.get("TableName") or os.environ.get("APP_CONFIG_TABLE", "")).strip()}
    for key, value in req.items():
        if not value:
            raise ValueError(f"{key} is required")
    move = [k for k in ("NewState", "Drain", "Return") if k in event]
    if len(move) > 1:
        raise ValueError("give one of NewState, Drain or Return")
    if move and move[0] != "NewState":
        if os.environ.get("APP_MODE") != "active-active":
            raise ValueError("Drain and Return need active-active")
        return {**req, "Move": move[0], "Region": pick(event[move[0]], regions(), move[0])}
    req["NewState"] = pick(event.get("NewState"), STATES, "NewState")
    if str(event.get("ExpectedState") or "").strip():
        req["ExpectedState"] = pick(event["ExpectedState"], STATES, "ExpectedState")
    return req


def regions():
    return [os.environ.get(f"{k}_REGION") for k in ("PRIMARY", "SECONDARY")]


def other(req):
    return regions()[regions()[0] == req["Region"]]


def update_args(req, now):
    cond, v = "attribute_exists(appId)", {":t": {"S": now}, ":r": {"S": os.environ.get("AWS_REGION", "")}}
    args = {"TableName": req["TableName"], "Key": {"appId": {"S": req["AppId"]}}, "ReturnValues": "UPDATED_OLD",
            "ExpressionAttributeValues": v, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if "Move" in req:
        v[":g"], move = {"SS": [req["Region"]]}, "ADD" if req["Move"] == "Drain" else "DELETE"
        update = f"SET updatedAt = :t, updatedIn = :r {move} drained :g"
        if move == "ADD":
            cond += " AND (attribute_not_exists(drained) OR NOT contains(drained, :o))"
            v[":o"] = {"S": other(req)}
    else:
        v[":s"], update = {"S": req["NewState"]}, "SET #s = :s, updatedAt = :t, updatedIn = :r"
        args["ExpressionAttributeNames"] = {"#s": "state"}
    if req.get("ExpectedState"):
        cond += " AND #s = :e"
        v[":e"] = {"S": req["ExpectedState"]}
    return {**args, "UpdateExpression": update, "ConditionExpression": cond}


def result(status, req=None, previous=None, message=""):
    out = {"Status": status, "Message": message, **(req or {})}
    if previous is not None:
        out["PreviousState"] = previous
    return out


def handler(event, context):
    try:
        req = parse_request(event)
    except ValueError as err:
        return result("INVALID", message=str(err))
    args = update_args(req, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    try:
        old = _ddb.update_item(**args).get("Attributes", {})
    except _ddb.exceptions.ConditionalCheckFailedException as err:
        why = f"state is not {req['ExpectedState']}" if req.get("ExpectedState") else "no such AppId"
        if "Item" in err.response and "Move" in req:
            why = f"region {other(req)} is drained: return it first"
        return result("CONFLICT", req, message=why)
    previous = old.get("state", {}).get("S", "")
    done = f"region {req['Region']} {req['Move'].lower()}ed" if "Move" in req else \
        f"state {previous or '(none)'} -> {req['NewState']}"
    print(json.dumps({"event": "STATE_UPDATED", "appId": req["AppId"], "from": previous, "to": req.get("NewState", done)}))
    return result("UPDATED", req, None if "Move" in req else previous, done)
