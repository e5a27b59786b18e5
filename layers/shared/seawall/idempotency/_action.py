"""Idempotent API actions: the caller's Idempotency-Key, through Powertools idempotency.

A retried request with the same key and body gets the first response without
running the action again; the same key with another body is refused (422); a
duplicate while the first still runs is refused (409, with Retry-After). Keys
come only from the client, never from the clock, and belong to the caller:
records and the key sent to the provider are scoped by the caller's IAM
identity and the action, so two callers can never see each other's results.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from seawall.api import ActionRouter, Response
from seawall.deadline import DEFAULT_MARGIN_SECONDS, current_deadline
from seawall.errors import StoreUnavailableError
from seawall.problems import Problem, ProblemError, retry_after_headers

if TYPE_CHECKING:
    from seawall.state import SharedState

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as Stripe accepts
# How long a duplicate is told to wait while the first request still runs.
IN_PROGRESS_RETRY_AFTER = 1.0


def _in_progress_lifetime() -> float:
    """Seconds an in-progress record written now can live: the invocation's remaining time (at least one)."""
    deadline = current_deadline()
    if deadline is None:
        return IN_PROGRESS_RETRY_AFTER
    return max(IN_PROGRESS_RETRY_AFTER, math.ceil(deadline.remaining() + DEFAULT_MARGIN_SECONDS))


def idempotency_key(app: ActionRouter) -> str:
    """The request's Idempotency-Key header; 400 when it is missing, malformed or sent twice with two keys."""
    if len(set(app.request.header_values(HEADER))) > 1:  # API Gateway's headers would keep the last: ambiguous
        raise ProblemError(Problem(400, "http", f"send one {HEADER} header"))
    key = app.request.headers.get(HEADER.lower())
    if not key:
        raise ProblemError(Problem(400, "http", f"the {HEADER} header is required"))
    if not _VALID.match(key):
        raise ProblemError(Problem(400, "http", f"the {HEADER} header must be 1-255 printable ASCII characters"))
    return key


def caller_identity(app: ActionRouter) -> str:
    """The IAM principal API Gateway authenticated (its ARN); 403 when the request carries none."""
    identity = (app.request.event.get("requestContext") or {}).get("identity") or {}
    caller = identity.get("userArn") or identity.get("caller")
    if not isinstance(caller, str) or not caller:
        raise ProblemError(Problem(403, "http", "the caller could not be identified"))
    return caller


class IdempotentAction:
    """One action's idempotency: records keyed by ``name``, the caller and their key, checked against the body.

    Each action gets a persistence layer of its own: Powertools configures a
    layer once, so sharing one would give the second action the first one's
    key path and expiry.
    """

    def __init__(self, name: str, state: SharedState, *, expires_after_seconds: int = 24 * 3600) -> None:
        self.name = name
        self.config = IdempotencyConfig(
            event_key_jmespath="[caller, key]",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )
        self._run = idempotent_function(
            data_keyword_argument="request",
            persistence_store=state.persistence_layer(),
            config=self.config,
            key_prefix=name,
        )(self._invoke)

    def register(self, context: LambdaContext) -> None:
        """Give Powertools the invocation's context (its in-progress expiry follows the remaining time)."""
        self.config.register_lambda_context(context)

    def run(self, caller: str, key: str, body: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``action()`` once per caller and key; a repeat returns the first result.

        The same key with another body answers 422; a duplicate while the first
        still runs answers 409; an unreachable idempotency store 503. When the
        action fails and its record cannot be removed (the deadline spent, the
        store gone), the action's own failure is raised: the record expires
        with the invocation, and a retry after that runs again under the same
        provider key.
        """
        failed: list[Exception] = []

        def attempt() -> dict[str, Any]:
            try:
                return action()
            except Exception as error:
                failed.append(error)
                raise

        try:
            result: dict[str, Any] = self._run(request={"caller": caller, "key": key, "body": body}, action=attempt)
        except IdempotencyValidationError:
            raise ProblemError(Problem(422, "http", f"this {HEADER} was used with a different request body")) from None
        except IdempotencyAlreadyInProgressError:
            raise ProblemError(
                Problem(
                    409,
                    "idempotency-in-progress",
                    f"a request with this {HEADER} is in progress; retry shortly",
                    headers=retry_after_headers(IN_PROGRESS_RETRY_AFTER),
                )
            ) from None
        except IdempotencyPersistenceLayerError as error:
            if failed:  # the action failed and its record could not be removed: the action's failure is the answer
                raise failed[0] from None
            # An in-progress record may be left (written with its answer lost, or its result not saved): until it
            # expires with this invocation a retry is refused as in progress, so that is when to come back.
            raise StoreUnavailableError("idempotency store", retry_after=_in_progress_lifetime(), cause=error) from None
        return result

    def created(
        self,
        app: ActionRouter,
        request: BaseModel,
        create: Callable[[str], BaseModel | dict[str, Any]],
        *,
        status_code: int = 201,
        location: Callable[[dict[str, Any]], str] | None = None,
    ) -> Response:
        """``status_code`` with what ``create(provider_key)`` made, once per caller, Idempotency-Key and body.

        ``location(result)`` gives the ``Location`` header (a 202's status resource).
        """
        key = idempotency_key(app)
        caller = caller_identity(app)

        def make() -> dict[str, Any]:
            made = create(self.provider_key(caller, key))
            result = made if isinstance(made, dict) else made.model_dump(mode="json")
            # Powertools keeps a result with its keys sorted: so does the first answer, and a replay is byte for byte.
            sorted_result: dict[str, Any] = json.loads(json.dumps(result, sort_keys=True))
            return sorted_result

        result = self.run(caller, key, request.model_dump(mode="json"), make)
        headers = {"Location": location(result)} if location is not None else None
        return Response(status_code=status_code, body=result, headers=headers)

    def provider_key(self, caller: str, key: str) -> str:
        """The key sent to the provider: the client's, scoped to the caller and this action (never the clock).

        Hashed so that it stays within a provider's key length (Stripe: 255) and never carries the caller's ARN.
        """
        digest = hashlib.sha256(f"{self.name}\0{caller}\0{key}".encode()).hexdigest()
        return f"{self.name}:{digest}"

    @staticmethod
    def _invoke(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()
