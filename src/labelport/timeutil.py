"""Timestamps as Kili writes them: ISO 8601 UTC with milliseconds, e.g. ``2023-07-18T15:24:11.433Z``.

They are stored as these strings, whose lexical order is their time order, on every database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from labelport.errors import ValidationError


def format_ts(moment: datetime) -> str:
    """Format an aware (or UTC-naive) datetime the canonical way."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_ts() -> str:
    """The current time, canonical."""
    return format_ts(datetime.now(UTC))


def parse_ts(value: object, what: str, *, end_of_day: bool = False) -> str:
    """Turn a date or date-time given by a caller into the canonical string.

    ``"YYYY-MM-DD"`` means the start of that day, or its last millisecond when ``end_of_day`` is set
    (so that ``created_at_lte="2024-01-31"`` includes the whole of 31 January).
    """
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        moment = datetime.combine(value, time.max if end_of_day else time.min)
        return format_ts(moment)
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a date 'YYYY-MM-DD' or an ISO date-time, not {value!r}.")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return parse_ts(day, what, end_of_day=end_of_day)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{what} must be a date 'YYYY-MM-DD' or an ISO date-time, not {value!r}.") from None
    return format_ts(moment)


def day_range(value: object, what: str) -> tuple[str, str]:
    """The first and last canonical instants a date (or an exact date-time) covers."""
    start = parse_ts(value, what)
    if (isinstance(value, str) and len(value.strip()) == 10) or type(value) is date:
        return start, parse_ts(value, what, end_of_day=True)
    return start, start


def shift_ms(ts: str, milliseconds: int) -> str:
    """A canonical timestamp moved by some milliseconds."""
    moment = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return format_ts(moment + timedelta(milliseconds=milliseconds))
