"""Shared helpers for the disclosure tests (no tests here).

Two invented areas: area-a holds the matched record, area-b asks. Every
person, organisation and case value is invented.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fedalert.node.disclosure.protocol import bundled_national_path, bundled_overlay_example_path, load_protocol

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)

OVERLAY_B = """
[overlay]
id = "area-b-local-isa"
version = "1"
area = "area-b"
extends = "fedalert-national-isp"
extends_version = "2026.1"
effective = 2026-06-01
review = 2027-03-31

[partners.area-b-police]
name = "Southmere Police (invented)"
type = "police"
sector = "statutory"
signatory = "Superintendent Kit Invented"
signed_on = 2026-06-02
signed_version = "2026.1"

[partners.area-b-council]
name = "Southmere Council (invented)"
type = "council"
sector = "statutory"
lead = true
signatory = "Director Sam Madeup"
signed_on = 2026-06-03
signed_version = "2026.1"

[partners.area-b-ida]
name = "Southmere Domestic Abuse Service (invented)"
type = "third_sector"
sector = "third_sector"
signatory = "Jo Fabricated"
signed_on = 2026-06-05
signed_version = "2026.1"
"""


def protocol_a():
    return load_protocol(bundled_national_path(), bundled_overlay_example_path())


def protocol_b(tmp_path: Path, text: str = OVERLAY_B):
    p = tmp_path / "overlay-b.toml"
    p.write_text(text, encoding="utf-8")
    return load_protocol(bundled_national_path(), p)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p
