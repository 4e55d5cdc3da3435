"""Covered kinds (matcher/_index.py, COVERED_KINDS): left out of the token index, matches unchanged.

The index leaves out a kind when a shared token of it always comes with a
shared token of its covering kind. Two checks:

1. on the key builder (node/matchkeys.py): over synthetic record pairs with
   typos, swapped and missing fields, aliases and double-barrelled names,
   every pair sharing a covered kind's key shares the covering kind's key;
2. end to end on the engine: records tokenised by a real keyset and
   published to two engines on real SQLite files, one indexing every kind
   and one leaving the covered kinds out, give the same matches, tiers and
   scores, and the second index holds no row of a covered kind.

Only synthetic people appear here.
"""

from __future__ import annotations

import datetime
import random

import pytest

from fedalert.keys import TokenKeyset
from fedalert.matcher import _index
from fedalert.matcher._index import COVERED_KINDS
from fedalert.matcher._tokens import validate_records
from fedalert.matcher.engine import Engine
from fedalert.matcher.store import MatcherStore
from fedalert.node.identity import Identity, Name
from fedalert.node.matchkeys import build_match_keys
from fedalert.node.tokens import tokenise_packed
from fedalert.v1 import matcher_pb2 as pb

FORENAMES = ["Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gus", "Hal", "Iona", "Jed", "Kit", "Lark",
             "Mo", "Nell", "Otis", "Pia", "Quin", "Rex", "Sol", "Tova", "Ula", "Vik", "Wren", "Xan"]
SURNAMES = ["Abbot", "Brindle", "Cask", "Dunmore", "Eskdale", "Fenwick", "Garrow", "Holm", "Ingle",
            "Jessop", "Kellow", "Lanyon", "Mac Ardle", "O'Hanlon", "Penhale-Rook", "Quarrie", "Rudd",
            "Selwood", "Trago", "Van der Wyck"]
STREETS = ["Alder Row", "Birch Lane", "Cinder Way", "Dock Street"]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 2:
        return word + "a"
    i = rng.randrange(len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + rng.choice("aeiouknrst") + word[i:]
    if op == 2:
        return word[:i] + rng.choice("aeiouknrst") + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _person(rng: random.Random) -> Identity:
    names = [Name(rng.choice(FORENAMES), rng.choice(["", "Jo"]), rng.choice(SURNAMES))]
    dobs = [datetime.date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))]
    return Identity(names=names, dobs=dobs, postcode="ZZ9 9ZZ",
                    address=f"{rng.randint(1, 40)} {rng.choice(STREETS)}, Testtown")


def _variant(rng: random.Random, p: Identity, moved: bool = False) -> Identity:
    """Another record of the same synthetic person, with one to three changes
    (and, if `moved`, another address: nothing shared through the place)."""
    names = list(p.names)
    dobs = list(p.dobs)
    for _ in range(rng.randint(1, 3)):
        n, d = names[0], dobs[0]
        change = rng.randrange(9)
        if change == 0:
            names[0] = Name(_typo(rng, n.forename), n.middle_names, n.surname)
        elif change == 1:
            names[0] = Name(n.forename, n.middle_names, _typo(rng, n.surname))
        elif change == 2:  # one DOB digit
            s = d.strftime("%Y%m%d")
            i = rng.randrange(8)
            for c in "0123456789":
                try:
                    d = datetime.datetime.strptime(s[:i] + c + s[i + 1:], "%Y%m%d").date()
                except ValueError:
                    continue
                if d != dobs[0] and d < datetime.date(2010, 1, 1):
                    break
            dobs[0] = d
        elif change == 3 and d.day <= 12:
            dobs[0] = datetime.date(d.year, d.day, d.month)
        elif change == 4:
            names[0] = Name(n.surname, n.middle_names, n.forename)  # forename and surname swapped
        elif change == 5:
            names[0] = Name(n.forename[:1], "", n.surname)  # initial only
        elif change == 6:
            names[0] = Name("", "", n.surname)  # no forename
        elif change == 7:
            names.append(Name(rng.choice(FORENAMES), "", rng.choice(SURNAMES)))  # an alias
        else:
            names[0] = Name(rng.choice(FORENAMES), n.middle_names, n.surname)  # a sibling's forename
    if moved:
        return Identity(names=names, dobs=dobs, postcode="YY1 1YY", address=f"{rng.randint(41, 80)} Far Road, Elsewhere")
    return Identity(names=names, dobs=dobs, postcode=p.postcode, address=p.address)


def _pairs(n: int, seed: int = 7):
    rng = random.Random(seed)
    for _ in range(n):
        p = _person(rng)
        yield p, _variant(rng, p)


def _shares(a: dict[str, set[str]], b: dict[str, set[str]], kind: str) -> bool:
    return bool(a.get(kind, set()) & b.get(kind, set()))


def test_a_shared_covered_kind_always_comes_with_its_covering_kind():
    seen = {kind: 0 for kind in COVERED_KINDS}
    for a, b in _pairs(4000):
        ka, kb = build_match_keys(a), build_match_keys(b)
        for covered, cover in COVERED_KINDS.items():
            if _shares(ka, kb, covered):
                seen[covered] += 1
                assert _shares(ka, kb, cover), (covered, cover, a, b)
    # The pairs exercise every covered kind, through typos as well as exact agreement.
    assert all(n >= 100 for n in seen.values()), seen


def test_the_check_can_tell_a_wrong_cover():
    # The same pairs refute a cover that does not hold: a DOB typo keeps
    # edit_dob shared but not name_dob. So the check above would catch a
    # key-builder change that broke an implication.
    broken = 0
    for a, b in _pairs(4000):
        ka, kb = build_match_keys(a), build_match_keys(b)
        if _shares(ka, kb, "edit_dob") and not _shares(ka, kb, "name_dob"):
            broken += 1
    assert broken > 0


def _records(keyset, people: list[Identity], prefix: str) -> list[pb.RecordTokens]:
    out = []
    for i, person in enumerate(people):
        kinds, counts, values = tokenise_packed(keyset, build_match_keys(person))
        out.append(pb.RecordTokens(handle=f"{prefix}{i:06d}", key_id=keyset.primary_id, kinds=kinds,
                                   counts=counts, values=values))
    return out


def _matches(engine: Engine) -> set[tuple]:
    return set(engine.store.db.execute(
        "SELECT area_a, handle_a, area_b, handle_b, tier, round(score, 6), kinds, status FROM matches"))


@pytest.fixture(scope="module")
def federation():
    rng = random.Random(11)
    keyset = TokenKeyset.generate()
    a_people = [_person(rng) for _ in range(300)]
    b_people = [_variant(rng, p, moved=True) for p in a_people[:150]] + [_person(rng) for _ in range(150)]
    return keyset, _records(keyset, a_people, "handleA"), _records(keyset, b_people, "handleB")


def _run(tmp_path, name, federation, covered: dict[str, str]) -> Engine:
    keyset, a_recs, b_recs = federation
    _index.COVERED_KINDS = covered
    try:
        engine = Engine(MatcherStore(tmp_path / f"{name}.db"))
        engine.publish("area-a", "batch-a", validate_records(a_recs))
        engine.publish("area-b", "batch-b", validate_records(b_recs))
        # Replace and withdraw too: the delete paths use the same rule.
        engine.publish("area-b", "batch-b2", validate_records(b_recs[:20][::-1][:10]))
        engine.withdraw("area-a", a_recs[0].handle, "closed")
        engine.withdraw("area-a", a_recs[1].handle, "closed")
    finally:
        _index.COVERED_KINDS = COVERED_KINDS
    return engine


def test_engine_matches_are_the_same_without_covered_rows(tmp_path, federation):
    full = _run(tmp_path, "full", federation, {})
    lean = _run(tmp_path, "lean", federation, COVERED_KINDS)
    got = _matches(lean)
    assert got == _matches(full)
    assert sum(1 for m in got if m[-1] == "live") >= 50  # many typo pairs matched, not an empty comparison
    # The lean index holds exactly the tokens of the kinds it keeps.
    keyset, a_recs, b_recs = federation
    kept = sum(n for rec in a_recs[2:] + b_recs for kind, n in zip(rec.kinds, rec.counts)
               if kind not in COVERED_KINDS)
    every = sum(sum(rec.counts) for rec in a_recs[2:] + b_recs)
    assert lean.store.index.count() == kept < every * 0.7
    assert full.store.index.count() == every


def test_the_comparison_sees_lost_candidates(tmp_path, federation):
    # An index that keeps only the covered kinds (every other name and DOB kind
    # left out) loses pairs, and the comparison above would show it.
    from fedalert.node import matchkeys as mk

    others = {k: "none" for k in mk.ALL_KINDS if k not in COVERED_KINDS}
    full = _matches(_run(tmp_path, "full3", federation, {}))
    narrow = _matches(_run(tmp_path, "narrow", federation, others))
    assert full - narrow  # matches the narrow index never found


def test_withdrawing_leaves_no_rows_of_covered_kinds(tmp_path, federation):
    lean = _run(tmp_path, "lean2", federation, COVERED_KINDS)
    keyset, a_recs, b_recs = federation
    for rec in a_recs[2:] + b_recs:
        lean.withdraw("area-a" if rec.handle.startswith("handleA") else "area-b", rec.handle, "closed")
    assert lean.store.index.count() == 0
    assert not [m for m in _matches(lean) if m[-1] == "live"]



def test_migration_004_drops_exactly_the_covered_kinds(tmp_path):
    # Migration 004 names the covered kinds of its version. If COVERED_KINDS changes, stores
    # migrated earlier hold other rows, and a new migration has to say what to do with them.
    from fedalert.matcher import store
    from fedalert.migrations import migrate, open_db
    from fedalert.node import matchkeys as mk

    db = open_db(tmp_path / "old.db")
    migrate(db, store.MIGRATIONS[:3])
    db.conn.executemany("INSERT INTO kinds (id, name) VALUES (?, ?)", list(enumerate(mk.ALL_KINDS, 1)))
    db.conn.executemany("INSERT INTO tokens (key, record_id, kind) VALUES (?, 1, ?)",
                        [(kid * 1000, kid) for kid in range(1, len(mk.ALL_KINDS) + 1)])
    migrate(db, store.MIGRATIONS[:4])
    kept = {mk.ALL_KINDS[key // 1000 - 1] for (key,) in db.execute("SELECT key FROM tokens")}
    assert kept == set(mk.ALL_KINDS) - set(COVERED_KINDS)
