"""One way to talk HTTP to a provider: shared clients, explicit timeouts, typed errors."""

from seawall.http.client import Timeouts, http_client, observe, request
from seawall.http.payload import parse_payload
from seawall.http.responses import error_from_response

__all__ = ["Timeouts", "error_from_response", "http_client", "observe", "parse_payload", "request"]
