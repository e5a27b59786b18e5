"""Choosing a utility's store by STATE_BACKEND."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from seawall.state.clients import dynamodb_client, upstash_client
from seawall.state.settings import state_settings

T = TypeVar("T")


def store_for_backend(*, upstash: Callable[[Any], T], dynamodb: Callable[[Any, str], T]) -> T:
    """``upstash(client)`` or ``dynamodb(client, state_table)``, as STATE_BACKEND says."""
    settings = state_settings()
    if settings.backend == "upstash":
        return upstash(upstash_client())
    return dynamodb(dynamodb_client(), settings.state_table)
