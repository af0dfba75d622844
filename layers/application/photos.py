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


def client(name):
    if name not in _clients:
        cfg = Config(signature_version="s3v4", s3={"addressing_style": "virtual"}) if name == "s3" else None
        _clients[name] = boto3.client(name, region_name=os.environ.get("AWS_REGION"), config=cfg)
    return _clients[name]


def response(status, body=None):
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": os.environ.get("ALLOWED_ORIGIN", "*"),
            "Access-Control-Allow-Headers": "Authorization,Content-Type",
            "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
        },
        "body": "" if body is None else json.dumps(body),
    }


def extension(body):
    """Extension for an upload {"filename"} or {"contentType"}; None if not an image."""
    name = str(body.get("filename") or "")
    m = re.search(r"\.([A-Za-z0-9]+)$", name)
    if m and m.group(1).lower() in TYPES:
        return m.group(1).lower()
    ctype = str(body.get("contentType") or "").lower()
    return next((ext for ext, t in TYPES.items() if t == ctype), None)


def upload_allowed(state, region, primary):
    """Uploads only while the application is active, and only in the primary region."""
    if state != "active":
        return False, f"uploads are disabled while the application is {state or 'unknown'}"
    if region != primary:
        return False, f"uploads go to the primary region {primary}"
    return True, ""


def app_state():
    item = client("dynamodb").get_item(
        TableName=os.environ["APP_CONFIG_TABLE"], Key={"appId": {"S": os.environ["APP_ID"]}},
        ConsistentRead=True).get("Item") or {}
    return item.get("state", {}).get("S", "")


def ttl():
    return int(os.environ.get("URL_TTL", "900"))


def list_photos():
    bucket, out = os.environ["BUCKET_NAME"], []
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue
            url = client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": obj["Key"]}, ExpiresIn=ttl())
            out.append({"key": obj["Key"], "size": obj["Size"],
                        "lastModified": obj["LastModified"].isoformat(), "url": url})
    return sorted(out, key=lambda p: p["lastModified"], reverse=True)


def new_upload(body):
    ext = extension(body)
    if not ext:
        return response(400, {"message": "not a jpg, png, gif or webp image"})
    ok, why = upload_allowed(app_state(), os.environ.get("AWS_REGION"), os.environ["PRIMARY_REGION"])
    if not ok:
        return response(409, {"message": why})
    key = f"{PREFIX}{uuid.uuid4()}.{ext}"
    url = client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": os.environ["BUCKET_NAME"], "Key": key, "ContentType": TYPES[ext]},
        ExpiresIn=ttl())
    return response(201, {"key": key, "uploadUrl": url, "contentType": TYPES[ext], "expiresIn": ttl()})


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
