"""One CSV row -> one identity: the validation `node import` and `eval-linkage` share.

:func:`check_row` takes one row of a canonical CSV (column -> raw text) and
returns a :class:`RowOutcome`: the record id, the :class:`Identity`, the case
values (when the file has case columns), the warnings and the row errors.
Both the importer (fedalert.node.importer) and eval-linkage's reader
(fedalert.evaluation._csv) call it, so what is evaluated is what is deployed.

The rules, so that a bad value never drops a person:

- A bad value in any column but ``record_id`` is blanked with a warning
  (row, field, reason, what was done) and the row is imported: an
  unreadable or impossible date of birth, a PNC id with a bad check letter,
  a malformed CHI or NI number, phone or e-mail, a postcode that is not one,
  a value longer than the column allows.
- Control characters, bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E,
  U+200F, U+061C), other format characters and line breaks are removed from
  every text value with a warning (a line break or tab becomes a space), so
  they are never stored or shown. The value is kept.
- "No fixed abode" (``NFA``, ``No Fixed Abode``, ``homeless``...; see
  normalise.is_no_fixed_abode) in the postcode or address column is recorded
  as ``Identity.no_fixed_abode`` and the column is left blank: it is a fact
  about the person, not a place two records could share.
- An alias of one word ("Tiny") is kept as a moniker, never refused; so is
  every entry of the ``monikers`` column.
- A case value whose provenance is missing or bad (``__source``,
  ``__recorded``, ``__subject``) is not stored, with a warning naming the
  column; the identity still imports.
- A row is refused (a row error) only when its ``record_id`` is missing or
  invalid, or when it cannot identify anyone: no forename and surname, no
  alias with both, and no valid PNC id, CHI number or NI number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fedalert.echo import echo
from fedalert.node import normalise
from fedalert.node.errors import FieldValueError, RowError
from fedalert.node.identity import Identity, Name

COLUMNS = (
    "record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs", "monikers",
    "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address",
)
#: Identifiers that identify a person on their own (a row with one of them needs no name).
STRONG = ("pnc_id", "chi_number", "ni_number")
MAX_FIELD_CHARS = 512
MAX_CASE_CHARS = 4000
#: Aliases (and, separately, monikers) kept per record; the rest are left out with a warning.
MAX_ALIASES = 20
CASE_SUFFIXES = ("__source", "__recorded", "__subject")
CASE_DEFAULTS = ("case_source", "case_recorded", "case_subject")
DEFAULT_SUBJECT = "perpetrator"
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")

IDENTIFIER_CHECKS: dict[str, Callable[[str], str]] = {
    "pnc_id": normalise.normalise_pnc,
    "chi_number": normalise.normalise_chi,
    "ni_number": normalise.normalise_ni,
    "phone": normalise.normalise_phone,
    "email": normalise.normalise_email,
    "postcode": normalise.normalise_postcode,
}

# What a warning says was done.
BLANKED = "value blanked"
CLEANED = "characters removed"
NOT_STORED = "case value not stored"
LEFT_OUT = "the rest left out"

_BREAKS = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029")  # become a space
_KEPT_IN_CASE_TEXT = frozenset("\n\t")  # a case value may run over several lines


@dataclass(frozen=True, slots=True)
class RowWarning:
    """A value that was changed or left out while its row was imported: row, field, reason, action."""

    row: int
    field: str
    reason: str
    action: str
    record_id: str | None = None

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}; {self.action}"


@dataclass
class RowOutcome:
    row: int
    record_id: str
    identity: Identity | None = None
    case_fields: list | None = None  # None: the file has no case columns (leave stored values alone)
    warnings: list[RowWarning] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CaseColumns:
    """The case-field columns of a file's header, and the protocol (with the area's partners) they need."""

    fields: tuple[str, ...]
    protocol: object


def clean_text(value: str, keep: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """`value` without control, format (bidi) and line-break characters; and the code points removed.

    A line break or tab becomes a space (so "Ann\\nMarie" reads "Ann Marie"),
    every other such character is dropped; characters in `keep` stay."""
    if value.isprintable():
        return value, []
    out, removed = [], []
    for ch in value:
        if ch in keep or ch.isprintable() or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch)  # printable, or a space other than " " (no-break space...): kept as typed
            continue
        removed.append(f"U+{ord(ch):04X}")
        if ch in _BREAKS:
            out.append(" ")
    return "".join(out).strip(), removed


class _Row:
    """Reads the values of one row, collecting its warnings."""

    def __init__(self, row_no: int, values: Mapping[str, str], record_id: str):
        self.row_no, self.values, self.record_id = row_no, values, record_id
        self.warnings: list[RowWarning] = []

    def warn(self, column: str, reason: str, action: str = BLANKED) -> None:
        self.warnings.append(RowWarning(self.row_no, column, reason, action, self.record_id))

    def text(self, column: str, limit: int = MAX_FIELD_CHARS, keep: frozenset[str] = frozenset()) -> str:
        value = self.values.get(column)
        if not value:
            return ""
        value = value.strip()
        if len(value) > limit:
            self.warn(column, f"longer than {limit} characters")
            return ""
        value, removed = clean_text(value, keep)
        if removed:
            distinct = list(dict.fromkeys(removed))
            shown = ", ".join(distinct[:8]) + (f" and {len(distinct) - 8} more" if len(distinct) > 8 else "")
            self.warn(column, f"control, bidi or line-break characters ({shown})", CLEANED)
        return value

    def checked(self, column: str, check: Callable[[str], object]) -> str:
        """The raw value if `check` accepts it; else blank, with a warning."""
        value = self.text(column)
        if not value:
            return ""
        try:
            check(value)
        except FieldValueError as exc:
            self.warn(column, exc.reason)
            return ""
        return value

    def date(self, column: str, text: str, dob_format: str | None):
        try:
            return normalise.parse_date(text, dob_format)
        except FieldValueError as exc:
            self.warn(column, exc.reason)
            return None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()] if text else []


def _names_and_monikers(r: _Row) -> tuple[list[Name], list[str]]:
    names = [Name(r.text("forename"), r.text("middle_names"), r.text("surname"))]
    monikers: list[str] = []
    aliases = _split(r.text("aliases"))
    if len(aliases) > MAX_ALIASES:
        r.warn("aliases", f"{len(aliases)} aliases; at most {MAX_ALIASES} are kept", LEFT_OUT)
        aliases = aliases[:MAX_ALIASES]
    for alias in aliases:
        words = alias.split()
        if len(words) == 1:
            monikers.append(alias)  # "Tiny": a moniker, kept as evidence
        else:
            names.append(Name(words[0], " ".join(words[1:-1]), words[-1]))
    monikers += _split(r.text("monikers"))
    seen, kept = set(), []
    for moniker in monikers:
        key = normalise.normalise_moniker(moniker)
        if key and key not in seen:
            seen.add(key)
            kept.append(moniker)
    if len(kept) > MAX_ALIASES:
        r.warn("monikers", f"{len(kept)} monikers; at most {MAX_ALIASES} are kept", LEFT_OUT)
        kept = kept[:MAX_ALIASES]
    return [n for n in names if n.forename or n.surname] or names[:1], kept


def _place(r: _Row, ids: dict[str, str]) -> tuple[str, bool]:
    """(address, no fixed abode): "NFA" in the postcode or the address's first line is a fact, not a place."""
    nfa = False
    postcode = r.text("postcode")
    if postcode and normalise.is_no_fixed_abode(postcode):
        nfa = True
    elif postcode:
        try:
            normalise.normalise_postcode(postcode)
            ids["postcode"] = postcode
        except FieldValueError as exc:
            r.warn("postcode", exc.reason)
    address = r.text("address")
    if address and normalise.is_no_fixed_abode(re.split(r"[,\n]", address, maxsplit=1)[0]):
        nfa, address = True, ""
    return address, nfa


def _identifies(names: list[Name], ids: dict[str, str]) -> bool:
    if any(ids.get(c) for c in STRONG):
        return True
    for n in names:
        if normalise.normalise_forename(n.forename)[0] and normalise.surname_forms(n.surname)[0]:
            return True
    return False


def check_row(row_no: int, values: Mapping[str, str], *, dob_format: str | None = None,
              case: CaseColumns | None = None) -> RowOutcome:
    """Validate one row (see the module docstring). Never raises for a bad value."""
    record_id = (values.get("record_id") or "").strip()
    out = RowOutcome(row_no, record_id)
    if not RECORD_ID.match(record_id):
        out.errors.append(RowError(row_no, "record_id", "required: 1-64 characters of letters, digits and "
                                   ". _ / -, starting with a letter or digit", None))
        return out
    r = _Row(row_no, values, record_id)
    names, monikers = _names_and_monikers(r)
    dobs = []
    if text := r.text("date_of_birth"):
        dobs += filter(None, [r.date("date_of_birth", text, dob_format)])
    for part in _split(r.text("alias_dobs")):
        dobs += filter(None, [r.date("alias_dobs", part, dob_format)])
    ids = {col: r.checked(col, check) for col, check in IDENTIFIER_CHECKS.items() if col != "postcode"}
    address, nfa = _place(r, ids)
    if case is not None:
        out.case_fields = _case_values(r, case, dob_format)
    if not _identifies(names, ids):
        out.errors.append(RowError(row_no, "(row)", "cannot identify anyone: give a forename and surname, an alias "
                                   "with both, or a valid PNC id, CHI number or NI number", record_id))
        out.errors += [RowError(row_no, w.field, w.reason, record_id) for w in r.warnings]
        return out
    out.identity = Identity(names=names, dobs=dobs, address=address, monikers=monikers,
                            no_fixed_abode=nfa, **{col: ids.get(col, "") for col in IDENTIFIER_CHECKS})
    out.warnings = r.warnings
    return out


def _case_values(r: _Row, case: CaseColumns, dob_format: str | None) -> list:
    """The row's case values; one with missing or bad provenance is left out with a warning naming the column."""
    from fedalert.node.disclosure.law import SUBJECTS
    from fedalert.node.disclosure.model import CaseField

    out = []
    partners = case.protocol.partners
    for name in case.fields:
        value = r.text(name, MAX_CASE_CHARS, _KEPT_IN_CASE_TEXT)
        if not value:
            continue
        src_col = f"{name}__source" if r.values.get(f"{name}__source", "").strip() else "case_source"
        source = r.text(src_col)
        rec_col = f"{name}__recorded" if r.values.get(f"{name}__recorded", "").strip() else "case_recorded"
        recorded_text = r.text(rec_col)
        subj_col = f"{name}__subject" if r.values.get(f"{name}__subject", "").strip() else "case_subject"
        subject = r.text(subj_col) or DEFAULT_SUBJECT
        problems: list[tuple[str, str]] = []
        if not source:
            problems.append((f"{name}__source", f"a {name} value needs the partner agency that supplied it "
                                                f"({name}__source or case_source)"))
        elif source not in partners:
            known = ", ".join(sorted(partners)) or "none (give --overlay)"
            problems.append((src_col, f"'{echo(source)}' is not a partner in this area's protocol "
                                      f"overlay; partners: {known}"))
        recorded = None
        if not recorded_text:
            problems.append((f"{name}__recorded", f"a {name} value needs the date it was recorded "
                                                  f"({name}__recorded or case_recorded)"))
        else:
            try:
                recorded = normalise.parse_date(recorded_text, dob_format)
            except FieldValueError as exc:
                problems.append((rec_col, exc.reason))
        if subject not in SUBJECTS:
            problems.append((subj_col, f"'{echo(subject)}' is not one of {', '.join(SUBJECTS)}"))
        for column, reason in problems:
            r.warn(column, reason, f"{NOT_STORED} ({name})")
        if not problems:
            out.append(CaseField(name, value, subject, source, recorded))
    return out
