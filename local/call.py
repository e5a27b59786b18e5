"""Call an endpoint of the running local stack, signed as the local caller (SigV4 for execute-api), as awscurl would.

Usage: python -m local.call METHOD PATH [BODY] [--caller testing|testing2]     (make call)
    python -m local.call GET /health
    python -m local.call POST /customers '{"email": "ada@example.com"}'

A POST to an action gets a fresh ``Idempotency-Key`` (``--key`` sets one, to see a retry answered the
same). Prints the status line, the headers that matter, then the body; exits 0 for 2xx, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.aws import REGION
from local.state import running_stack

# The local principals (local/auth.py): access key and secret are the same word.
CALLERS = ("testing", "testing2")
SHOWN_HEADERS = ("content-type", "location", "retry-after", "idempotent-replayed", "x-amzn-requestid")


def signed(method: str, url: str, body: bytes, caller: str, key: str | None) -> dict[str, str]:
    """The headers of a request signed by ``caller`` (SigV4, execute-api), with its Idempotency-Key."""
    headers = {"Content-Type": "application/json"} if body else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(caller, caller), "execute-api", REGION).add_auth(request)
    return dict(request.headers.items())


def main(argv: list[str] | None = None) -> int:
    """Send the request; print what came back."""
    parser = argparse.ArgumentParser(prog="python -m local.call", description=__doc__.splitlines()[0])
    parser.add_argument("method", type=str.upper)
    parser.add_argument("path", help="e.g. /customers/cus_QXg1o8vcGmoR32")
    parser.add_argument("body", nargs="?", default="", help="a JSON body (for a POST)")
    parser.add_argument("--caller", choices=CALLERS, default=CALLERS[0])
    parser.add_argument("--key", help="the Idempotency-Key of a POST (default: a new one)")
    args = parser.parse_args(argv)
    state = running_stack()
    if state is None:
        print("The local stack is not running: start it with `make run` in another terminal.", file=sys.stderr)
        return 1
    if args.body:
        try:
            json.loads(args.body)
        except ValueError as error:
            print(f"the body is not JSON: {error}", file=sys.stderr)
            return 2
    url = f"{state['gateway']}{args.path}"
    body = args.body.encode()
    key = (args.key or str(uuid.uuid4())) if args.method == "POST" else None
    answer = httpx.request(args.method, url, content=body, headers=signed(args.method, url, body, args.caller, key))
    print(f"HTTP {answer.status_code} {answer.reason_phrase}")
    for name in SHOWN_HEADERS:
        if name in answer.headers:
            print(f"{name}: {answer.headers[name]}")
    print()
    try:
        print(json.dumps(answer.json(), indent=2))
    except ValueError:
        print(answer.text)
    return 0 if answer.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
