#!/usr/bin/env python3
"""Runs the local AWS emulator (moto server) on loopback for tests and the demo.

Prints `port N` on stdout once it serves, then runs until its standard input
closes: the process that started it holds the other end of that pipe, so the
emulator stops when its owner exits, however it exits (no stray servers).

usage: emulator.py [--port N] [--log FILE]
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
    args = parser.parse_args()

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
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
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
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
