"""Match keys against known-answer vectors (tests/vectors/matchkeys*.json)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from fedalert.node import matchkeys as mk
from fedalert.node.identity import Identity, Name

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="module")
def vectors() -> dict:
    merged: dict = {"identities": [], "pairs": []}
    for path in sorted(VECTORS.glob("matchkeys*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        merged["identities"] += data.get("identities", [])
        merged["pairs"] += data.get("pairs", [])
    return merged


def identity(spec: dict) -> Identity:
    return Identity(
        names=[Name(*n) for n in spec.get("names", [])],
        dobs=[datetime.date.fromisoformat(d) for d in spec.get("dobs", [])],
        **{k: v for k, v in spec.items() if k not in ("names", "dobs")},
    )


def test_vectors_are_loaded(vectors):
    assert len(vectors["identities"]) >= 5 and len(vectors["pairs"]) >= 10


def test_known_keys(vectors):
    for case in vectors["identities"]:
        keys = mk.build_match_keys(identity(case["identity"]))
        for kind, expected in case["keys"].items():
            assert set(expected) <= keys.get(kind, set()), (case["name"], kind, keys.get(kind))
        for kind in case["absent_kinds"]:
            assert kind not in keys, (case["name"], kind)


def test_pairs(vectors):
    for case in vectors["pairs"]:
        a = mk.build_match_keys(identity(case["a"]))
        b = mk.build_match_keys(identity(case["b"]))
        shared = {k for k in a.keys() & b.keys() if a[k] & b[k]}
        for kind in case["share"]:
            assert kind in shared, (case["name"], kind, sorted(shared))
        for kind in case["not_share"]:
            assert kind not in shared, (case["name"], kind, sorted(shared))


def test_every_kind_is_known_and_fields_cannot_run_together():
    ident = identity(
        {"names": [["Ab", "", "Cde"], ["Abc", "", "De"]], "dobs": ["1990-01-02"], "postcode": "M1 1AE",
         "address": "1 Mill Lane", "phone": "07700900123", "email": "a@example.org", "pnc_id": "91/1234A",
         "chi_number": "1704911230", "ni_number": "QQ123456C"}
    )
    keys = mk.build_match_keys(ident)
    assert set(keys) == set(mk.ALL_KINDS)
    # "ab"+"cde" and "abc"+"de" concatenate to the same letters but never to the same key.
    assert not (keys["name_dob"] & {"abcde\x1f19900102"})
    assert len({k for k in keys["name_dob"]}) == 2


def test_no_key_from_one_low_entropy_field():
    # Each of these fields alone must produce no key at all.
    for spec in ({"names": [["", "", "Example"]]}, {"postcode": "M1 1AE"}, {"dobs": ["1990-01-02"]},
                 {"address": "1 Mill Lane"}, {"names": [["Ada", "", ""]]}):
        assert mk.build_match_keys(identity(spec)) == {}, spec


def test_every_name_times_every_dob():
    ident = identity({"names": [["Ada", "", "Example"], ["Ann", "", "Sample"]], "dobs": ["1990-01-02", "1991-02-03"]})
    keys = mk.build_match_keys(ident)
    assert {"ada\x1fexample\x1f19900102", "ada\x1fexample\x1f19910203",
            "ann\x1fsample\x1f19900102", "ann\x1fsample\x1f19910203"} == keys["name_dob"]


def test_deletion_neighbourhood_covers_one_edit():
    import itertools

    words = ["jon", "john", "jhon", "joan", "jo", "ojhn"]
    for a, b in itertools.permutations(words, 2):
        share = bool(mk.deletion_neighbourhood(a) & mk.deletion_neighbourhood(b))
        import jellyfish

        if jellyfish.damerau_levenshtein_distance(a, b) <= 1:
            assert share, (a, b)
    assert not (mk.deletion_neighbourhood("john") & mk.deletion_neighbourhood("mary"))


def test_token_count_is_moderate():
    ident = identity({"names": [["Christopher", "", "Worthington-Smythe"]], "dobs": ["1990-01-02"],
                      "postcode": "M1 1AE", "address": "1 Mill Lane", "phone": "07700900123"})
    assert mk.token_count(mk.build_match_keys(ident)) < 120
