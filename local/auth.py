"""AWS_IAM authorization for the local gateway: requests to IAM routes must carry a valid SigV4 signature.

As API Gateway does, the signature is checked over the method, path, query,
signed headers and body, for the service ``execute-api``, and the caller's
identity goes into the event's ``requestContext.identity``. Locally there are
two principals, so that what belongs to one caller can be shown to stay
theirs: access key ``testing`` (secret ``testing``) and ``testing2``
(secret ``testing2``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.aws import ACCOUNT, REGION

if TYPE_CHECKING:
    from local.gateway import IncomingRequest

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/execute-api/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_MAX_SKEW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Principal:
    """A local IAM user that may call the API."""

    access_key: str
    secret_key: str
    user_id: str
    arn: str

    def identity(self) -> dict[str, str]:
        """What API Gateway puts in ``requestContext.identity`` for this caller."""
        return {
            "accessKey": self.access_key,
            "accountId": ACCOUNT,
            "caller": self.user_id,
            "user": self.user_id,
            "userArn": self.arn,
        }


LOCAL_PRINCIPALS = (
    Principal("testing", "testing", "AIDALOCALDEVELOPER01", f"arn:aws:iam::{ACCOUNT}:user/local-developer"),
    Principal("testing2", "testing2", "AIDALOCALDEVELOPER02", f"arn:aws:iam::{ACCOUNT}:user/local-second-caller"),
)


class SigV4Authorizer:
    """Checks requests against the local principals' credentials."""

    def __init__(self, principals: tuple[Principal, ...] = LOCAL_PRINCIPALS) -> None:
        self.principals = {principal.access_key: principal for principal in principals}

    def authenticate(self, request: IncomingRequest) -> Principal | None:
        """The principal that signed the request, recently, for this region; ``None`` if none did."""
        headers = {name.lower(): value for name, value in request.headers}
        found = _AUTHORIZATION.match(headers.get("authorization", ""))
        principal = self.principals.get(found["key"]) if found else None
        if found is None or principal is None or found["region"] != REGION:
            return None
        stamp = headers.get("x-amz-date", "")
        try:
            signed_at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return None
        if abs(dt.datetime.now(dt.UTC) - signed_at) > _MAX_SKEW:
            return None
        names = found["signed"].split(";")
        url = f"http://{headers.get('host', 'localhost')}{request.path}" + (
            f"?{request.query}" if request.query else ""
        )
        rebuilt = AWSRequest(
            method=request.method, url=url, data=request.body, headers={name: headers.get(name, "") for name in names}
        )
        rebuilt.context["timestamp"] = stamp
        signer = SigV4Auth(Credentials(principal.access_key, principal.secret_key), "execute-api", REGION)
        expected = signer.signature(signer.string_to_sign(rebuilt, signer.canonical_request(rebuilt)), rebuilt)
        return principal if hmac.compare_digest(expected, found["signature"]) else None
