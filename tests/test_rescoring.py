"""Rescoring on change, through the real tokeniser and the real matcher over mTLS.

When a record is updated, withdrawn or gains an alias, its matches are
rescored: an alert is upgraded, downgraded or withdrawn, never duplicated.
"""

from __future__ import annotations

import datetime as dt

from fedalert.keys import TokenKeyset
from fedalert.node.identity import Identity, Name
from fedalert.node.matchkeys import build_match_keys
from fedalert.node.tokens import tokenise_packed
from fedalert.v1 import matcher_pb2 as pb
from tests.helpers import drain, publish


def _rec(keyset, handle, identity) -> pb.RecordTokens:
    kinds, counts, values = tokenise_packed(keyset, build_match_keys(identity))
    return pb.RecordTokens(handle=handle, key_id=keyset.primary_id, kinds=kinds, counts=counts, values=values)


def _ident(fore, sur, dob, aliases=(), pnc=""):
    names = [Name(fore, "", sur)] + [Name(f, "", s) for f, s in aliases]
    return Identity(names=names, dobs=[dt.date.fromisoformat(dob)], pnc_id=pnc)


def test_update_alias_and_withdraw_rescore_one_match(matcher, fed_keys):
    ks_a = TokenKeyset.load(fed_keys / "areas" / "a" / "tokens.keyset.json")
    ks_b = TokenKeyset.load(fed_keys / "areas" / "b" / "tokens.keyset.json")
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, _rec(ks_a, "handleA0001", _ident("Robert", "Quillfeather", "1979-11-02", pnc="86/123456Z")))
    # b knows him under another surname only: no shared name key, no alert.
    publish(b, _rec(ks_b, "handleB0001", _ident("Robert", "Blackmore", "1960-01-01")))
    assert drain(a) == []
    # b's record gains an alias that matches a's primary name and DOB: a match.
    publish(b, _rec(ks_b, "handleB0001", Identity(
        names=[Name("Robert", "", "Blackmore"), Name("Bob", "", "Quillfeather")],
        dobs=[dt.date(1960, 1, 1), dt.date(1979, 11, 2)])))
    first = drain(a)
    assert [x.type for x in first] == [pb.ALERT_TYPE_NEW]
    match_id, tier = first[0].match_id, first[0].tier
    assert tier in ("medium", "high")
    # b adds the PNC id: the same match, at high tier (upgraded if it was lower).
    publish(b, _rec(ks_b, "handleB0001", Identity(
        names=[Name("Robert", "", "Blackmore"), Name("Bob", "", "Quillfeather")],
        dobs=[dt.date(1960, 1, 1), dt.date(1979, 11, 2)], pnc_id="86/123456Z")))
    second = drain(a, after=first[-1].cursor)
    if tier != "high":
        assert [(x.type, x.match_id, x.tier) for x in second] == [(pb.ALERT_TYPE_UPGRADED, match_id, "high")]
    else:
        assert second == []
    # b corrects the record (alias and PNC entered in error): the match is withdrawn on both sides.
    publish(b, _rec(ks_b, "handleB0001", _ident("Robert", "Blackmore", "1960-01-01")))
    cursor = (second or first)[-1].cursor
    third = drain(a, after=cursor)
    assert [(x.type, x.match_id) for x in third] == [(pb.ALERT_TYPE_WITHDRAWN, match_id)]
    b_alerts = drain(b)
    assert {x.match_id for x in b_alerts} == {match_id}
    assert b_alerts[-1].type == pb.ALERT_TYPE_WITHDRAWN
    # Republishing the alias revives the same match id: never a duplicate.
    publish(b, _rec(ks_b, "handleB0001", Identity(
        names=[Name("Robert", "", "Blackmore"), Name("Bob", "", "Quillfeather")],
        dobs=[dt.date(1960, 1, 1), dt.date(1979, 11, 2)])))
    fourth = drain(a, after=third[-1].cursor)
    assert [(x.type, x.match_id) for x in fourth] == [(pb.ALERT_TYPE_NEW, match_id)]


def test_twins_do_not_match_through_the_real_pipeline(matcher, fed_keys):
    ks = TokenKeyset.load(fed_keys / "areas" / "a" / "tokens.keyset.json")
    a, b = matcher.stub("a"), matcher.stub("b")
    twin1 = Identity(names=[Name("Jasper", "", "Fairweather")], dobs=[dt.date(1992, 12, 12)],
                     postcode="ZZ99 3CC", address="1 Example Row")
    twin2 = Identity(names=[Name("Jonah", "", "Fairweather")], dobs=[dt.date(1992, 12, 12)],
                     postcode="ZZ99 3CC", address="1 Example Row")
    publish(a, _rec(ks, "handleA0001", twin1))
    publish(b, _rec(ks, "handleB0001", twin2))
    assert drain(a) == [] and drain(b) == []
