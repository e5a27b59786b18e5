"""Signing requests to IAM routes as an AWS caller would (botocore's SigV4 for execute-api)."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL_PRINCIPAL = Credentials("testing", "testing")


def signed_headers(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    credentials: Credentials = LOCAL_PRINCIPAL,
) -> dict[str, str]:
    """The headers that make ``method url`` (with ``body``) a SigV4-signed execute-api request."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


# The second local principal: what one caller does must stay theirs.
SECOND_PRINCIPAL = Credentials("testing2", "testing2")
