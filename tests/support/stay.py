"""Stay dates a search accepts on any day the tests run: a fixed date leaves the booking window one day."""

from __future__ import annotations

import datetime as dt


def stay(days_ahead: int = 90, nights: int = 3) -> dict[str, str]:
    """``check_in`` ``days_ahead`` days from today (UTC) and ``check_out`` ``nights`` later, as a caller writes them."""
    check_in = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days_ahead)
    return {"check_in": check_in.isoformat(), "check_out": (check_in + dt.timedelta(days=nights)).isoformat()}
