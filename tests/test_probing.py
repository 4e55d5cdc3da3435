"""Probing flags from real engine activity on a real SQLite store, and the
`fedalert matcher report` command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from fedalert.matcher._tokens import RecordIn
from fedalert.matcher.engine import Engine
from fedalert.matcher.probing import DayActivity, Thresholds, find_flags, load_activity
from fedalert.matcher.report import build_report, render_text
from fedalert.matcher.store import MatcherStore
from tests.helpers import tok

DAY0 = dt.datetime(2026, 10, 1, 12, tzinfo=dt.timezone.utc).timestamp()


class Clock:
    """The engine's injected clock, moved day by day (the engine's own seam)."""

    def __init__(self):
        self.t = DAY0

    def __call__(self):
        return self.t

    def day(self, n: int) -> dt.date:
        self.t = DAY0 + n * 86400
        return dt.datetime.fromtimestamp(self.t, dt.timezone.utc).date()


def _recs(prefix: str, n: int, kind: str = "pnc", label: str | None = None) -> list[RecordIn]:
    return [RecordIn(f"{prefix}{i:08d}", "k1", frozenset({(kind, tok(f"{label or prefix}-{i}"))})) for i in range(n)]


@pytest.fixture
def engine(tmp_path):
    clock = Clock()
    store = MatcherStore(tmp_path / "matcher.db")
    eng = Engine(store, clock=clock)
    yield eng, clock, tmp_path / "matcher.db"
    store.close()


def _batch(eng, area, day, recs):
    eng.publish(area, f"{area}-{day}-{len(recs)}-{recs[0].handle if recs else ''}", recs)


def test_volume_far_above_baseline_is_flagged(engine):
    eng, clock, _ = engine
    for d in range(6):
        clock.day(d)
        _batch(eng, "a", d, _recs(f"a{d}x", 20))
        _batch(eng, "b", d, _recs(f"b{d}x", 20))
    today = clock.day(6)
    _batch(eng, "a", 6, _recs("a6x", 400))
    _batch(eng, "b", 6, _recs("b6x", 30))
    flags = find_flags(load_activity(eng.store), today)
    vol = [f for f in flags if f.kind == "volume"]
    assert [(f.area, f.day) for f in vol] == [("a", today.isoformat())]
    assert vol[0].value == 400 and vol[0].baseline == 20


def test_no_volume_flag_without_a_baseline(engine):
    eng, clock, _ = engine
    today = clock.day(0)
    _batch(eng, "a", 0, _recs("a0x", 5000))  # a first full load
    assert [f for f in find_flags(load_activity(eng.store), today) if f.kind == "volume"] == []


def test_publish_then_withdraw_churn_is_flagged(engine):
    eng, clock, _ = engine
    today = clock.day(3)
    recs = _recs("probe", 80)
    _batch(eng, "a", 3, recs)
    for r in recs[:60]:
        eng.withdraw("a", r.handle, "error")
    _batch(eng, "b", 3, _recs("bbbb", 80))
    for r in _recs("bbbb", 5):
        eng.withdraw("b", r.handle, "closed")
    churn = [f for f in find_flags(load_activity(eng.store), today) if f.kind == "churn"]
    assert [(f.area, f.value) for f in churn] == [("a", 60)]
    assert "publish-then-withdraw" in churn[0].detail


def test_unusual_number_of_matches_is_flagged(engine):
    eng, clock, _ = engine
    # b loaded 300 records ten days earlier; every day a and c publish 20 new
    # records, 1 of them matching one of b's.
    clock.day(-10)
    _batch(eng, "b", -10, _recs("bbbb", 300, label="person"))
    for d in range(1, 6):
        clock.day(d)
        for area in "ac":
            recs = _recs(f"{area}{d}nomatch", 19) + [
                RecordIn(f"{area}{d}match0001", "k1", frozenset({("pnc", tok(f"person-{d * 10 + ord(area)}"))}))]
            _batch(eng, area, d, recs)
    today = clock.day(6)
    # Day 6: a publishes 40 records that all match b (guessing who b knows).
    _batch(eng, "a", 6, [RecordIn(f"a6guess{i:04d}", "k1", frozenset({("pnc", tok(f"person-{200 + i}"))}))
                         for i in range(40)])
    _batch(eng, "c", 6, _recs("c6nomatch", 20))
    flags = [f for f in find_flags(load_activity(eng.store), today) if f.kind == "matches"]
    flagged = {(f.area, f.day) for f in flags}
    assert ("a", today.isoformat()) in flagged
    assert not any(f.area == "c" for f in flags)
    rate = [f for f in flags if f.area == "a" and "match rate" in f.detail]
    assert rate and rate[0].value > 5 * rate[0].baseline


def test_thresholds_are_honoured():
    act = {"a": {f"2026-10-0{d}": DayActivity(records=10) for d in range(1, 6)}}
    act["a"]["2026-10-06"] = DayActivity(records=45)
    today = dt.date(2026, 10, 6)
    assert find_flags(act, today, Thresholds(volume_min_records=1)) == []  # 4.5x < 5x
    assert [f.kind for f in find_flags(act, today, Thresholds(volume_min_records=1, volume_factor=4))] == ["volume"]


def test_report_cli_text_and_json(engine):
    eng, clock, path = engine
    for d in range(5):
        clock.day(d)
        _batch(eng, "a", d, _recs(f"a{d}x", 10))
    today = clock.day(5)
    _batch(eng, "a", 5, _recs("a5x", 900))
    base = [sys.executable, "-m", "fedalert", "matcher", "report", "--db", str(path), "--day", today.isoformat()]
    out = subprocess.run(base + ["--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["areas"]["a"]["recent"]["records"] == 900 + 10 * 5 - 10 * 0  # days 0..5 are all within 7 days
    assert [(f["area"], f["kind"]) for f in doc["flags"]] == [("a", "volume")]
    text = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "FLAGS (1)" in text.stdout and "[volume] area a" in text.stdout
    assert text.stdout.strip() == render_text(build_report(eng.store, today))
    # Thresholds can be set by the operator.
    relaxed = subprocess.run(base + ["--json", "--threshold", "volume_factor=1000"], capture_output=True, text=True,
                             timeout=60)
    assert relaxed.returncode == 0 and json.loads(relaxed.stdout)["flags"] == []
    # Nothing in the report names a record or a token.
    assert "a5x" not in out.stdout and "a5x" not in text.stdout


def test_report_cli_clear_errors(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "fedalert", "matcher", "report", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    res = run("--db", str(tmp_path / "missing.db"))
    assert res.returncode == 2 and "no matcher database" in res.stderr
    MatcherStore(tmp_path / "m.db").close()
    res = run("--db", str(tmp_path / "m.db"), "--day", "yesterday")
    assert res.returncode == 2 and "--day" in res.stderr
    res = run("--db", str(tmp_path / "m.db"))
    assert res.returncode == 0 and "No probing flags." in res.stdout
    for bad, words in (("volume_factr=2", "unknown name"), ("volume_factor=x", "not a number"),
                       ("window_days=0", "must be positive")):
        res = run("--db", str(tmp_path / "m.db"), "--threshold", bad)
        assert res.returncode == 2 and words in res.stderr, res.stderr
