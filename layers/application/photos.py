"""mraa photos API (Lambda proxy): photo list and presigned uploads."""
import json
import os
import re
import uuid

import boto3
from botocore.config import Config

PREFIX = "photos/"
TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
_clients = {}
TTL = int(os.environ.get("URL_TTL", "900"))


def client(name):
    if name not in _clients:
        cfg = Config(signature_version="s3v4", s3={"addressing_style": "virtual"}) if name == "s3" else None
        _clients[name] = boto3.client(name, region_name=os.environ.get("AWS_REGION"), config=cfg)
    return _clients[name]


def response(status, body=None):
    return {"statusCode": status, "body": "" if body is None else json.dumps(body), "headers": {
        "Content-Type": "application/json", "Access-Control-Allow-Origin": os.environ.get("ALLOWED_ORIGIN", "*"),
        "Access-Control-Allow-Headers": "Authorization,Content-Type", "Access-Control-Allow-Methods": "GET,POST,OPTIONS"}}


def extension(body):
    """Extension from {"filename"} or {"contentType"}; None if not an image."""
    m = re.search(r"\.([A-Za-z0-9]+)$", str(body.get("filename") or ""))
    if m and m.group(1).lower() in TYPES:
        return m.group(1).lower()
    ctype = str(body.get("contentType") or "").lower()
    return next((ext for ext, t in TYPES.items() if t == ctype), None)


def refusal():
    """Why not ("" = allowed): active, and the primary or (active-active) undrained."""
    region, primary = os.environ.get("AWS_REGION"), os.environ["PRIMARY_REGION"]
    item = client("dynamodb").get_item(
        TableName=os.environ["APP_CONFIG_TABLE"], Key={"appId": {"S": os.environ["APP_ID"]}},
        ConsistentRead=True).get("Item") or {}
    state = item.get("state", {}).get("S", "")
    if state != "active":
        return f"uploads are disabled while the application is {state or 'unknown'}"
    if os.environ.get("APP_MODE") != "active-active":
        return "" if region == primary else f"uploads go to the primary region {primary}"
    if region in item.get("drained", {}).get("SS", []):
        return f"region {region} is drained: use {os.environ['SECONDARY_REGION'] if region == primary else primary}"
    return ""


def list_photos():
    bucket, out = os.environ["BUCKET_NAME"], []
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for obj in [o for o in page.get("Contents", []) if not o["Key"].endswith("/")]:
            url = client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": obj["Key"]}, ExpiresIn=TTL)
            out.append({"key": obj["Key"], "size": obj["Size"],
                        "lastModified": obj["LastModified"].isoformat(), "url": url})
    return sorted(out, key=lambda p: p["lastModified"], reverse=True)


def new_upload(body):
    ext = extension(body)
    if not ext:
        return response(400, {"message": "not a jpg, png, gif or webp image"})
    if why := refusal():
        return response(409, {"message": why})
    key = f"{PREFIX}{uuid.uuid4()}.{ext}"
    url = client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": os.environ["BUCKET_NAME"], "Key": key, "ContentType": TYPES[ext]},
        ExpiresIn=TTL)
    return response(201, {"key": key, "uploadUrl": url, "contentType": TYPES[ext], "expiresIn": TTL})


def handler(event, context):
    method = (event.get("httpMethod") or "").upper()
    if method == "OPTIONS":
        return response(204)
    if method == "GET":
        return response(200, {"photos": list_photos()})
    if method == "POST":
        try:
            body = json.loads(event.get("body") or "{}")
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            return response(400, {"message": "body must be a JSON object"})
        return new_upload(body)
    return response(405, {"message": f"method {method} not allowed"})
