"""Normalisation against known-answer vectors (tests/vectors/normalise*.json)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from fedalert.node import normalise as nz
from fedalert.node.errors import FieldValueError, NodeError
from fedalert.node.identity import Name
from fedalert.errors import FedalertError

VECTORS = Path(__file__).parent / "vectors"


def _load(prefix: str) -> dict:
    merged: dict = {}
    for path in sorted(VECTORS.glob(f"{prefix}*.json")):
        for k, v in json.loads(path.read_text(encoding="utf-8")).items():
            if isinstance(v, list):
                merged.setdefault(k, []).extend(v)
            else:
                merged[k] = v
    return merged


@pytest.fixture(scope="module")
def vectors() -> dict:
    return _load("normalise")


def test_vectors_are_loaded(vectors):
    assert len(vectors["dates"]) >= 15 and len(vectors["identifiers"]) >= 20


def test_dates(vectors):
    today = datetime.date.fromisoformat(vectors["today"])
    for case in vectors["dates"]:
        if "expect" in case:
            got = nz.parse_date(case["text"], case.get("fmt"), today=today)
            assert got == datetime.date.fromisoformat(case["expect"]), case
        else:
            with pytest.raises(FieldValueError) as info:
                nz.parse_date(case["text"], case.get("fmt"), today=today)
            assert info.value.reason == case["error"], case


def test_field_value_error_is_a_fedalert_error():
    err = FieldValueError("31/02/1990 is not a real date", field="date_of_birth")
    assert isinstance(err, NodeError) and isinstance(err, FedalertError)
    assert err.reason == "31/02/1990 is not a real date"
    assert "date_of_birth" in str(err)


def test_two_digit_year_pivot_uses_today():
    assert nz.parse_date("01/01/30", today=datetime.date(2026, 1, 1)) == datetime.date(1930, 1, 1)
    assert nz.parse_date("01/01/30", today=datetime.date(2031, 1, 1)) == datetime.date(2030, 1, 1)


def test_surnames(vectors):
    for case in vectors["surnames"]:
        whole, parts = nz.surname_forms(case["text"])
        assert (whole, list(parts)) == (case["whole"], case["parts"]), case


def test_forenames(vectors):
    for case in vectors["forenames"]:
        first, more = nz.normalise_forename(case["text"])
        assert (first, list(more)) == (case["forename"], case["more"]), case


def test_nicknames(vectors):
    for case in vectors["nicknames"]:
        forms = nz.nickname_forms(case["text"])
        assert forms[0] == case["text"]
        if "equals" in case:
            assert list(forms) == case["equals"], case
        else:
            assert set(case["includes"]) <= set(forms), case
        assert len(forms) <= 12


_IDENTIFIERS = {
    "phone": nz.normalise_phone,
    "email": nz.normalise_email,
    "postcode": nz.normalise_postcode,
    "ni": nz.normalise_ni,
    "chi": nz.normalise_chi,
    "pnc": nz.normalise_pnc,
}


def test_identifiers(vectors):
    for case in vectors["identifiers"]:
        fn = _IDENTIFIERS[case["kind"]]
        if "expect" in case:
            assert fn(case["text"]) == case["expect"], case
        else:
            with pytest.raises(FieldValueError) as info:
                fn(case["text"])
            assert info.value.reason == case["error"], case


def test_normalise_name_full():
    n = nz.normalise_name(Name("Mary-Ann Jo", "Lou", "Mc Donald-O'Brien"))
    assert n.forename == "maryann" and n.initial == "m"
    assert n.middle == ("jo", "lou")
    assert n.surnames == ("macdonaldobrien", "macdonald", "obrien")


def test_fold_removes_separator_and_controls():
    assert nz.fold("a\x1fb\x00c") == "a b c"


def test_forename_as_surname_for_swap_keys():
    assert nz.normalise_name(Name("  Bob ", "", "Example")).forename_as_surname == "bob"
    assert nz.normalise_name(Name("McCarthy", "", "Jaxin")).forename_as_surname == "maccarthy"
    assert nz.normalise_name(Name("", "", "Jaxin")).forename_as_surname == ""
