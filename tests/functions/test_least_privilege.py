"""Each function's role grants exactly what its code calls: every path below runs with local IAM enforcing
template.yaml, and what each function was seen to call must be what it was granted, no more, no less."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from typing import Any

import httpx
import stripe
from standardwebhooks.webhooks import Webhook

from local.aws import MotoServer
from local.eventsource import sqs_record
from local.iam import function_grants
from local.sandboxes.stripe import FIXTURES, StripeSandbox, stripe_fault
from local.stack import LocalStack
from seawall.webhooks.projections import MARKERS_PER_ITEM
from tests.support.sigv4 import signed_headers
from tests.support.stack import ROOT, IsolatedStack
from tests.support.stay import stay

Pairs = set[tuple[str, str]]


def granted(stack: LocalStack, function: str) -> Pairs:
    grants = function_grants(stack.template, stack.spec(function))
    return {(action, resource) for grant in grants for action in grant.actions for resource in grant.resources}


def seen(moto_server: MotoServer, stack: LocalStack, function: str) -> Pairs:
    principal = stack.principal(function)
    return {(call.action, call.resource) for call in moto_server.iam.calls if call.principal == principal}


def signed_call(api: str, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    url, content = f"{api}{path}", json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())} if body is not None else {}
    return httpx.request(
        method, url, content=content, headers=signed_headers(method, url, content, headers), timeout=30
    )


def queue_batch(stack: LocalStack, queue: str, body: str, attributes: dict[str, str] | None = None) -> dict[str, Any]:
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "r",
        "Body": body,
        "MD5OfBody": "",
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in (attributes or {}).items()
        },
    }
    return {"Records": [sqs_record(message, stack.template.physical[queue]["Arn"])]}


def stripe_event(kind: str, obj: dict[str, Any]) -> str:
    event = {**copy.deepcopy(FIXTURES["event"]), "id": f"evt_{uuid.uuid4().hex}", "type": kind, "created": 100}
    return json.dumps({**event, "data": {"object": obj}})


def exercise_hotelbeds(stack: LocalStack, api: str, moto_server: MotoServer, hotelbeds: Any) -> None:
    """Hotelbeds: a search (a miss, then the cache), a booking (accepted, booked by the worker, its message
    delivered twice), its status, its cancellation; one refused because its queue is down; one left to
    the in-doubt job, its answer lost there (so that the job's audit looks it up again); the content job."""
    search = {**stay(nights=2), "rooms": [{"adults": 2}], "hotels": [1, 2]}
    for _ in range(2):
        found = signed_call(api, "POST", "/hotels/availability", search)
        assert found.status_code == 200
    rate = found.json()["hotels"][0]["rooms"][0]["rates"][0]
    booking = {
        "holder": {"name": "Least", "surname": "Privilege"},
        "rooms": [
            {"rate_key": rate["rate_key"], "rate_type": rate["rate_type"], "guests": [{"name": "A", "surname": "B"}]}
        ],
    }
    accepted = signed_call(api, "POST", "/hotel-bookings", booking)
    assert accepted.status_code == 202
    worker = stack.function("HotelBookingWorkerFunction")
    for _ in range(2):
        message = json.dumps({"booking_id": accepted.json()["id"]})
        assert worker.invoke(queue_batch(stack, "HotelBookingsQueue", message)) == {"batchItemFailures": []}
    assert signed_call(api, "GET", accepted.headers["Location"]).json()["status"] == "confirmed"
    assert signed_call(api, "DELETE", accepted.headers["Location"]).json()["status"] == "cancelled"
    moto_server.down.add("sqs")
    try:
        assert signed_call(api, "POST", "/hotel-bookings", booking).status_code == 502
    finally:
        moto_server.down.discard("sqs")
    assert signed_call(api, "POST", "/hotel-bookings", booking).status_code == 202
    hotelbeds.configure_faults({"queue": [{"kind": "lost", "method": "POST", "path": "/hotel-api/1.0/bookings"}]})
    report = stack.function("HotelBookingsResolveFunction").invoke({})
    assert report["confirmed"] >= 1, report
    assert report["audit-matches"] == 1, report
    assert stack.function("HotelContentSyncFunction").invoke({})["outcome"] == "caught-up"


def test_every_function_is_granted_exactly_what_it_calls(
    isolated: IsolatedStack,
    moto_server: MotoServer,
    stripe_sandbox: StripeSandbox,
    seeded_secrets: dict[str, Any],
    sandboxes: dict[str, Any],
) -> None:
    stack, api = isolated.stack, isolated.api
    assert httpx.get(f"{api}/health").status_code == 200

    # The API actions: a success, then Stripe refusing (the idempotency record is removed again).
    customer = signed_call(api, "POST", "/customers", {"name": "Least"})
    assert customer.status_code == 201
    stripe_sandbox.faults.plan.queue.append(stripe_fault(400))
    assert signed_call(api, "POST", "/customers", {"name": "Refused"}).status_code == 400
    assert signed_call(api, "POST", "/payment-intents", {"amount": 100, "currency": "eur"}).status_code == 201
    stripe_sandbox.faults.plan.queue.append(stripe_fault(400))
    assert signed_call(api, "POST", "/payment-intents", {"amount": 100, "currency": "eur"}).status_code == 400
    assert signed_call(api, "GET", f"/customers/{customer.json()['id']}").status_code == 200

    # The receivers.
    body = stripe_event("customer.created", {**FIXTURES["customer"], "id": f"cus_{uuid.uuid4().hex[:12]}"})
    secret = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    signature = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    assert (
        httpx.post(f"{api}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}).status_code == 200
    )
    standard = json.dumps({"type": "invoice.paid", "data": {"id": "inv_1"}})
    moment = dt.datetime.now(dt.UTC)
    acme = seeded_secrets["StandardWebhooksSecret"]["providers"]["acme"][0]
    headers = {
        "webhook-id": "msg_least",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(acme).sign("msg_least", moment, standard),
    }
    assert httpx.post(f"{api}/webhooks/acme", content=standard, headers=headers).status_code == 200

    # The processors: events on both projections, and a busy aggregate's (its markers move to rows of their own).
    processor = stack.function("StripeEventsFunction")
    busy = {**FIXTURES["customer"], "id": f"cus_{uuid.uuid4().hex[:12]}"}
    for kind, obj in [
        ("payment_intent.created", {**FIXTURES["payment_intent"], "id": f"pi_{uuid.uuid4().hex[:12]}"}),
        *[("customer.updated", busy)] * (MARKERS_PER_ITEM + 1),
    ]:
        processor.invoke(queue_batch(stack, "StripeEventsQueue", stripe_event(kind, obj), {"provider": "stripe"}))
    attributes = {"provider": "acme", "webhook_id": f"msg_{uuid.uuid4().hex}"}
    stack.function("ProviderEventsFunction").invoke(queue_batch(stack, "ProviderEventsQueue", standard, attributes))
    # The reconciliation job, in both modes (the sandbox has the events of the calls above, and more).
    reconcile = stack.function("StripeReconcileFunction")
    for mode in ("events", "undelivered"):
        assert reconcile.invoke({"mode": mode})["outcome"] == "caught-up"
    exercise_hotelbeds(stack, api, moto_server, sandboxes["hotelbeds"])
    stream = json.loads((ROOT / "events" / "outbox_publisher" / "stream_batch.json").read_text())
    assert stack.function("OutboxPublisherFunction").invoke(stream) == {"batchItemFailures": []}

    for spec in stack.template.functions():
        assert seen(moto_server, stack, spec.name) == granted(stack, spec.name), spec.name
    denied = [
        call for call in moto_server.iam.calls if call.principal.startswith(stack.principal("")) and not call.allowed
    ]
    assert denied == []
