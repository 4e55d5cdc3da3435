"""Normalisation: raw imported values -> comparable canonical forms.

Everything here is deterministic and local to the node. Identifier
normalisers raise FieldValueError with a plain reason; the importer reports
it as a row error. Name normalisers never raise: an unusable name comes back
empty and simply yields no name-based match keys.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

import phonenumbers

from fedalert.echo import echo
from fedalert.node import _names
from fedalert.node.errors import FieldValueError
from fedalert.node.identity import Name

__all__ = [
    "NormalName",
    "fold",
    "normalise_address",
    "normalise_chi",
    "normalise_email",
    "normalise_forename",
    "normalise_moniker",
    "normalise_name",
    "is_no_fixed_abode",
    "normalise_ni",
    "normalise_phone",
    "normalise_pnc",
    "normalise_postcode",
    "nickname_forms",
    "parse_date",
    "surname_forms",
]

fold = _names.fold

# ---------------------------------------------------------------- dates

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})$")
_D_MON_Y = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[-/. ]?([a-z]+)[-/. ,]*(\d{2}|\d{4})$")


def _year(text: str, today: datetime.date) -> int:
    year = int(text)
    if len(text) == 2:
        # A two-digit year of birth is in the past: 91 -> 1991, 05 -> 2005 (in 2026).
        year += 2000 if year <= today.year % 100 else 1900
    return year


def parse_date(text: str, fmt: str | None = None, *, today: datetime.date | None = None) -> datetime.date:
    """Parse a date of birth as people type it in the UK (day first).

    Accepts 17/04/1991, 17-04-1991, 17.4.91, 17-Apr-1991, 17 April 1991,
    1991-04-17 (ISO) and 19910417. ``fmt`` is a strptime format that
    overrides the guessing. Impossible dates, unreadable text and dates in
    the future raise FieldValueError.
    """
    today = today or datetime.date.today()
    raw = (text or "").strip()
    if not raw:
        raise FieldValueError("the date is empty")
    if fmt is not None:
        try:
            value = datetime.datetime.strptime(raw, fmt).date()
        except ValueError:
            raise FieldValueError(f"{echo(raw)} does not match the date format {echo(fmt)}") from None
    else:
        low = raw.casefold()
        y = m = d = None
        if match := _ISO.match(low) or _COMPACT.match(low):
            y, m, d = int(match[1]), int(match[2]), int(match[3])
        elif match := _DMY.match(low):
            d, m, y = int(match[1]), int(match[2]), _year(match[3], today)
        elif (match := _D_MON_Y.match(low)) and match[2] in _MONTHS:
            d, m, y = int(match[1]), _MONTHS[match[2]], _year(match[3], today)
        else:
            raise FieldValueError(f"{echo(raw)} is not a date in a form we read (use DD/MM/YYYY)")
        try:
            value = datetime.date(y, m, d)
        except ValueError:
            raise FieldValueError(f"{echo(raw)} is not a real date") from None
    if value > today:
        raise FieldValueError(f"{echo(raw)} is in the future")
    if value.year < 1880:
        raise FieldValueError(f"{echo(raw)} is too long ago to be a date of birth")
    return value


# ---------------------------------------------------------------- names


@dataclass(frozen=True)
class NormalName:
    """A name in comparable form. Empty strings where the part is missing."""

    forename: str  # first forename word, hyphenated forenames joined ("maryann")
    initial: str  # first letter of the forename ("" if none)
    middle: tuple[str, ...]  # further forenames and middle names
    surname: str  # whole surname, spaces and hyphens removed ("smithjones")
    surname_parts: tuple[str, ...]  # parts of a double-barrelled surname (without particles)
    forename_as_surname: str = ""  # the first forename normalised as a surname would be (swap keys)

    @property
    def surnames(self) -> tuple[str, ...]:
        """The whole surname first, then each part that differs from it."""
        forms = [self.surname] if self.surname else []
        forms += [p for p in self.surname_parts if p not in forms]
        return tuple(forms)


@functools.lru_cache(maxsize=65536)  # forenames repeat across records; the result is immutable
def normalise_forename(text: str) -> tuple[str, tuple[str, ...]]:
    """(first forename, further forenames); "Mary-Ann Jo" -> ("maryann", ("jo",))."""
    words = fold(text, keep_hyphen=True).split()
    words = [w.replace("-", "") for w in words]
    words = [w for w in words if w]
    if not words:
        return "", ()
    return words[0], tuple(words[1:])


@functools.lru_cache(maxsize=65536)  # surnames repeat across records; the result is immutable
def surname_forms(text: str) -> tuple[str, tuple[str, ...]]:
    """(whole surname, parts) with Mc/Mac and O' forms made equal.

    "McDonald", "Mac Donald", "MacDonald" -> "macdonald"; "O'Brien", "O Brien"
    -> "obrien"; "Smith-Jones" and "Smith Jones" -> ("smithjones",
    ("smith", "jones")); "van der Berg" -> ("vanderberg", ("berg",)).
    """
    folded = fold(text, keep_hyphen=True)
    barrels = [b.split() for b in folded.split("-") if b.strip()]
    words: list[str] = []
    parts: list[str] = []
    for barrel in barrels:
        joined = _names.join_prefixes(barrel)
        words += joined
        parts += [w for w in joined if w not in _names.PARTICLES and len(w) > 1]
    whole = "".join(words)
    if len(words) < 2 or parts == [whole]:
        parts = []
    return whole, tuple(dict.fromkeys(parts))


def normalise_name(name: Name) -> NormalName:
    forename, more = normalise_forename(name.forename)
    middle = more + tuple(w for w in fold(name.middle_names).split() if w)
    surname, parts = surname_forms(name.surname)
    return NormalName(
        forename=forename,
        initial=forename[:1],
        middle=middle,
        surname=surname,
        surname_parts=parts,
        forename_as_surname=surname_forms((name.forename or "").split()[0])[0] if forename else "",
    )


def normalise_moniker(text: str) -> str:
    """A moniker (a one-word alias, "Tiny"; or a street name, "Big Dave") folded
    like a forename, every word kept and joined: "Big Dave" -> "bigdave"."""
    return fold(text).replace(" ", "")


def nickname_forms(forename: str) -> tuple[str, ...]:
    """The forename and the canonical names it is a nickname of ("bob" -> ..."robert")."""
    return _names.canonical_forenames(forename)


# ---------------------------------------------------------------- identifiers

_PNC = re.compile(r"^(\d{2}|\d{4})/?(\d{1,7})([A-Z])$")


def normalise_pnc(text: str) -> str:
    """PNC id as YYYY/NNNNNNNL (year, serial zero-padded to 7, check letter).

    Accepts "91/1234A", "1991/0001234A" and forms without the slash. The
    check letter is validated (serial of year+number mod 23, PNC's alphabet).
    """
    raw = re.sub(r"\s+", "", (text or "")).upper()
    match = _PNC.match(raw)
    if not match:
        raise FieldValueError(f"{echo(text)} is not a PNC id (expected like 1991/0012345K)")
    year, serial, check = match.groups()
    if len(year) == 2:
        year = ("20" if int(year) <= datetime.date.today().year % 100 else "19") + year
    serial = serial.zfill(7)
    expected = _pnc_check(year[2:] + serial)
    if check != expected:
        raise FieldValueError(f"{echo(text)} is not a valid PNC id (check letter should be {expected})")
    return f"{year}/{serial}{check}"


_PNC_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"


def _pnc_check(digits: str) -> str:
    return _PNC_ALPHABET[int(digits) % 23]


def normalise_chi(text: str) -> str:
    """CHI number: 10 digits, first six a DDMMYY date, last digit a mod-11 check."""
    raw = re.sub(r"[\s\-]", "", text or "")
    if not re.fullmatch(r"\d{10}", raw):
        raise FieldValueError(f"{echo(text)} is not a CHI number (expected 10 digits)")
    try:
        datetime.date(2000, int(raw[2:4]), int(raw[0:2]))  # leap-safe day/month check
    except ValueError:
        raise FieldValueError(f"{echo(text)} is not a CHI number (first six digits are not a date)") from None
    total = sum(int(d) * w for d, w in zip(raw[:9], range(10, 1, -1)))
    check = (11 - total % 11) % 11
    if check == 10 or check != int(raw[9]):
        raise FieldValueError(f"{echo(text)} is not a valid CHI number (check digit fails)")
    return raw


_NI = re.compile(r"^([A-Z]{2})(\d{6})([A-D])$")
_NI_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def normalise_ni(text: str) -> str:
    """National Insurance number: two letters, six digits, a letter A-D ("QQ123456C").

    Prefixes HMRC never issues are refused, except QQ: it is the documented
    example prefix, accepted so that synthetic and test data never needs a
    number that could belong to a real person.
    """
    raw = re.sub(r"[\s\-]", "", text or "").upper()
    match = _NI.match(raw)
    if not match:
        raise FieldValueError(f"{echo(text)} is not a National Insurance number (expected like QQ123456C)")
    prefix = match[1]
    if prefix[0] in "DFIQUV" and prefix != "QQ" or prefix[1] in "DFIOQUV" and prefix != "QQ" or prefix in _NI_BAD_PREFIX:
        raise FieldValueError(f"{echo(text)} is not a valid National Insurance number (prefix {prefix} is never issued)")
    return raw


def normalise_phone(text: str, region: str = "GB") -> str:
    """Phone number in E.164 ("07700 900123" -> "+447700900123")."""
    try:
        number = phonenumbers.parse(text or "", region)
    except phonenumbers.NumberParseException:
        raise FieldValueError(f"{echo(text)} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise FieldValueError(f"{echo(text)} is not a possible phone number (wrong length)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(text: str) -> str:
    """E-mail address trimmed and lower-cased."""
    value = (text or "").strip().lower()
    if not _EMAIL.match(value):
        raise FieldValueError(f"{echo(text)} is not an e-mail address")
    return value


_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")


def normalise_postcode(text: str) -> str:
    """UK postcode upper-case without the space ("sw1a 1aa" -> "SW1A1AA")."""
    value = re.sub(r"\s+", "", text or "").upper()
    if not _POSTCODE.match(value):
        raise FieldValueError(f"{echo(text)} is not a UK postcode (expected like SW1A 1AA)")
    return value


#: How exports write "no fixed abode" in a postcode or address column, compared
#: folded and without spaces or punctuation ("N.F.A." and "No Fixed Abode"
#: both qualify). "homeless" is counted too: it says the same about an address.
NO_FIXED_ABODE_FORMS = frozenset({
    "nfa", "nofixedabode", "ofnofixedabode", "nofixedaddress", "nofixedabodenfa", "nfanofixedabode", "homeless",
})


def is_no_fixed_abode(text: str) -> bool:
    """True when a postcode or address value says the person has no fixed abode ("NFA", "No fixed abode")."""
    return len(text) <= 64 and fold(text).replace(" ", "") in NO_FIXED_ABODE_FORMS


_ADDRESS_WORDS = {
    "street": "st", "road": "rd", "avenue": "ave", "av": "ave", "lane": "ln", "drive": "dr",
    "court": "ct", "crescent": "cres", "place": "pl", "terrace": "tce", "close": "cl",
    "gardens": "gdns", "square": "sq", "grove": "gr", "parade": "pde", "highway": "hwy",
    "flat": "flat", "apartment": "flat", "apt": "flat", "unit": "flat", "circuit": "cct",
}


def normalise_address(text: str) -> str:
    """Address lines folded, common street words abbreviated, words in order."""
    words = fold(text).split()
    return " ".join(_ADDRESS_WORDS.get(w, w) for w in words)
