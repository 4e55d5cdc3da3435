"""Statuses and the canonical JSON codec of request / decision / release payloads."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fedalert.node.disclosure.errors import PayloadError, StatusError
from fedalert.node.disclosure.model import (
    STATUSES,
    Consent,
    Decision,
    Release,
    ReleasedItem,
    Withheld,
    check_transition,
    decode,
    encode,
)

from test_policy import base_request

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)

ALLOWED = {
    ("requested", "approved"),
    ("requested", "partially_approved"),
    ("requested", "refused"),
    ("requested", "expired"),
    ("approved", "released"),
    ("approved", "expired"),
    ("partially_approved", "released"),
    ("partially_approved", "expired"),
    ("released", "expired"),
}


@pytest.mark.parametrize("a", STATUSES)
@pytest.mark.parametrize("b", STATUSES)
def test_state_machine(a, b):
    if (a, b) in ALLOWED:
        check_transition(a, b)
    else:
        with pytest.raises(StatusError):
            check_transition(a, b)


def sample_release() -> Release:
    return Release(
        release_id="rel-1",
        request_id="req-1",
        match_id="m-1",
        from_area="area-a",
        to_area="area-b",
        protocol_id="fedalert-national-isp",
        protocol_version="2026.1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        art9_condition="",
        sch8_condition="",
        channel="meeting",
        approved_by="coord-a1",
        released_at=NOW,
        retention_until=dt.date(2029, 11, 24),
        items=(
            ReleasedItem(
                "risk_level",
                "Risk level",
                "ordinary",
                "victim",
                "high",
                "area-a-police",
                "Northvale Constabulary (invented)",
                dt.date(2026, 10, 1),
                "not_sought",
            ),
        ),
        withheld=(Withheld("health", "partner_not_current", "sign-off lapsed"),),
        consents=(Consent("victim", "not_sought", "would increase risk"),),
    )


def test_round_trips():
    req = base_request()
    assert decode("request", encode(req)) == req
    dec = Decision(
        "req-1",
        "coord-a1",
        NOW,
        "approve_some",
        "partially_approved",
        ("risk_level",),
        "only risk now",
        (Consent("perpetrator", "given", "", ("gender_history",)),),
        (),
        (),
    )
    assert decode("decision", encode(dec)) == dec
    rel = sample_release()
    assert decode("release", encode(rel)) == rel


def test_encoding_is_canonical():
    data = encode(base_request())
    body = json.loads(data)
    assert body["kind"] == "request" and body["v"] == 1
    assert data == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert body["created_at"] == "2026-11-25T10:00:00Z"


def _mutate(kind, obj, fn):
    body = json.loads(encode(obj))
    fn(body)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda b: b.update(extra=1), "extra: not expected"),
        (lambda b: b.pop("purpose"), "purpose: missing"),
        (lambda b: b.update(fields="risk_level"), "fields: must be a list"),
        (lambda b: b.update(created_at="2026-11-25T10:00:00"), "created_at: must be a UTC timestamp"),
        (lambda b: b.update(requester_signoff_on="25/11/2026"), "requester_signoff_on: '25/11/2026' is not a date"),
        (lambda b: b.update(kind="release"), "expected 'request'"),
        (lambda b: b.update(v=2), "upgrade"),
        (lambda b: b.update(rationale=7), "rationale: must be text"),
    ],
)
def test_strict_decoding(fn, words):
    with pytest.raises(PayloadError) as exc:
        decode("request", _mutate("request", base_request(), fn))
    assert words in str(exc.value)


def test_nested_errors_name_the_path():
    data = _mutate("release", sample_release(), lambda b: b["items"][0].update(recorded_on="yesterday"))
    with pytest.raises(PayloadError, match=r"items\[0\].recorded_on"):
        decode("release", data)
    data = _mutate("release", sample_release(), lambda b: b["items"][0].update(secret="x"))
    with pytest.raises(PayloadError, match=r"items\[0\].secret: not expected"):
        decode("release", data)


def test_garbage_and_oversize_are_refused():
    for bad in (b"\xff\xfe", b"[]", b"not json", b"x" * 1_000_001):
        with pytest.raises(PayloadError):
            decode("request", bad)
    with pytest.raises(PayloadError, match="unknown payload kind"):
        decode("gossip", b"{}")
    with pytest.raises(PayloadError, match="timezone"):
        encode(base_request(created_at=NOW.replace(tzinfo=None)))
