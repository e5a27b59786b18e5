"""`python -m ops` (`make ops ARGS="..."`): what an on-call engineer needs, against a deployed stack or `make run`.

The stack's queues and dead-letter queues (depths, a look at messages, a
redrive), each provider's circuit breaker and rate-limit usage, the sync jobs
(cursor, lease, last run; a run now), and Stripe events sent through the
pipeline again. State is read and changed through the layer's own stores, so
what it shows is what the functions see. docs/runbooks/ says when to use what.
"""

from pathlib import Path

from local.layers import put_on_path

ROOT = Path(__file__).resolve().parent.parent
# The layers are deployed as Lambda layers, not installed: they go on the path as Lambda mounts them.
put_on_path(ROOT)
