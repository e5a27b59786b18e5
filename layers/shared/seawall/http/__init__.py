"""One way to talk HTTP to a provider: shared clients, explicit timeouts cut to the deadline, typed errors.

- :func:`http_client`: an httpx client whose owner keeps it (warm invocations reuse its connections),
  every response logged and measured.
- :func:`send`: one request, timeouts cut to the deadline, transport failures as typed errors.
- :func:`request`: :func:`send`, with a non-2xx answer raised as a typed error.
- :func:`error_from_response`: a non-2xx answer as a typed error (status, Retry-After), without its body.
- :func:`parse_payload`: a provider's answer validated into a model, or an IntegrationError.
"""

from seawall.http._client import Timeouts, http_client, observe, request, send
from seawall.http._payload import parse_payload
from seawall.http._responses import error_from_response

__all__ = ["Timeouts", "error_from_response", "http_client", "observe", "parse_payload", "request", "send"]
