"""Property-based fuzzing of every input parser a user or a file can reach.

The promise under test: gibberish and hostile values (non-UTF-8, NUL bytes,
enormous strings, impossible and future dates, formula-injection strings)
never crash anything; each gets a clear, typed error; a refused import
leaves nothing half-written; CSV exports neutralise formula cells.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fedalert.audit import AuditLog, export, neutralise_cell
from fedalert.errors import ConfigError, FedalertError
from fedalert.matcher.quotas import parse_quotas
from fedalert.node import normalise
from fedalert.node.errors import FieldValueError, ImportRejectedError
from fedalert.node.identity import Identity, Name
from fedalert.node.importer import COLUMNS, MAX_FIELD_CHARS, import_records, parse_csv, write_report
from tests.dbsnap import db_snapshot

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FORMULAS = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
            " =cmd|' /C calc'!A0", "\uff1d1+1", "=1\n=2"]
DATES = ["31/02/2020", "29/02/2023", "00/00/0000", "01/01/2999", "1/1/1800", "99999999", "2020-13-01",
         "17-Foo-1991", "32 January 1990", "1991/04/17", "17.4.91", "\x00", "9" * 600]
_BAD_CELL = re.compile(r"^[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]")

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(FORMULAS + DATES),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=MAX_FIELD_CHARS - 2, max_size=MAX_FIELD_CHARS + 3),
    st.text(alphabet="\x00\x01\x1f\x7f\u202e\ufeff \t", max_size=8),
    st.from_regex(r"[A-Za-z]{2,8} [A-Za-z]{2,8}(;[A-Za-z]{2,8} [A-Za-z]{2,8}){0,25}", fullmatch=True),
)


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def csv_files(draw):
    others = draw(st.lists(st.sampled_from(COLUMNS[1:]), unique=True, max_size=len(COLUMNS) - 1))
    header = ["record_id", *others]
    rows = draw(st.lists(st.lists(hostile_text, min_size=len(header), max_size=len(header)), max_size=6))
    for row in rows:  # half the rows get a plausible record id so that deeper checks run
        if draw(st.booleans()):
            row[0] = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,10}", fullmatch=True))
    return _csv_bytes(header, rows)


#: Never stored or shown: controls (newlines included), bidi and other format characters, line separators.
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]")


def _check_parsed(parsed):
    today = dt.date.today()
    for e in [*parsed.errors, *parsed.warnings]:
        assert isinstance(e.row, int) and e.row >= 1
        assert e.field in COLUMNS or e.field in ("(file)", "(header)", "(row)")
        assert isinstance(e.reason, str) and e.reason.strip()
        assert not _UNSHOWABLE.search(e.reason) and len(e.reason) < 400  # values echoed cut and escaped
    for r in parsed.rows:
        assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$", r.record_id)
        ident = r.identity
        values = [ident.pnc_id, ident.chi_number, ident.ni_number, ident.phone, ident.email, ident.postcode,
                  ident.address, *ident.monikers] + [v for n in ident.names for v in (n.forename, n.middle_names,
                                                                                         n.surname)]
        for v in values:
            assert len(v) <= MAX_FIELD_CHARS and not _UNSHOWABLE.search(v)
        assert any(n.forename and n.surname for n in ident.names) or ident.pnc_id or ident.chi_number or ident.ni_number
        for d in ident.dobs:
            assert dt.date(1880, 1, 1) <= d <= today


# ---------------------------------------------------------------- CSV importer

@FUZZ
@given(st.binary(max_size=3000))
def test_importer_never_crashes_on_arbitrary_bytes(data):
    _check_parsed(parse_csv(data))


@FUZZ
@given(csv_files())
def test_importer_hostile_rows_give_row_field_reason(data):
    _check_parsed(parse_csv(data))


def test_importer_non_utf8_and_nul_are_named():
    parsed = parse_csv(b"record_id,forename,surname\nr1,Ann\xff,Example\n")
    assert [(e.row, e.field) for e in parsed.errors] == [(2, "(file)")] and "not UTF-8" in parsed.errors[0].reason
    parsed = parse_csv(b"record_id,forename,surname\nr1,An\x00n,Example\n")
    assert parsed.rows[0].identity.names[0].forename == "Ann"
    assert [(w.field, w.action) for w in parsed.warnings] == [("forename", "characters removed")]


def test_importer_future_and_impossible_dates_are_blanked():
    data = _csv_bytes(["record_id", "forename", "surname", "date_of_birth"],
                      [["r1", "Ann", "Example", "01/01/2999"], ["r2", "Bea", "Example", "31/02/1990"],
                       ["r3", "Cy", "Example", "01/01/1700"]])
    parsed = parse_csv(data)
    assert [r.identity.dobs for r in parsed.rows] == [[], [], []] and not parsed.errors
    reasons = {w.record_id: w.reason for w in parsed.warnings}
    assert "future" in reasons["r1"] and "not a real date" in reasons["r2"] and "too long ago" in reasons["r3"]


@FEW
@given(csv_files())
def test_refused_import_leaves_the_store_unchanged(data):
    from fedalert.node.store import NodeStore

    folder = Path(tempfile.mkdtemp(prefix="fuzz-import-"))
    try:
        store = NodeStore(folder / "node.db")
        seed = parse_csv(_csv_bytes(["record_id", "forename", "surname"], [["seed-1", "Ann", "Example"]]))
        import_records(store, seed, file_name="seed.csv")
        before = db_snapshot(folder / "node.db")
        parsed = parse_csv(data)
        if parsed.errors:
            with pytest.raises(ImportRejectedError):
                import_records(store, parsed, file_name="fuzz.csv", withdraw_missing=True)
            assert db_snapshot(folder / "node.db") == before
        else:
            import_records(store, parsed, file_name="fuzz.csv")
        store.close()
    finally:
        shutil.rmtree(folder)


@FEW
@given(csv_files())
def test_import_report_cells_are_neutralised(data):
    parsed = parse_csv(data)
    assume(parsed.report)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "report.csv"
        write_report(parsed.report, out)
        rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert rows[0] == ["row", "record_id", "field", "reason", "action"]
    assert len(rows) == len(parsed.errors) + len(parsed.warnings) + len(parsed.report.notes) + 1
    for row in rows[1:]:
        for cell in row:
            assert not _BAD_CELL.match(cell), cell


def test_import_report_neutralises_a_formula_record_id(tmp_path):
    parsed = parse_csv(_csv_bytes(["record_id", "forename", "surname", "pnc_id"],
                                  [["=cmd|' /C calc'!A0", "Ann", "Example", ""],
                                   ["r2", "Bea", "Example", "=HYPERLINK(\"x\")"]]))
    write_report(parsed.report, tmp_path / "r.csv")
    text = (tmp_path / "r.csv").read_text()
    assert "'=cmd" not in text  # an invalid record id is never echoed
    assert "'=HYPERLINK" in text
    assert not any(_BAD_CELL.match(c) for row in csv.reader(io.StringIO(text)) for c in row)


# ---------------------------------------------------------------- normaliser

IDENTIFIER_FNS = [normalise.normalise_pnc, normalise.normalise_chi, normalise.normalise_ni,
                  normalise.normalise_phone, normalise.normalise_email, normalise.normalise_postcode]


@FUZZ
@given(hostile_text)
def test_identifier_normalisers_return_text_or_field_error(text):
    for fn in IDENTIFIER_FNS:
        try:
            out = fn(text)
        except FieldValueError as exc:
            assert exc.reason.strip()
        else:
            assert isinstance(out, str) and out and len(out) <= len(text) + 4


@FUZZ
@given(hostile_text, st.one_of(st.none(), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%", "%Q", "\x00"]), st.text(max_size=6)))
def test_parse_date_returns_a_plausible_date_or_field_error(text, fmt):
    try:
        d = normalise.parse_date(text, fmt)
    except FieldValueError as exc:
        assert exc.reason.strip()
    else:
        assert dt.date(1880, 1, 1) <= d <= dt.date.today()


@FUZZ
@given(hostile_text, hostile_text, hostile_text)
def test_name_and_address_normalisers_never_raise(fore, middle, sur):
    n = normalise.normalise_name(Name(fore, middle, sur))
    assert isinstance(n.surname, str) and isinstance(n.middle, tuple)
    normalise.normalise_address(fore + " " + sur)
    normalise.nickname_forms(n.forename)


@FEW
@given(st.lists(st.tuples(hostile_text, hostile_text, hostile_text), min_size=1, max_size=4),
       st.lists(st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date.today()), max_size=3))
def test_match_keys_never_raise_on_hostile_identities(names, dobs):
    from fedalert.node.matchkeys import build_match_keys

    keys = build_match_keys(Identity(names=[Name(*n) for n in names], dobs=dobs))
    assert all(isinstance(k, str) and isinstance(v, set) for k, v in keys.items())


# ---------------------------------------------------------------- config and protocol loaders

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_doc(d: dict) -> str:
    """A TOML document of `key = inline-value` lines (tables as inline tables)."""
    return "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in d.items()) + "\n"


scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(max_size=20),
                    st.sampled_from(FORMULAS), st.dates())
toml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)), max_leaves=8)

NODE_KEYS = ["keys", "db", "matcher", "listen", "audit", "matcher_name"]


def _node_args(path: Path) -> argparse.Namespace:
    return argparse.Namespace(config=path, db=None, keys_dir=None, matcher=None, matcher_name=None)


@FUZZ
@given(st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.sampled_from(NODE_KEYS + ["extra"]), toml_values, max_size=4).map(
        lambda d: toml_doc({"node": d}).encode()),
    toml_values.map(lambda v: toml_doc({"node": v}).encode()),
))
def test_node_config_loader_gives_config_error_or_settings(data):
    from fedalert.node.cli import _settings

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "node.toml"
        p.write_bytes(data)
        try:
            cfg = _settings(_node_args(p))
        except ConfigError as exc:
            assert str(p) in str(exc) or "config" in str(exc)
        else:
            assert all(isinstance(v, (str, Path)) for v in cfg.values())


def _national() -> dict:
    from fedalert.node.disclosure.protocol import bundled_national_path

    return tomllib.loads(bundled_national_path().read_text(encoding="utf-8"))


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _replace(obj, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        out = dict(obj)
        out[head] = _replace(obj[head], rest, value)
        return out
    out = list(obj)
    out[head] = _replace(obj[head], rest, value)
    return out


@FUZZ
@given(st.data())
def test_protocol_loader_gives_protocol_error_naming_file_or_loads(data):
    """Mutate one value anywhere in the national protocol file; the loader
    either accepts it or raises ProtocolFileError naming the file."""
    from fedalert.node.disclosure.protocol import ProtocolFileError, load_protocol

    base = _national()
    paths = [p for p in _paths(base) if p]
    path = data.draw(st.sampled_from(paths))
    mode = data.draw(st.sampled_from(["replace", "delete", "bytes"]))
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "national.toml"
        if mode == "bytes":
            f.write_bytes(data.draw(st.binary(max_size=200)))
        elif mode == "delete" and isinstance(path[-1], str):
            parent = _replace(base, (), base)
            node = parent
            for k in path[:-1]:
                node = node[k]
            node.pop(path[-1])
            f.write_text(toml_doc(parent))
        else:
            f.write_text(toml_doc(_replace(base, path, data.draw(toml_values))))
        try:
            load_protocol(f)
        except ProtocolFileError as exc:
            assert str(f) in str(exc)


@FEW
@given(st.data())
def test_protocol_overlay_loader_gives_protocol_error_naming_file_or_loads(data):
    """The same for an area overlay on top of the bundled national file."""
    from fedalert.node.disclosure.protocol import (ProtocolFileError, bundled_national_path, bundled_overlay_example_path,
                                        load_protocol)

    base = tomllib.loads(bundled_overlay_example_path().read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from([p for p in _paths(base) if p]))
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "overlay.toml"
        f.write_text(toml_doc(_replace(base, path, data.draw(toml_values))))
        try:
            load_protocol(bundled_national_path(), f)
        except ProtocolFileError as exc:
            assert str(f) in str(exc) or str(bundled_national_path()) in str(exc)


def test_protocol_loader_refuses_non_utf8(tmp_path):
    from fedalert.node.disclosure.protocol import ProtocolFileError, load_protocol

    f = tmp_path / "p.toml"
    f.write_bytes(b"[protocol]\nid = \"\xff\"\n")
    with pytest.raises(ProtocolFileError) as err:
        load_protocol(f)
    assert "UTF-8" in str(err.value)


@FUZZ
@given(st.one_of(
    st.text(max_size=200),
    st.dictionaries(st.sampled_from(["default", "area", "other"]), toml_values, max_size=3).map(toml_doc),
    st.dictionaries(st.text(max_size=6), st.dictionaries(st.sampled_from(["records_per_day", "tokens_per_day", "x"]),
                                                        toml_values, max_size=2), max_size=3).map(
        lambda d: toml_doc({"area": d})),
))
def test_quotas_loader_gives_config_error_or_quotas(text):
    try:
        q = parse_quotas(text, source="q.toml")
    except ConfigError as exc:
        assert "q.toml" in str(exc)
    else:
        for quota in [q.default, *q.per_area.values()]:
            for v in (quota.records_per_day, quota.tokens_per_day):
                assert v is None or (isinstance(v, int) and v >= 0)


# ---------------------------------------------------------------- CSV exports

@FEW
@given(st.lists(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda k: k not in {"name", "key", "token", "dob", "email", "phone", "address", "secret", "payload"}),
    st.one_of(st.sampled_from(FORMULAS), st.text(max_size=30), st.integers(), st.lists(st.sampled_from(FORMULAS), max_size=2)),
    max_size=3), min_size=1, max_size=4))
def test_audit_csv_export_neutralises_every_cell(entries):
    with tempfile.TemporaryDirectory() as d:
        log = AuditLog(Path(d) / "a.jsonl")
        for fields in entries:
            try:
                log.append("fuzz.event", **fields)
            except FedalertError:
                continue  # refused fields (e.g. a forbidden name) are a clear error, fine
        if not log.path.exists():
            return
        export(log.path, Path(d) / "a.csv", "csv")
        rows = list(csv.reader((Path(d) / "a.csv").open(encoding="utf-8", newline="")))
    for row in rows:
        for cell in row:
            assert not _BAD_CELL.match(cell), cell


@given(st.text(max_size=30))
@FUZZ
def test_neutralise_cell_property(value):
    out = neutralise_cell(value)
    assert not _BAD_CELL.match(out)
    assert out in (value, "'" + value)
