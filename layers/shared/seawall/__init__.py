"""seawall: the shared layer of the integrations bundle.

One subpackage per concern: ``errors`` (typed errors and their problem+json
mapping), ``deadline`` (the invocation's time budget), ``retry`` (backoff with
full jitter), ``http`` (the httpx client factory), ``config`` (settings and
secrets), ``observability`` (logging, metrics, tracing, redaction) and ``api``
(the API Gateway resolver every action uses). Provider specifics live under
``providers``; nothing outside ``providers`` imports them.
"""

__version__ = "0.1.0"
