"""How the console shows times, ages and codes to people (local time, plain words)."""

from __future__ import annotations

import datetime as _dt


def when(t: _dt.datetime | _dt.date | None) -> str:
    """'Tue 25 Nov 2026, 09:30' in the machine's local time; a date as '25 Nov 2026'."""
    if t is None:
        return ""
    if isinstance(t, _dt.datetime):
        local = t.astimezone()
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
    return f"{t.day} {t:%b %Y}"


def age(delta: _dt.timedelta | None) -> str:
    """'3 days', '5 hours', '12 minutes' (the largest whole unit)."""
    if delta is None:
        return ""
    s = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "just now"


def ago(delta: _dt.timedelta | None) -> str:
    """'3 days ago', or 'just now'."""
    text = age(delta)
    return text if text in ("", "just now") else text + " ago"


def words(code: str | None) -> str:
    """'under_review' -> 'under review'."""
    return (code or "").replace("_", " ")


def bits(x: float) -> str:
    return f"{x:+.1f}"


FILTERS = {"when": when, "age": age, "ago": ago, "words": words, "bits": bits}
