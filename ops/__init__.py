"""`python -m ops` (`make ops ARGS="..."`): what an on-call engineer needs, against a deployed stack or `make run`.

The stack's queues and dead-letter queues (depths, a look at messages, a
redrive), each provider's circuit breaker and rate-limit usage, the sync jobs
(cursor, lease, last run; a run now), and Stripe events sent through the
pipeline again. State is read and changed through the layer's own stores, so
what it shows is what the functions see. docs/runbooks/ says when to use what.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The layer is deployed as a Lambda layer, not installed: it goes on the path as Lambda mounts it.
_LAYER = str(ROOT / "layers" / "shared")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
