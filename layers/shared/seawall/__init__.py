"""seawall: the shared layer of the integrations bundle.

What a handler reaches for:

- ``seawall.handler.instrumented``: the decorator every handler wears (logs,
  metrics, tracing, the invocation's deadline).
- ``seawall.state.SharedState``: built once per function at init; hands out
  limiters, breakers and idempotency persistence on DynamoDB or Upstash.
- ``seawall.api.ActionRouter`` and ``seawall.idempotency.IdempotentAction``:
  API actions answering problem+json, run once per caller and Idempotency-Key.
- ``seawall.webhooks``: verify and queue (``inbox``), consume (``processor``),
  project and publish (``projections``, ``outbox``).
- ``seawall.resilience.ProviderCall``: how a provider client calls out —
  deadline, retry, breaker, limiter, credentials — over ``seawall.http``.
- ``seawall.errors``: the typed errors; ``seawall.config``: settings and secrets.

Provider specifics live in ``seawall.providers.<name>``; nothing else imports
them. docs/architecture.md draws the module diagram ``make lint`` enforces.
"""

__version__ = "0.1.0"
