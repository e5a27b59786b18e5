"""What the model-based tests share: how long a run is, and running a state machine with a chosen seed."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


def machine_settings(examples: int, steps: int) -> settings:
    """The suite's bounded run, or the long profile's (``--hypothesis-profile=long``, tests/conftest.py)."""
    if settings.get_current_profile_name() == "long":
        return settings.get_profile("long")
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def run_seeded(kind: Callable[[], RuleBasedStateMachine], chosen_seed: int, examples: int, steps: int) -> None:
    """Run the machine's schedules from ``chosen_seed`` (a failure prints the seed's shrunk steps)."""

    def machine() -> RuleBasedStateMachine:  # the seed goes on this function, never on the class: runs differ
        return kind()

    run_state_machine_as_test(seed(chosen_seed)(machine), settings=machine_settings(examples, steps))
