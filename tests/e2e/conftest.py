"""Tests through `make run` as outside clients use it: the real template, ``python -m local`` in its own process.

They are marked ``e2e``: the slowest of the suite, run once per CI run, on the Lambda runtime's Python.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is an end-to-end test."""
    for item in items:
        if item.path.is_relative_to(__file__.rsplit("/", 1)[0]):
            item.add_marker(pytest.mark.e2e)
