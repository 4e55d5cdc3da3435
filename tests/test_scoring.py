"""Scoring of agreement patterns: tiers, thresholds, twins, weak evidence."""

from __future__ import annotations

import datetime

import pytest

from fedalert.matcher import scoring
from fedalert.matcher.scoring import ALERT_THRESHOLD, Verdict, evaluate
from fedalert.node import matchkeys as mk
from fedalert.node.identity import Identity, Name


def pattern(a: Identity, b: Identity):
    ka, kb = mk.build_match_keys(a), mk.build_match_keys(b)
    agreed = {k for k in ka.keys() & kb.keys() if ka[k] & kb[k]}
    return agreed, set(ka), set(kb)


def person(fn, sn, dob, **kw) -> Identity:
    return Identity(names=[Name(fn, "", sn)], dobs=[datetime.date.fromisoformat(dob)] if dob else [], **kw)


def test_kinds_match_the_node():
    assert {k.name for k in scoring.KINDS} == set(mk.ALL_KINDS)
    for k in scoring.KINDS:
        assert 0 < k.u < k.m < 1 and k.grade in scoring.TIERS


def test_exact_name_and_dob_is_high():
    v = evaluate(*pattern(person("Ada", "Example", "1990-01-02"), person("ada", "EXAMPLE", "02/01/1990" and "1990-01-02")))
    assert v.tier == "high" and v.score >= ALERT_THRESHOLD


def test_strong_identifier_alone_is_high():
    a = person("Ada", "Example", "1990-01-02", pnc_id="91/1234A")
    b = person("Zed", "Sample", "1971-07-09", pnc_id="1991/0001234A")
    assert evaluate(*pattern(a, b)).tier == "high"


def test_phonetic_name_and_dob_is_medium():
    v = evaluate(*pattern(person("Stephen", "Thomson", "1975-06-30"), person("Steven", "Thomson", "1975-06-30")))
    assert v.tier == "medium"


def test_weak_agreement_alone_never_high():
    agreed = {"phon_name_yob"}
    kinds = set(mk.ALL_KINDS)
    assert evaluate(agreed, kinds, kinds).tier is None
    # Even with every other weak kind and a low threshold, it stays below high.
    weak = {"phon_name_yob", "address_name", "surname_dob"}
    assert evaluate(weak, weak, weak, threshold=0).tier in ("low", "medium")


def test_twins_score_below_threshold():
    addr = dict(postcode="M1 1AE", address="3 Mill Lane", phone="07700900123")
    a = person("Oliver", "Example", "2001-09-14", **addr)
    b = person("Harriet", "Example", "2001-09-14", **addr)
    agreed, ka, kb = pattern(a, b)
    assert "surname_dob" in agreed and "address_name" in agreed
    v = evaluate(agreed - {"phone"}, ka, kb)
    assert v.tier is None, v
    # Twins with the same initial too.
    a2, b2 = person("Jack", "Example", "2001-09-14", **addr), person("James", "Example", "2001-09-14", **addr)
    agreed, ka, kb = pattern(a2, b2)
    assert evaluate(agreed - {"phone"}, ka, kb).tier is None


def test_siblings_same_address_below_threshold():
    addr = dict(postcode="M1 1AE", address="3 Mill Lane")
    v = evaluate(*pattern(person("Oliver", "Example", "1999-02-10", **addr), person("Harriet", "Example", "2003-11-30", **addr)))
    assert v.tier is None


def test_missing_forename_differs_from_twins():
    """A record without a forename is no evidence of a different forename."""
    base = set(mk.ALL_KINDS) - {"pnc", "chi", "ni", "phone", "email"}
    no_fn = {"surname_dob", "init_name_dob", "address_name"} - {"init_name_dob"}
    agreed = {"surname_dob", "address_name"}
    twins = evaluate(agreed, base, base)
    missing = evaluate(agreed, base, no_fn)
    assert missing.score > twins.score


def test_disagreement_lowers_score():
    kinds = {"name_dob", "pnc"}
    assert evaluate({"name_dob"}, kinds, kinds).score < evaluate({"name_dob"}, {"name_dob"}, kinds).score


def test_configurable_threshold():
    agreed = {"phon_name_dob"}
    kinds = {"phon_name_dob"}
    v = evaluate(agreed, kinds, kinds)
    assert evaluate(agreed, kinds, kinds, threshold=v.score + 1).tier is None
    assert evaluate(agreed, kinds, kinds, threshold=v.score - 1).tier is not None


def test_verdict_shape():
    v = evaluate(set(), set(), set())
    assert isinstance(v, Verdict) and v.tier is None and v.score == 0
    with pytest.raises(AttributeError):
        v.score = 1  # frozen


def test_siblings_sharing_a_landline_do_not_alert():
    home = dict(postcode="M1 1AE", address="3 Mill Lane", phone="0161 496 0123")
    a = person("Oliver", "Example", "1999-02-10", **home)
    b = person("Harriet", "Example", "2003-11-30", **home)
    agreed, ka, kb = pattern(a, b)
    assert {"phone", "address_name"} <= agreed
    assert evaluate(agreed, ka, kb).tier is None
    assert not scoring.explain(agreed, ka, kb).household_counted


def test_same_named_parent_and_child_do_not_alert():
    home = dict(postcode="M1 1AE", address="3 Mill Lane")
    parent = person("George", "Example", "1961-05-04", **home)
    child = person("George", "Example", "1990-08-21", **home)
    agreed, ka, kb = pattern(parent, child)
    assert "address_forename" in agreed and "full_name" in agreed
    assert evaluate(agreed, ka, kb).tier is None
    assert scoring.explain(agreed, ka, kb).family
    # DOB missing on one record: a name and an address alone still do not alert.
    no_dob = person("George", "Example", "", **home)
    assert evaluate(*pattern(parent, no_dob)).tier is None


def test_twins_are_a_family_signature_but_a_shared_strong_id_still_alerts():
    a = person("Oliver", "Example", "2001-09-14", pnc_id="91/1234A")
    b = person("Harriet", "Example", "2001-09-14")
    agreed, ka, kb = pattern(a, b)
    assert scoring.explain(agreed, ka, kb).family
    same = person("Oliver", "Example", "2001-09-14", pnc_id="1991/0001234A")
    other = person("Olly", "Exampel", "2001-09-14", pnc_id="91/1234A")
    assert evaluate(*pattern(same, other)).tier == "high"


def test_missing_forename_with_surname_and_dob_alerts_low():
    a = person("", "Example", "1984-03-09")
    b = person("Ada", "Example", "1984-03-09")
    v = evaluate(*pattern(a, b))
    assert v.tier == "low"


def test_address_counts_only_with_forename_and_dob():
    home = dict(postcode="M1 1AE", address="3 Mill Lane")
    a = person("Ada", "Example", "1984-03-09", **home)
    b = person("Ada", "Exmaple", "1984-03-09", **home)  # surname typo: forename + DOB agree
    agreed, ka, kb = pattern(a, b)
    assert scoring.explain(agreed, ka, kb).household_counted
    moved = person("Ada", "Exmaple", "1984-03-09", postcode="EH1 2NG", address="9 Elm Road")
    assert evaluate(agreed, ka, kb).score > evaluate(*pattern(a, moved)).score
