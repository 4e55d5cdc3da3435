"""String-level corruptions of names for make_people_b (the recording errors, not the truth).

Typographical errors follow Damerau (1964): one substitution (an adjacent key
on a UK QWERTY keyboard), deletion, insertion (an adjacent key or a doubled
letter) or transposition. Phonetic errors rewrite one sound-alike spelling,
as a clerk spells a name heard aloud (GeCo's phonetic corruptor is the model).
The rest are the UK record habits the generator's docstring describes.
"""

from __future__ import annotations

import random
import re

import _people_b_data as D


def keyboard_typo(rng: random.Random, word: str) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if len(letters) < 2:
        return word
    i = rng.choice(letters)
    ch = word[i]
    near = D.KEY_NEIGHBOURS.get(ch.lower(), "")
    op = rng.choices(("sub", "del", "ins", "swap"), weights=(40, 25, 15, 20))[0]
    if op == "sub" and near:
        new = rng.choice(near)
        return word[:i] + (new.upper() if ch.isupper() else new) + word[i + 1:]
    if op == "del" and i > 0:
        return word[:i] + word[i + 1:]
    if op == "ins":
        extra = rng.choice(near) if near and rng.random() < 0.5 else ch.lower()
        return word[:i + 1] + extra + word[i + 1:]
    j = i + 1 if i + 1 < len(word) and word[i + 1].isalpha() else i - 1
    if j < 0 or not word[j].isalpha() or word[i].lower() == word[j].lower():
        return word[:i] + word[i + 1:] if i > 0 else word[:1] + word[1:2] * 2 + word[2:]
    a, b = sorted((i, j))
    swapped = word[:a] + word[b] + word[a] + word[b + 1:]
    return swapped[0].upper() + swapped[1:].lower() if word[0].isupper() and word[1:].islower() else swapped


def phonetic(rng: random.Random, word: str) -> str:
    low = word.lower()
    options = []
    for pattern, repl in D.PHONETIC_RULES:
        for m in re.finditer(re.escape(pattern), low):
            if m.start() == 0 and pattern in ("gh", "er", "an", "ah"):
                continue
            options.append((m.start(), m.end(), repl))
    if not options:
        return keyboard_typo(rng, word)
    start, end, repl = rng.choice(options)
    new = low[:start] + repl + low[end:]
    if new == low or len(new) < 2:
        return keyboard_typo(rng, word)
    return new.capitalize() if word[:1].isupper() else new


def variant(rng: random.Random, name: str, table: dict[str, tuple[str, ...]]) -> str | None:
    group = table.get(name)
    if not group or len(group) < 2:
        return None
    others = [v for v in group if v != name]
    return rng.choices(others, weights=[1.0 / (i + 1) for i in range(len(others))])[0]


_MC = re.compile(r"^(Mc|Mac)\s?([A-Z][a-z]+)$")
_O = re.compile(r"^O'([A-Z][a-z]+)$")


def mc_o_eligible(surname: str) -> bool:
    return bool(_MC.match(surname) or _O.match(surname))


def mc_o_variant(rng: random.Random, surname: str) -> str:
    if m := _MC.match(surname):
        prefix, rest = m.groups()
        other = "Mac" if prefix == "Mc" else "Mc"
        return rng.choice([other + rest, f"{prefix} {rest}", prefix + rest.lower(), f"{other}{rest.lower()}"])
    rest = _O.match(surname).group(1)
    return rng.choice([f"O{rest}", f"O {rest}", f"O{rest.lower()}", f"O\u2019{rest}", f"O'{rest[:-1]}"
                       if rest.endswith(("ll", "ff")) else f"O{rest}"])


# a particle is a word of its own: Al-Sayed, Abdul Rahman, Ud-Din (never the "Al" of Alice)
_PARTICLE = re.compile(r"^(Al|El|Abu|Abdul|Abdel|Ud)([- ])(\w+)$|^(\w+)([- ])(Din|Rahman)$")


def particle_eligible(name: str) -> bool:
    return bool(_PARTICLE.match(name))


def particle_variant(rng: random.Random, name: str) -> str:
    m = _PARTICLE.match(name)
    if m.group(1):
        head, _, tail = m.group(1), m.group(2), m.group(3)
        head = {"Al": rng.choice(["Al", "El", "al"]), "El": rng.choice(["El", "Al", "el"])}.get(head, head)
        return rng.choice([f"{head}-{tail}", f"{head} {tail}", f"{head}{tail.lower()}", tail])
    head, _, tail = m.group(4), m.group(5), m.group(6)
    return rng.choice([f"{head}-{tail}", f"{head} {tail}", f"{head}{tail.lower()}", head])


def double_surname_partial(rng: random.Random, surname: str) -> str:
    parts = re.split(r"[- ]", surname, maxsplit=1)
    sep = "-" if "-" in surname else " "
    return rng.choice([parts[0], parts[1], f"{parts[0]} {parts[1]}" if sep == "-" else f"{parts[0]}-{parts[1]}",
                       parts[0] + parts[1].lower()])


def mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def apply_case(rng: random.Random, style: str, text: str, surname: bool = False) -> str:
    if not text:
        return text
    if style == "upper" or (style == "upper_surname" and surname):
        return text.upper()
    if style == "as_typed":
        r = rng.random()
        if r < 0.08:
            return text.lower()
        if r < 0.12:
            return text.upper()
    return text
