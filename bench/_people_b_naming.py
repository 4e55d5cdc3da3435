"""True names for make_people_b: how each naming tradition builds a person's name.

Conventions follow the Interpol/UK 'A guide to names and naming practices'
(2006) and the SBS Cultural Atlas on Somali naming: Somali names are
own + father's + grandfather's name with no family name; Sikh names carry
Singh/Kaur beside a family name; many South Asian Muslim men carry Mohammed
as a first element and are called by the next name; Chinese family names come
first at home and many people in the UK also use an English given name;
Polish and Lithuanian surnames change form with sex (and, in Lithuanian, with
marriage).
"""

from __future__ import annotations

import datetime
import random

import _people_b_data as D
from _people_b_rates import Tally

_SURNAME_TAIL = [h + t for h in D.SURNAME_TAIL_HEADS for t in D.SURNAME_TAIL_TAILS]
BRIT_TAIL_SHARE = 0.45  # share of British surnames drawn from the long synthetic tail


def _zipf(rng: random.Random, items: list, s: float = 0.9):
    from _people_b_population import zipf_choice
    return zipf_choice(rng, items, s)


def _brit_forename(rng, sex: str, dob: datetime.date) -> str:
    young = dob.year >= 1980
    if sex == "M":
        return _zipf(rng, D.BRIT_MALE_YOUNG if young else D.BRIT_MALE_OLD, 0.55)
    return _zipf(rng, D.BRIT_FEMALE_YOUNG if young else D.BRIT_FEMALE_OLD, 0.55)


def brit_surname(rng) -> str:
    if rng.random() < BRIT_TAIL_SHARE:
        return rng.choice(_SURNAME_TAIL)
    return _zipf(rng, D.BRIT_SURNAMES, 0.5)  # Smith about 1.3% of people, top ten about 6%


_FORENAMES = {
    "irish": (D.IRISH_MALE, D.IRISH_FEMALE), "polish": (D.POLISH_MALE, D.POLISH_FEMALE),
    "romanian": (D.RO_MALE, D.RO_FEMALE), "lithuanian": (D.LT_MALE, D.LT_FEMALE),
    "south_asian_muslim": (D.SAM_MALE, D.SAM_FEMALE), "sikh": (D.SIKH_MALE, D.SIKH_FEMALE),
    "hindu": (D.HINDU_MALE, D.HINDU_FEMALE), "somali": (D.SOMALI_MALE, D.SOMALI_FEMALE),
    "west_african": (D.WA_MALE, D.WA_FEMALE), "caribbean": (D.CARIB_MALE, D.CARIB_FEMALE),
    "chinese": (D.CHINESE_MALE, D.CHINESE_FEMALE), "arabic": (D.ARAB_MALE, D.ARAB_FEMALE),
    "turkish_kurdish": (D.TK_MALE, D.TK_FEMALE),
}
_SURNAMES = {
    "irish": D.IRISH_SURNAMES, "polish": D.POLISH_SURNAMES, "romanian": D.RO_SURNAMES,
    "lithuanian": D.LT_SURNAMES, "south_asian_muslim": D.SAM_SURNAMES, "sikh": D.SIKH_SURNAMES,
    "hindu": D.HINDU_SURNAMES, "west_african": D.WA_SURNAMES, "caribbean": D.CARIB_SURNAMES,
    "chinese": D.CHINESE_SURNAMES, "arabic": D.ARAB_SURNAMES, "turkish_kurdish": D.TK_SURNAMES,
}
#: pools whose people usually carry middle names in UK records
MIDDLE_NAME_POOLS = {"british", "irish", "caribbean", "west_african", "polish", "romanian", "lithuanian", "hindu"}


def forename(rng, pool: str, sex: str, dob: datetime.date) -> str:
    if pool == "british" or (pool in ("irish", "caribbean") and rng.random() < 0.4):
        return _brit_forename(rng, sex, dob)
    if pool == "west_african" and rng.random() < 0.35:
        return _brit_forename(rng, sex, dob)  # an English given name, a Yoruba/Igbo/Akan one as middle
    male, female = _FORENAMES[pool]
    return _zipf(rng, male if sex == "M" else female, 0.6)


def family_name(rng, pool: str) -> str:
    if pool == "british":
        return brit_surname(rng)
    if pool == "somali":
        return _zipf(rng, D.SOMALI_MALE, 0.6)
    return _zipf(rng, _SURNAMES[pool], 0.6)


def gendered(surname: str, sex: str, pool: str, married: bool = True) -> str:
    """Polish -ski/-cki/-dzki take -a for women; Lithuanian women's forms mark marriage."""
    if sex != "F":
        return surname
    if pool == "polish":
        for masc in ("ski", "cki", "dzki"):
            if surname.endswith(masc):
                return surname[:-1] + "a"
    if pool == "lithuanian":
        stem = surname[:-2]
        if married:
            return stem + "ienė"
        return stem + {"as": "aitė", "us": "ūtė", "is": "ytė"}.get(surname[-2:], "aitė")
    return surname


def birth_name(rng: random.Random, tally: Tally, pool: str, sex: str, dob: datetime.date,
               tags: list[str], family: str = "", father: str = "") -> dict:
    """A new person's true name. ``family`` (a masculine family name) and ``father``
    (a Somali father's given name) tie relatives together."""
    first = forename(rng, pool, sex, dob)
    given = [first]
    religious = english = ""
    if pool == "somali":
        father = father or _zipf(rng, D.SOMALI_MALE, 0.6)
        family = family or _zipf(rng, D.SOMALI_MALE, 0.6)
        return {"given": [first, father], "surname": family, "family": family, "father": father,
                "religious": "", "english": "", "known_by_middle": False}
    family = family or family_name(rng, pool)
    if pool == "south_asian_muslim" and sex == "M" and first not in ("Mohammed", "Abdul") and \
            tally.hit("person_mohammed_first", tags):
        given = ["Mohammed", first]
    elif pool in MIDDLE_NAME_POOLS and tally.hit("person_middle_name", tags):
        given.append(_middle(rng, pool, sex, dob, first))
        if tally.hit("person_two_middle_names", tags):
            given.append(_middle(rng, pool, sex, dob, first, *given[1:]))
    elif pool in ("arabic", "south_asian_muslim") and rng.random() < 0.3:
        given.append(_zipf(rng, _FORENAMES[pool][0], 0.7))  # father's name carried as a middle name
    if pool == "sikh":
        religious = "Singh" if sex == "M" else "Kaur"
    if pool == "chinese" and tally.hit("person_english_name", tags):
        english = rng.choice(D.CHINESE_ENGLISH_MALE if sex == "M" else D.CHINESE_ENGLISH_FEMALE)
    surname = gendered(family, sex, pool, married=rng.random() < 0.6)
    if pool in ("british", "irish") and tally.hit("person_hyphenated_surname", tags):
        surname = f"{surname}-{brit_surname(rng)}" if rng.random() < 0.8 else f"{surname} {brit_surname(rng)}"
    known_by_middle = given[0] == "Mohammed" and len(given) > 1
    if len(given) > 1 and not known_by_middle:
        known_by_middle = tally.hit("person_known_by_middle", tags)
    return {"given": given, "surname": surname, "family": family, "father": "", "religious": religious,
            "english": english, "known_by_middle": known_by_middle}


def _middle(rng, pool: str, sex: str, dob: datetime.date, *avoid: str) -> str:
    for _ in range(20):
        if pool == "west_african":
            male, female = _FORENAMES[pool]
            name = _zipf(rng, male if sex == "M" else female, 0.7)
        elif pool in ("polish", "romanian", "lithuanian", "hindu"):
            name = forename(rng, pool, sex, dob)
        else:
            name = _brit_forename(rng, sex, dob)
        if name not in avoid:
            return name
    return name


def moniker(rng: random.Random, sex: str, surname: str) -> str:
    """A street name or nickname: a stock moniker or one made from the surname (Smithy, Robbo)."""
    from _people_b_population import ascii_fold
    base = ascii_fold(surname.split("-")[0].split()[0]).replace("'", "")
    if sex == "M" and rng.random() < 0.4 and base.isalpha() and len(base) > 3:
        if len(base) <= 6 and rng.random() < 0.5:
            return base.capitalize() + "y"  # Smithy, Jonesy
        i = next((k for k, ch in enumerate(base) if k and ch in "aeiou"), 0)
        j = i + 1
        while j < len(base) and base[j] in "aeiou":
            j += 1
        if i and j < len(base) and base[j] not in "hwyv":
            return base[:j + 1].capitalize() + base[j] + "o"  # Robbo, Thommo, Willo
    return rng.choice(D.MONIKERS if sex == "M" else D.FEMALE_MONIKERS)
