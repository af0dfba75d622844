#!/usr/bin/env python3
"""Runs the local AWS emulator (moto server) on loopback for tests and the demo.

Prints `port N` on stdout once it serves, then runs until its standard input
closes: the process that started it holds the other end of that pipe, so the
emulator stops when its owner exits, however it exits (no stray servers).
CloudFormation types that moto lacks are added by emulator_cfn.py beside it.

usage: emulator.py [--port N] [--log FILE] [--time-scale N]
"""
import argparse
import json
import os
import sys
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--log", help="where the server's request log and tracebacks go")
    parser.add_argument(
        "--time-scale", type=float,
        help="AWS's operation durations divided by this (emulator_time.py); "
        "default: $MRAA_EMULATOR_TIME_SCALE, or 0 (operations complete at once)")
    args = parser.parse_args()

    if args.time_scale is not None:
        os.environ["MRAA_EMULATOR_TIME_SCALE"] = str(args.time_scale)
    real_stdout = sys.stdout
    if args.log:
        log = open(args.log, "a", buffering=1)
        sys.stdout = sys.stderr = log
        os.dup2(log.fileno(), 2)

    # The request recorder writes to a file; one per emulator, never the cwd.
    import tempfile

    os.environ.setdefault(
        "MOTO_RECORDER_FILEPATH",
        os.path.join(tempfile.mkdtemp(prefix="mraa-emulator-"), "recording"),
    )
    import threading

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    # CloudFormation types moto lacks (ACM certificates, API Gateway custom domains): they must
    # be defined before the first stack operation, when moto caches its list of models.
    import emulator_cfn  # noqa: F401  (scripts/ is on sys.path: this file runs as a script)
    import emulator_cfn_apigateway  # noqa: F401
    import emulator_cfn_cloudfront  # noqa: F401
    import emulator_cfn_cognito  # noqa: F401
    import emulator_cfn_cognito_replica  # noqa: F401
    import emulator_cfn_s3  # noqa: F401
    import emulator_changeset
    import emulator_cfn_dynamodb
    import emulator_changeset_changes
    import emulator_cognito
    import emulator_cognito_replica
    import emulator_drift
    import emulator_events
    import emulator_import
    import emulator_metrics
    import emulator_replica_settings
    import emulator_replication
    import emulator_route53
    import emulator_s3_policy
    import emulator_service_role
    import emulator_time

    emulator_cfn_dynamodb.install()
    emulator_changeset.install()
    emulator_changeset_changes.install()
    emulator_cognito.install()
    emulator_cognito_replica.install()
    emulator_drift.install()
    emulator_replication.install()
    emulator_replica_settings.install()  # wraps emulator_replication's replicas
    emulator_metrics.install()  # wraps emulator_replication's writes
    emulator_route53.install()
    emulator_s3_policy.install()
    emulator_time.install()
    emulator_import.install()  # wraps emulator_changeset's and emulator_time's hooks
    emulator_events.install()  # wraps emulator_changeset's, emulator_time's and emulator_import's
    emulator_service_role.install()  # outermost: refuses before any of them acts

    app = DomainDispatcherApplication(create_backend_app)
    # moto builds a service's handlers on its first request (~0.3 s for API Gateway); AWS answers
    # a first call like any other, so the services the project calls are built before serving.
    for service in ("acm", "apigateway", "cloudformation", "cloudfront", "cognito-idp", "dynamodb",
                    "iam", "lambda", "route53", "s3", "sts"):
        app.app_instances[service] = create_backend_app(service)
    # Connections are served on threads, but requests are handled one at a
    # time: moto's backends are not safe under concurrent requests (seen:
    # a CloudFormation stack's API Gateway deployment racing another stack's
    # creation). AWS is; mraa still sends its requests concurrently.
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    server = make_server(
        "127.0.0.1", args.port, serialized, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # No Docker here: Lambda functions are stored, and invoking them echoes.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()
    print(f"port {port}", file=real_stdout, flush=True)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
