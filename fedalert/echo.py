"""Echoing a value someone else typed back in a message: cut short and escaped.

A message that repeats a bad value (an import report row, a log line, an
error) must not become the attack: a 100 KB value makes a 100 KB message, and
a control character, an ANSI escape or a right-to-left override can rewrite
what a terminal or a browser shows. :func:`echo` keeps at most ECHO_CHARS
characters and writes every character that is not printable (controls,
format and bidi characters, line and paragraph separators, and every space
but the plain one) as a ``\\xNN`` / ``\\uNNNN`` escape, so the result is one
line of visible text.
"""

from __future__ import annotations

#: The most characters of a value that any message echoes.
ECHO_CHARS = 64


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def echo(value: object, limit: int = ECHO_CHARS) -> str:
    """`value` as text fit to show: its first `limit` characters, non-printable ones escaped, "..." if cut."""
    text = value if isinstance(value, str) else str(value)
    head = text[:limit]
    if not head.isprintable():
        head = "".join(ch if ch.isprintable() else _escape(ch) for ch in head)
    return head + "..." if len(text) > limit else head
