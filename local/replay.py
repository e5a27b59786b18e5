"""A committed sample event as if a caller sent it now: what `make invoke`, `make sign-event` and the tests send.

A sample is recorded once (its requestContext says when) and replayed any day after. A webhook
delivery must carry a signature made now, with this machine's secrets (local.sign), and a search's
stay must still lie as far ahead as when it was recorded: a fixed date falls out of the booking
window, then into the past.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from typing import Any

from local.sign import body_text, resign

STAY_FIELDS = ("check_in", "check_out")


def redate(event: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A copy of an API Gateway ``event`` sent ``now``, its body's stay moved by the sample's age in days.

    The event itself when its body names no stay.
    """
    context = event.get("requestContext") or {}
    try:
        body = json.loads(body_text(event))
    except ValueError:
        return event
    if (
        "requestTimeEpoch" not in context
        or not isinstance(body, dict)
        or not all(isinstance(body.get(field), str) for field in STAY_FIELDS)
    ):
        return event
    sent = now or dt.datetime.now(dt.UTC)
    recorded = dt.datetime.fromtimestamp(context["requestTimeEpoch"] / 1000, dt.UTC)
    age = dt.timedelta(days=(sent.date() - recorded.date()).days)
    for field in STAY_FIELDS:
        body[field] = (dt.date.fromisoformat(body[field]) + age).isoformat()
    moved = copy.deepcopy(event)
    text = json.dumps(body)
    moved["body"] = base64.b64encode(text.encode()).decode() if event.get("isBase64Encoded") else text
    moved["requestContext"]["requestTimeEpoch"] = int(sent.timestamp() * 1000)
    moved["requestContext"]["requestTime"] = sent.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return moved


def replay(event: dict[str, Any], local_secrets: dict[str, Any]) -> dict[str, Any]:
    """The sample as sent now: re-dated when it names a stay, re-signed when it is a webhook delivery.

    The event itself when it needs neither.
    """
    return resign(redate(event), local_secrets)
