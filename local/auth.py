"""AWS_IAM authorization for the local gateway: requests to IAM routes must carry a valid SigV4 signature.

As API Gateway does, the signature is checked over the method, path, query,
signed headers and body, for the service ``execute-api``. Locally the one
principal is moto's: access key ``testing``, secret ``testing`` (what
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set to for the functions).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import TYPE_CHECKING

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.aws import REGION, client_environment

if TYPE_CHECKING:
    from local.gateway import IncomingRequest

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/execute-api/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_MAX_SKEW = dt.timedelta(minutes=15)


class SigV4Authorizer:
    """Checks requests against the local principal's credentials."""

    def __init__(self) -> None:
        environment = client_environment("")
        self.credentials = Credentials(environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"])

    def allows(self, request: IncomingRequest) -> bool:
        """Whether the request is signed by the local principal, recently, for this region."""
        headers = {name.lower(): value for name, value in request.headers}
        found = _AUTHORIZATION.match(headers.get("authorization", ""))
        if found is None or found["key"] != self.credentials.access_key or found["region"] != REGION:
            return False
        stamp = headers.get("x-amz-date", "")
        try:
            signed_at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return False
        if abs(dt.datetime.now(dt.UTC) - signed_at) > _MAX_SKEW:
            return False
        names = found["signed"].split(";")
        url = f"http://{headers.get('host', 'localhost')}{request.path}" + (
            f"?{request.query}" if request.query else ""
        )
        rebuilt = AWSRequest(
            method=request.method, url=url, data=request.body, headers={name: headers.get(name, "") for name in names}
        )
        rebuilt.context["timestamp"] = stamp
        signer = SigV4Auth(self.credentials, "execute-api", REGION)
        expected = signer.signature(signer.string_to_sign(rebuilt, signer.canonical_request(rebuilt)), rebuilt)
        return hmac.compare_digest(expected, found["signature"])
