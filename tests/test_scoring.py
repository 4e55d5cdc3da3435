"""Scoring of agreement patterns: tiers, thresholds, twins, weak evidence."""

from __future__ import annotations

import datetime

import pytest

from fedalert import kinds, scoring
from fedalert.scoring import ALERT_THRESHOLD, Verdict, evaluate
from fedalert.node import matchkeys as mk
from fedalert.node.identity import Identity, Name


def pattern(a: Identity, b: Identity):
    ka, kb = mk.build_match_keys(a), mk.build_match_keys(b)
    agreed = {k for k in ka.keys() & kb.keys() if ka[k] & kb[k]}
    return agreed, set(ka), set(kb)


def person(fn, sn, dob, **kw) -> Identity:
    return Identity(names=[Name(fn, "", sn)], dobs=[datetime.date.fromisoformat(dob)] if dob else [], **kw)


def test_every_kind_is_weighed():
    # One list of kinds (fedalert/kinds.py): the node builds from it, and the model weighs each kind's levels.
    assert mk.ALL_KINDS is kinds.ALL_KINDS and scoring.KINDS is kinds.KINDS
    assert len(set(kinds.ALL_KINDS)) == len(kinds.ALL_KINDS)
    for k in scoring.KINDS:
        assert k.grade in scoring.TIERS and k.shows
        for f, level in k.shows:
            if f in scoring.IDENTIFIER_MU:
                m, u = scoring.IDENTIFIER_MU[f]
                assert level == "exact" and k.name == f and 0 < u < m < 1
            else:
                assert (f, level) in scoring.LEVELS


def test_levels_are_probabilities_per_field():
    """Each field's m add up to 1 over its levels, and so do its u (module doc)."""
    fields = {f for f, _ in scoring.LEVELS}
    for f in fields:
        levels = [lv for (g, _), lv in scoring.LEVELS.items() if g == f]
        assert all(0 < lv.m < 1 and 0 < lv.u < 1 for lv in levels)
        if len(levels) > 1:
            assert sum(lv.m for lv in levels) == pytest.approx(1, abs=1e-6), f
            assert sum(lv.u for lv in levels) == pytest.approx(1, abs=1e-6), f


def test_levels_are_read_back_from_kinds():
    """Shared kinds become one level per field; a field both carry and no shared kind covers differs."""
    a = person("Stephen", "Exampel", "1975-06-30")
    b = person("Steven", "Example", "1975-06-30")
    e = scoring.explain(*pattern(a, b))
    assert e.levels["dob"] == "exact" and e.levels["sn"] == "edit" and e.levels["fn"] in ("edit", "phon")
    # Surname and DOB agree, forenames differ beyond every variant.
    e = scoring.explain(*pattern(person("Oliver", "Example", "2001-09-14"), person("Harriet", "Example", "2001-09-14")))
    assert e.levels == {**e.levels, "fn": "differ", "sn": "exact", "dob": "exact"}
    # A field one record lacks is no evidence, not a disagreement.
    e = scoring.explain(*pattern(person("", "Example", "2001-09-14"), person("Harriet", "Example", "2001-09-14")))
    assert e.levels["fn"] is None


def test_correlated_kinds_count_once():
    """Many kinds sharing one field disagreement cost that field's weight once, not once per kind."""
    home = dict(address="3 Mill Lane")
    a = person("Oliver", "Example", "2001-09-14", **home)
    b = person("Mabel", "Sample", "2001-09-14", **home)  # both names differ, DOB and address agree
    agreed, ka, kb = pattern(a, b)
    assert agreed == {"address_dob"}
    e = scoring.explain(agreed, ka, kb)
    expected = sum(scoring.LEVELS[(f, lv)].weight for f, lv in (("fn", "differ"), ("sn", "differ"), ("dob", "exact")))
    assert e.score == pytest.approx(expected, abs=1e-3)  # household evidence does not count without a forename


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
    home = dict(address="3 Mill Lane")
    a = person("Oliver", "Example", "2001-09-14", pnc_id="91/1234A", **home)
    b = person("Harriet", "Example", "2001-09-14", **home)
    agreed, ka, kb = pattern(a, b)
    assert scoring.explain(agreed, ka, kb).family
    same = person("Oliver", "Example", "2001-09-14", pnc_id="1991/0001234A")
    other = person("Olly", "Exampel", "2001-09-14", pnc_id="91/1234A")
    assert evaluate(*pattern(same, other)).tier == "high"


def test_twin_signature_needs_a_shared_household():
    """Twins are same surname and DOB, different forename, at one address (or phone).

    Without a shared address the pattern is scored on its fields: the
    differing forename costs its disagreement weight, which keeps it below the
    threshold, but it is not read as a family.
    """
    a = person("Oliver", "Example", "2001-09-14")
    b = person("Harriet", "Example", "2001-09-14")
    e = scoring.explain(*pattern(a, b))
    assert not e.family and e.score < ALERT_THRESHOLD
    home = dict(address="3 Mill Lane")
    at_home = scoring.explain(*pattern(person("Oliver", "Example", "2001-09-14", **home),
                                       person("Harriet", "Example", "2001-09-14", **home)))
    assert at_home.family and at_home.score < ALERT_THRESHOLD and not at_home.household_counted


def test_jack_and_james_are_different_forenames():
    """Two full forenames that share only the initial differ; one record with only an initial does not."""
    twins = scoring.explain(*pattern(person("Jack", "Example", "2001-09-14"), person("James", "Example", "2001-09-14")))
    assert twins.levels["fn"] == "differ"
    initial = scoring.explain(*pattern(person("J", "Example", "2001-09-14"), person("James", "Example", "2001-09-14")))
    assert initial.levels["fn"] == "initial" and initial.score > twins.score


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


def test_describe_says_what_agreed_in_plain_words():
    a = person("Bob", "Example", "1975-06-30", pnc_id="91/1234A")
    b = person("Robert", "Exampel", "1975-06-30", pnc_id="1991/0001234A")
    agreed, _, _ = pattern(a, b)
    words = scoring.describe(agreed)
    assert "date of birth same" in words and "PNC id same" in words
    assert "surname one typo" in words
    swapped = pattern(person("Ada", "Example", "1990-01-02"), person("Example", "Ada", "1990-01-02"))[0]
    assert "wrong way round" in scoring.describe(swapped)
    assert "wrong way round" not in scoring.describe(pattern(a, a)[0])
    assert scoring.describe({"not_a_kind"}) == "nothing"
