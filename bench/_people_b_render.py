"""One area's record of one person: make_people_b's error model at work.

Each record is an independent rendering of the truth at the time (the Life of
that slot), through the habits of the system that holds it: a police or a
council system of that area, each with its own export style (name case,
date, phone, postcode and address forms), then through the recording errors
of bench/_people_b_rates.py, each drawn at its stated rate and tagged.
"""

from __future__ import annotations

import datetime
import random
import re

import _people_b_data as D
import _people_b_names as N
from _people_b_population import PNC_ALPHABET, REF_DATE, Person, ascii_fold
from _people_b_rates import Tally

DATE_FORMATS = ["dd/mm/yyyy", "dd-mm-yyyy", "d/m/yyyy", "dd.mm.yy", "yyyy-mm-dd", "dd-Mon-yyyy",
                "d Month yyyy", "dd/mm/yy", "yyyymmdd"]
PHONE_FORMATS = ["spaced", "compact", "intl", "intl_compact", "dashed", "brackets"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_ID_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def make_style(seed: int, area: str, source: str) -> dict:
    """The export habits of one system: fixed per (area, source) for a seed."""
    rng = random.Random(f"{seed}:style:{area}:{source}")
    police = source == "police"
    return {
        "name_case": rng.choices(["title", "upper_surname", "upper", "as_typed"],
                                 weights=[25, 50, 25, 0] if police else [60, 0, 10, 30])[0],
        "middle_in_forename": rng.random() < 0.2,
        "date_format": rng.choice(DATE_FORMATS[:8] if police else DATE_FORMATS),
        "phone_format": rng.choices(PHONE_FORMATS, weights=[40, 30, 10, 8, 6, 6])[0],
        "postcode_compact": rng.random() < 0.2,
        "address_upper": rng.random() < (0.4 if police else 0.1),
        "address_abbrev": rng.random() < 0.4,
        "address_town": rng.random() < 0.7,
        "pnc_short": rng.random() < 0.35,
        "ni_spaced": rng.random() < 0.3,
    }


def format_date(d: datetime.date, fmt: str) -> str:
    return {
        "dd/mm/yyyy": f"{d:%d/%m/%Y}", "dd-mm-yyyy": f"{d:%d-%m-%Y}", "d/m/yyyy": f"{d.day}/{d.month}/{d.year}",
        "dd.mm.yy": f"{d:%d.%m.%y}", "yyyy-mm-dd": d.isoformat(), "dd-Mon-yyyy": f"{d.day:02d}-{_MONTHS[d.month - 1][:3]}-{d.year}",
        "d Month yyyy": f"{d.day} {_MONTHS[d.month - 1]} {d.year}", "dd/mm/yy": f"{d:%d/%m/%y}",
        "yyyymmdd": f"{d:%Y%m%d}",
    }[fmt]


def format_phone(number: str, fmt: str) -> str:
    digits = number.replace(" ", "")
    return {
        "spaced": number, "compact": digits, "intl": f"+44 {number[1:]}", "intl_compact": f"+44{digits[1:]}",
        "dashed": number.replace(" ", "-", 1), "brackets": "({}) {}".format(*number.split(" ", 1)),
    }[fmt]


class Renderer:
    def __init__(self, seed: int, counters: Tally, numbers, persons_by_pid: dict[str, Person]):
        self.seed = seed
        self.rng = random.Random(f"{seed}:render")
        self.t = Tally(self.rng)
        self.t.eligible, self.t.applied = counters.eligible, counters.applied
        self.numbers = numbers
        self.by_pid = persons_by_pid
        self.styles: dict[tuple[str, str], dict] = {}
        self.ids: set[str] = set()
        self.scotland = {a[0] for a in D.AREAS if a[1] == "scotland"}

    def style(self, area: str, source: str) -> dict:
        key = (area, source)
        if key not in self.styles:
            self.styles[key] = make_style(self.seed, area, source)
        return self.styles[key]

    def record_id(self) -> str:
        while True:
            rid = "".join(self.rng.choice(_ID_CHARS) for _ in range(12))
            if rid not in self.ids:
                self.ids.add(rid)
                return rid

    # ------------------------------------------------------------------ the record
    def render(self, p: Person, i: int) -> tuple[dict, list[str], str]:
        t = self.t
        life = p.life[i]
        tags = list(life.events)
        source = "police" if t.hit("record_source_police") else "council"
        st = self.style(life.area, source)
        row = {"record_id": self.record_id()}
        names, alias_names = self._names(p, i, source, st, tags)
        row.update(names)
        row["date_of_birth"] = self._dob(p, source, st, tags)
        aliases = alias_names
        if aliases and t.hit(f"alias_shown_{source}", tags):
            shown = aliases if self.rng.random() < 0.7 else self.rng.sample(aliases, k=1)
            row["aliases"] = "; ".join(N.apply_case(self.rng, st["name_case"], a, surname=False) for a in shown)
        else:
            row["aliases"] = ""
        row["alias_dobs"] = ""
        if p.alt_dobs and t.hit(f"alias_dob_shown_{source}", tags):
            row["alias_dobs"] = ";".join(format_date(d, st["date_format"]) for d in p.alt_dobs)
        row["pnc_id"] = self._pnc(p, source, st, tags)
        row["chi_number"] = self._chi(p, life.area, source, tags)
        row["ni_number"] = self._ni(p, source, st, tags)
        row["phone"] = self._phone(p, life, source, st, tags)
        row["email"] = self._email(life.email, source, tags)
        row["postcode"], row["address"] = self._place(life, source, st, tags)
        if t.hit("extra_whitespace", tags):
            cols = [c for c in ("forename", "surname", "address", "phone", "middle_names") if row.get(c)]
            if cols:
                col = self.rng.choice(cols)
                row[col] = self.rng.choice([f" {row[col]}", f"{row[col]}  ", row[col].replace(" ", "  ", 1)
                                            if " " in row[col] else f"{row[col]} "])
        return row, tags, source

    # ------------------------------------------------------------------ names
    def _names(self, p: Person, i: int, source: str, st: dict, tags: list[str]) -> tuple[dict, list[str]]:
        t, rng = self.t, self.rng
        given = list(p.given)
        surname = p.surname_at(i)
        true_surname = surname
        if p.new_surname and i >= p.change_at and t.hit("name_old_surname_used", tags):
            surname = p.surname
        middles = given[1:]
        fore = given[0]
        if p.pool == "somali":
            middles = [given[1]]
            if t.hit("name_somali_element", tags):
                surname, middles = (given[1], []) if rng.random() < 0.6 else (f"{given[1]}-{surname}", [])
        if p.religious:
            middles = [p.religious] + middles
            if t.hit("name_sikh_order", tags):
                surname, middles = (p.religious, middles[1:]) if rng.random() < 0.6 else \
                    (f"{p.religious} {surname}", middles[1:])
        if p.english_name and t.hit("name_english_name_used", tags):
            fore, middles = p.english_name, ([given[0]] if rng.random() < 0.5 else [])
        elif p.known_by_middle and t.hit("name_known_by_middle", tags):
            fore, middles = given[1], ([given[0]] if rng.random() < 0.5 else []) + given[2:]
        if p.nickname and fore in (given[0], given[-1]) and D.NICKNAMES.get(fore) and \
                p.nickname in D.NICKNAMES[fore]:
            if t.hit("name_nickname_habit", tags):
                fore = p.nickname
        elif fore in D.NICKNAMES and t.hit("name_nickname", tags):
            fore = rng.choice(D.NICKNAMES[fore])
        tables = [(D.SPELLINGS, "spelling")]
        if p.pool not in ("british", "caribbean"):  # transliteration belongs to the name's own tradition
            tables.insert(0, (D.VARIANTS, "variant"))
        for table, kind in tables:
            if fore in table and t.hit(f"name_{kind}_forename", tags):
                fore = N.variant(rng, fore, table)
            if surname in table and t.hit(f"name_{kind}_surname", tags):
                surname = N.variant(rng, surname, table)
        aliases = self._alias_list(p, fore, surname, true_surname)
        if p.false_names and source == "police" and t.hit("name_primary_is_alias", tags):
            aliases = [f"{fore} {surname}"] + [a for a in aliases if a != " ".join(p.false_names[0])]
            fore, surname = p.false_names[0]
            middles = []
        if p.junior and t.hit("name_junior_suffix", tags):
            suffix = rng.choice([" Jnr", " Junior", " (Jnr)", " Jr"])
            if rng.random() < 0.7:
                surname += suffix
            else:
                fore += suffix
        if re.search(r"\w[- ]\w", surname) and not surname.endswith(("Jnr", "Junior", "Jnr)", "Jr")) and \
                t.hit("name_double_surname_partial", tags):
            surname = N.double_surname_partial(rng, surname)
        if N.mc_o_eligible(surname) and t.hit("name_mc_o_variant", tags):
            surname = N.mc_o_variant(rng, surname)
        for part in ("fore", "surname"):
            value = fore if part == "fore" else surname
            if N.particle_eligible(value) and t.hit("name_particle_variant", tags):
                value = N.particle_variant(rng, value)
                fore, surname = (value, surname) if part == "fore" else (fore, value)
        family = p.group.get("family", "")
        if p.sex == "F" and p.pool in ("polish", "lithuanian") and surname == p.surname_at(i) and \
                family and surname != family and t.hit("name_surname_gender_form", tags):
            surname = family
        if fore and t.hit("name_phonetic_forename", tags):
            fore = N.phonetic(rng, fore)
        if surname and t.hit("name_phonetic_surname", tags):
            surname = N.phonetic(rng, surname)
        if fore and t.hit("name_typo_forename", tags):
            fore = N.keyboard_typo(rng, fore)
        if surname and t.hit("name_typo_surname", tags):
            surname = N.keyboard_typo(rng, surname)
        if not (fore + surname + "".join(middles)).isascii():
            if t.hit("name_diacritics_stripped", tags):
                fore, surname, middles = ascii_fold(fore), ascii_fold(surname), [ascii_fold(m) for m in middles]
            elif t.hit("name_mojibake", tags):
                fore, surname = N.mojibake(fore), N.mojibake(surname)
        if fore and t.hit("name_initial_only", tags):
            fore = fore[0] + ("." if rng.random() < 0.5 else "")
        if t.hit("name_swap_chinese" if p.pool == "chinese" else "name_swap", tags):
            fore, surname = surname, fore
        if t.hit("missing_forename", tags):
            fore = ""
        if t.hit("missing_surname", tags):
            surname = ""
        middle = " ".join(middles)
        if middle and t.hit(f"missing_middle_{source}", tags):
            middle = ""
        if middle and st["middle_in_forename"] and fore:
            fore, middle = f"{fore} {middle}", ""
        case = st["name_case"]
        return ({"forename": N.apply_case(rng, case, fore), "middle_names": N.apply_case(rng, case, middle),
                 "surname": N.apply_case(rng, case, surname, surname=True)}, aliases)

    def _alias_list(self, p: Person, fore: str, surname: str, true_surname: str) -> list[str]:
        out = []
        for m in p.monikers:
            out.append(f"{m} {p.surname}" if self.t.hit("alias_moniker_with_surname") else m)
        out += [f"{f} {s}" for f, s in p.false_names]
        if p.aliases_old and p.new_surname:
            old = p.surname if surname != p.surname else p.new_surname
            out.append(f"{p.given[0]} {old}")
        if p.english_name and fore != p.english_name:
            out.append(f"{p.english_name} {true_surname}")
        return out

    # ------------------------------------------------------------------ dates
    def _dob(self, p: Person, source: str, st: dict, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        if t.hit(f"missing_dob_{source}", tags):
            return ""
        d = p.dob
        if t.hit("dob_placeholder_1900", tags):
            d = datetime.date(1900, 1, 1)
        elif t.hit("dob_year_only", tags):
            d = datetime.date(d.year, 1, 1)
        else:
            if d.day <= 12 and d.day != d.month and t.hit("dob_day_month_swap", tags):
                d = d.replace(day=d.month, month=d.day)
            if t.hit("dob_digit_typo", tags):
                d = self._digit_typo(d)
            if t.hit("dob_year_off", tags):
                years = rng.choice([y for y in (-1, 1, -10, 10) if d.year + y < REF_DATE.year - 15])
                d = d.replace(year=d.year + years, day=min(d.day, 28) if d.month == 2 else d.day)
        if t.hit("dob_timestamp", tags):
            return f"{d.isoformat()} 00:00:00"
        return format_date(d, st["date_format"] if rng.random() < 0.85 else rng.choice(DATE_FORMATS[:8]))

    def _digit_typo(self, d: datetime.date) -> datetime.date:
        for _ in range(20):
            text = list(f"{d:%d%m%Y}")
            k = self.rng.choice([0, 1, 2, 3, 6, 7])
            text[k] = str((int(text[k]) + self.rng.choice((-1, 1))) % 10)
            s = "".join(text)
            try:
                new = datetime.date(int(s[4:]), int(s[2:4]), int(s[:2]))
            except ValueError:
                continue
            if new != d and new.year < REF_DATE.year - 15:
                return new
        return d

    # ------------------------------------------------------------------ identifiers
    def _pnc(self, p: Person, source: str, st: dict, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        if not p.pnc or not t.hit(f"pnc_shown_{source}", tags):
            return ""
        year, rest = p.pnc.split("/")
        serial, check = rest[:-1], rest[-1]
        if t.hit("pnc_bad_check", tags):
            check = rng.choice([c for c in PNC_ALPHABET if c != check])
        if t.hit("pnc_digit_typo", tags):
            k = rng.randrange(len(serial))
            serial = serial[:k] + str((int(serial[k]) + rng.randint(1, 9)) % 10) + serial[k + 1:]
        if st["pnc_short"]:
            return f"{year[2:]}/{int(serial)}{check}"
        return f"{year}/{serial}{check}"

    def _ni(self, p: Person, source: str, st: dict, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        if not p.ni or not t.hit(f"ni_shown_{source}", tags):
            return ""
        if t.hit("ni_temporary", tags):
            return f"TN{p.dob:%d%m%y}{p.sex}"
        ni = p.ni
        if t.hit("ni_typo", tags):
            k = rng.randrange(2, 8)
            ni = ni[:k] + str((int(ni[k]) + rng.randint(1, 9)) % 10) + ni[k + 1:]
        if t.hit("ni_no_suffix", tags):
            ni = ni[:-1]
        if st["ni_spaced"]:
            ni = " ".join([ni[:2], ni[2:4], ni[4:6], ni[6:8]] + ([ni[8:]] if len(ni) > 8 else []))
        return ni

    def _chi(self, p: Person, area: str, source: str, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        if not p.chi:
            return ""
        rate = f"chi_shown_scottish_{source}" if area in self.scotland else "chi_shown_other"
        if not t.hit(rate, tags):
            return ""
        chi = p.chi
        if t.hit("chi_typo", tags):
            k = rng.randrange(6, 10)
            chi = chi[:k] + str((int(chi[k]) + rng.randint(1, 9)) % 10) + chi[k + 1:]
        if chi.startswith("0") and t.hit("chi_leading_zero_lost", tags):
            chi = chi[1:]
        return chi if rng.random() < 0.9 else f"{chi[:6]} {chi[6:]}"

    # ------------------------------------------------------------------ contact and place
    def _phone(self, p: Person, life, source: str, st: dict, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        landline = life.household.landline
        if not (life.mobile or landline) or not t.hit(f"phone_shown_{source}", tags):
            return ""
        number = life.mobile or landline
        if life.mobile and landline and t.hit("phone_landline_used", tags):
            number = landline
        if number == landline:
            mate = self._mate(p)
            if mate and any(l.household.landline == landline for l in mate.life):
                tags.append("phone_household_shared")
        if t.hit("phone_other_person", tags):
            mate = self._mate(p)
            number = (mate.mobiles[0] if mate and mate.mobiles else self.numbers.mobile())
        fmt = st["phone_format"] if rng.random() < 0.8 else rng.choice(PHONE_FORMATS)
        text = format_phone(number, fmt)
        if text.startswith("0") and t.hit("phone_leading_zero_lost", tags):
            text = text[1:]
        if t.hit("phone_typo", tags):
            positions = [k for k, ch in enumerate(text) if ch.isdigit()][-6:]  # stays in the same block
            k = rng.choice(positions)
            text = text[:k] + str((int(text[k]) + rng.randint(1, 9)) % 10) + text[k + 1:]
        return text

    def _mate(self, p: Person) -> Person | None:
        return self.by_pid.get(p.group.get("mate", ""))

    def _email(self, email: str, source: str, tags: list[str]) -> str:
        t, rng = self.t, self.rng
        if not email or not t.hit(f"email_shown_{source}", tags):
            return ""
        local, domain = email.split("@")
        if t.hit("email_typo", tags):
            if domain in D.EMAIL_DOMAIN_TYPOS and rng.random() < 0.6:
                domain = rng.choice(D.EMAIL_DOMAIN_TYPOS[domain])
            else:
                local = N.keyboard_typo(rng, local)
        if t.hit("email_case", tags):
            local = ".".join(w.capitalize() for w in local.split(".")) if rng.random() < 0.7 else local.upper()
            domain = domain.capitalize()
        return f"{local}@{domain}"

    def _place(self, life, source: str, st: dict, tags: list[str]) -> tuple[str, str]:
        t, rng = self.t, self.rng
        if life.nfa:
            address = rng.choice(["No Fixed Abode", "NFA", "N.F.A.", "No fixed address", "NFA - no fixed abode"])
            postcode = rng.choice(["NFA", "N.F.A", "nfa", "NFA NFA"]) if t.hit("nfa_postcode_column", tags) else ""
            return postcode, address.upper() if st["address_upper"] else address
        a = life.household.address
        street = a.street
        if st["address_abbrev"] != (rng.random() < 0.2):  # typed by hand: the house style is not always kept
            kind = street.rsplit(" ", 1)[1]
            street = street.rsplit(" ", 1)[0] + " " + D.STREET_ABBREV.get(kind, kind)
        first = f"Flat {a.flat}, {a.number} {street}" if a.flat and rng.random() < 0.8 else \
            (f"{a.flat}/{a.number} {street}" if a.flat else f"{a.number} {street}")
        address = f"{first}, {a.town}" if st["address_town"] != (rng.random() < 0.15) else first
        if rng.random() < 0.1:
            address = address.replace(",", "")
        postcode = a.postcode.replace(" ", "") if st["postcode_compact"] != (rng.random() < 0.1) else a.postcode
        if t.hit(f"missing_postcode_{source}", tags):
            postcode = ""
        if postcode and t.hit("postcode_typo", tags):
            postcode = self._postcode_typo(postcode)
        if postcode and t.hit("postcode_outward_only", tags):
            postcode = a.postcode.split()[0]
        if t.hit(f"missing_address_{source}", tags):
            address = ""
        if address:
            if t.hit("address_typo", tags):
                words = address.split(" ")
                k = max(range(len(words)), key=lambda j: len(words[j]) if words[j].isalpha() else 0)
                words[k] = N.keyboard_typo(rng, words[k])
                address = " ".join(words)
            if t.hit("postcode_in_address", tags):
                address = f"{address}, {a.postcode}"
            if st["address_upper"]:
                address = address.upper()
        return postcode, address

    def _postcode_typo(self, postcode: str) -> str:
        """O/0, I/1, S/5, B/8 or an adjacent key, never in the (invented) two-letter area."""
        swaps = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8"}
        options = [k for k, ch in enumerate(postcode) if ch in swaps and k >= 2]
        if options and self.rng.random() < 0.6:
            k = self.rng.choice(options)
            return postcode[:k] + swaps[postcode[k]] + postcode[k + 1:]
        k = self.rng.choice([k for k, ch in enumerate(postcode) if ch.isalnum() and k >= 2])
        ch = postcode[k]
        new = self.rng.choice(D.KEY_NEIGHBOURS.get(ch.lower(), "x")).upper() if ch.isalpha() else \
            str((int(ch) + self.rng.choice((1, -1))) % 10)
        return postcode[:k] + new + postcode[k + 1:]
