"""Hypothesis strategies for Stripe objects in every shape Stripe's API allows, read off stripe-python's types.

stripe-python's resource classes carry the API's schema as annotations:
which fields may be null, which are expandable (an id or the whole object),
which are enums. Each field is drawn from what its annotation allows.
"""

from __future__ import annotations

import typing
from typing import Any

from hypothesis import strategies as st
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

_MAX_DEPTH = 2
_TEXT = st.text(max_size=12)


def _expanded(name: str) -> st.SearchStrategy[Any]:
    """An expandable field sent expanded: an object with an id (shallow)."""
    return st.fixed_dictionaries({"id": st.text(min_size=1, max_size=12), "object": st.just(name.lower())})


def value(annotation: Any, depth: int) -> st.SearchStrategy[Any]:  # noqa: PLR0911, PLR0912 (one answer per kind of type)
    """What a field annotated ``annotation`` may hold."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return st.none()
    if annotation is Any:
        return st.one_of(st.none(), st.booleans(), st.integers(), _TEXT)
    if annotation is str:
        return _TEXT
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=0, max_value=2**40)  # amounts, counts and times: Stripe sends none below 0
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(annotation, typing.ForwardRef):
        return _expanded(annotation.__forward_arg__)
    if origin is typing.Literal:
        return st.sampled_from(arguments)
    if origin is typing.Union:
        return st.one_of(*(value(argument, depth) for argument in arguments))
    if origin is list:
        return st.lists(value(arguments[0], depth + 1), max_size=2) if depth < _MAX_DEPTH else st.just([])
    if origin is UntypedStripeObject:
        return st.dictionaries(st.text(max_size=8), value(arguments[0], depth + 1), max_size=3)
    if origin is ListObject:
        return st.fixed_dictionaries({"object": st.just("list"), "data": st.just([]), "has_more": st.booleans()})
    if isinstance(annotation, type) and issubclass(annotation, StripeObject):
        return shape(annotation, depth + 1) if depth < _MAX_DEPTH else st.just({})
    if isinstance(annotation, str):  # a forward reference by name
        return _expanded(annotation)
    raise TypeError(f"no strategy for {annotation!r}")


def shape(cls: type[StripeObject], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of ``cls``: every field it declares, each drawn from what its type allows."""
    fields = {
        name: value(annotation, depth)
        for name, annotation in cls.__annotations__.items()
        if typing.get_origin(annotation) is not typing.ClassVar
    }
    return st.fixed_dictionaries(fields)
