"""The ``--smoke`` mode every benchmark has: a run of a few seconds at tiny settings, which ``make test`` makes."""

from __future__ import annotations

import argparse
from typing import Any


def parse_arguments(parser: argparse.ArgumentParser, smoke: dict[str, Any]) -> argparse.Namespace:
    """The command line, with ``--smoke``: a run of a few seconds at ``smoke``'s tiny settings.

    ``make test`` runs every benchmark so (tests/bench/test_smoke.py): one that no longer runs fails
    there, the day it breaks, not the day someone wants its figures.
    """
    parser.add_argument("--smoke", action="store_true", help="a few seconds at tiny counts: does it still run?")
    arguments = parser.parse_args()
    if arguments.smoke:
        for name, value in smoke.items():
            setattr(arguments, name, value)
    return arguments
