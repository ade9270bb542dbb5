"""Publisher names: normalisation, same-publisher comparison, and lookalikes of well-known publishers.

Pure: no I/O. A name is only a claim (the certificate hash is the identity), so these functions give signals
for the judge, never a trust decision on their own.

Rules, and why:
- `normalize_publisher` folds what differs between spellings of one legal entity (case, Unicode compatibility
  forms, punctuation, trademark signs, legal-form suffixes, a trailing URL as in Sysinternals' CompanyName).
- `same_publisher` accepts equal normalised names, names that an alias table maps to one canonical name, and
  whole-word containment when the contained name has at least two words ('Python Software Foundation' in
  'Python Software Foundation Europe'). A one-word brand inside a longer name is not enough: 'Microsoft' in
  'Microsoft Windows' is Microsoft only because the alias table says so, and 'Google' in 'Google Updater Ltd'
  is exactly what a brand-squatting signer would register.
- `lookalike_of` flags (a) names disguised with characters that look like others (Unicode confusables from
  UTS #39 via `confusable_homoglyphs`, compatibility forms such as fullwidth letters, invisible format
  characters), reported as 'mixed_script' when scripts are mixed and 'confusable' otherwise, and (b) names
  within a small Damerau-Levenshtein distance of a protected name (`rapidfuzz`). The allowed distance grows
  with the protected name's length: none below 5 characters (AMD/AMO, HP/HQ, Dell/Dall, Zoom/Zoho are real
  distinct companies: short names only match through confusables), 1 up to 8 characters, 2 up to 15, then 3.
  Five- to eight-letter brands still collide with some real words or firms (Apple/Apply, Intel/Intex): the
  result is a lookalike signal for an analyst, not a verdict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from confusable_homoglyphs import confusables
from rapidfuzz.distance import DamerauLevenshtein

Aliases = Mapping[str, str]
"""Normalised name -> normalised canonical name (build one with `make_aliases`)."""

_TRADEMARK_SIGNS = re.compile("[®™©℠]")  # removed before NFKC, which would turn ™ into the letters 'TM'
_TRADEMARK_MARKS = re.compile(r"\((?:r|tm|c)\)")  # 'Intel(R)' after case folding
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SINGLE_LETTER_DOT = re.compile(r"\b(\w)\.")  # initialisms: L.L.C. -> LLC, S.p.A. -> SpA, o.o. -> oo
_SLASHED_LETTERS = re.compile(r"\b(\w)/(\w)\b")  # A/S -> AS
_APOSTROPHES = re.compile("['`\u2018\u2019\u00b4]")  # "Boo's" -> "boos", typographic quotes too
_NON_WORD = re.compile(r"[\W_]+")

# Legal-form suffixes as words after normalisation, longest first so that 'sp z oo' goes as a whole.
_LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(sorted((tuple(s.split()) for s in (
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "lp", "plc",
    "gmbh", "kg", "ug", "ag", "ab", "sa", "s a", "sas", "sarl", "bv", "nv", "oy", "oyj", "as", "aps", "kk",
    "pty", "pte", "spa", "srl", "sro", "s r o", "spol s ro", "se", "kft", "zrt", "sp z oo", "doo", "d o o",
    "sp z o o", "bhd", "sdn bhd", "ltda", "jsc", "ulc",
)), key=len, reverse=True))

_BUILT_IN_ALIASES = {
    # Microsoft signs with several certificate names, and Sysinternals tools carry that brand in VERSIONINFO.
    "Sysinternals": "Microsoft",
    "Microsoft Windows": "Microsoft",
    "Microsoft Windows Publisher": "Microsoft",
    "Microsoft Windows Hardware Compatibility Publisher": "Microsoft",
    "Microsoft 3rd Party Application Component": "Microsoft",
    "Microsoft Windows Third Party Application Component": "Microsoft",
    "Microsoft Windows UEFI Driver Publisher": "Microsoft",
    "Microsoft UEFI CA 2023 signer": "Microsoft",
    "Microsoft Windows Kits Publisher": "Microsoft",
    "Microsoft Windows Early Launch Anti-malware Publisher": "Microsoft",
    # Legal names of well-known vendors that differ from the brand by more than a legal-form suffix.
    "Adobe Systems": "Adobe",
    "Oracle America": "Oracle",
    "Advanced Micro Devices": "AMD",
    "Cisco Systems": "Cisco",
    "Citrix Systems": "Citrix",
    "Zoom Video Communications": "Zoom",
    "Realtek Semiconductor": "Realtek",
    "Qualcomm Technologies": "Qualcomm",
    "Dell Technologies": "Dell",
    "Hewlett-Packard": "HP",
    "Lenovo (Beijing)": "Lenovo",
    "ASUSTeK Computer": "ASUS",
    "Samsung Electronics": "Samsung",
    "TeamViewer Germany": "TeamViewer",
    "AnyDesk Software": "AnyDesk",
    "Mozilla Foundation": "Mozilla",
    "Logitech Europe": "Logitech",
    "Amazon.com Services": "Amazon",
}

WELL_KNOWN_PUBLISHERS: tuple[str, ...] = (
    "Microsoft", "Google", "Adobe", "Apple", "Mozilla", "Oracle", "Intel", "NVIDIA", "AMD", "Cisco", "VMware",
    "Citrix", "Zoom", "Dropbox", "Spotify", "Valve", "Logitech", "Realtek", "Broadcom", "Qualcomm", "Dell", "HP",
    "Lenovo", "ASUS", "Samsung", "Sophos", "CrowdStrike", "TeamViewer", "AnyDesk", "Python Software Foundation",
    "Amazon", "Cloudflare", "JetBrains", "Opera", "Kaspersky", "Symantec", "McAfee", "Trend Micro",
    "Malwarebytes", "Bitdefender", "ESET", "Fortinet", "Palo Alto Networks", "SentinelOne", "GitHub",
    "Autodesk", "Slack Technologies", "Western Digital", "Seagate",
)
"""Publishers that malware most likes to imitate; pass them with the baseline's publishers to `lookalike_of`."""


@dataclass(frozen=True)
class Lookalike:
    """A name that imitates a protected publisher name, and how."""

    name: str
    imitates: str
    """The protected name it resembles, as given to `lookalike_of`."""
    technique: str
    """'confusable', 'mixed_script' or 'edit_distance'."""
    distance: int
    """Damerau-Levenshtein distance between the normalised forms (after undoing confusables): 0 is identical."""
    characters: tuple[str, ...] = ()
    """The disguising characters, e.g. 'U+0421 CYRILLIC CAPITAL LETTER ES'."""


def normalize_publisher(name: str) -> str:
    """The comparable form of a publisher name: 'Spotify AB' and 'Spotify Ltd.' both give 'spotify'."""
    text = unicodedata.normalize("NFKC", _TRADEMARK_SIGNS.sub(" ", name))
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")  # zero-width and other invisibles
    without_urls = _URL.sub(" ", text)
    if _NON_WORD.sub("", without_urls):  # a name that is nothing but a URL keeps it
        text = without_urls
    text = _TRADEMARK_MARKS.sub(" ", text.casefold())
    text = _SINGLE_LETTER_DOT.sub(r"\1", _SLASHED_LETTERS.sub(r"\1\2", text))
    words = _NON_WORD.sub(" ", _APOSTROPHES.sub("", text)).split()
    return " ".join(_strip_legal_suffixes(words))


def _strip_legal_suffixes(words: list[str]) -> list[str]:
    """Drop trailing legal forms ('co ltd', 'gmbh co kg'), always keeping the first word."""
    while True:
        suffix = next((s for s in _LEGAL_SUFFIXES if len(words) > len(s) and tuple(words[-len(s):]) == s), None)
        if suffix is None:
            return words
        words = words[:-len(suffix)]


def make_aliases(names: Mapping[str, str]) -> dict[str, str]:
    """An alias table from display names: {'Sysinternals': 'Microsoft'} -> {'sysinternals': 'microsoft'}."""
    return {normalize_publisher(alias): normalize_publisher(canonical) for alias, canonical in names.items()}


DEFAULT_ALIASES: Aliases = MappingProxyType(make_aliases(_BUILT_IN_ALIASES))


def same_publisher(a: str, b: str, aliases: Aliases = DEFAULT_ALIASES) -> bool:
    """Whether two names denote one publisher (see the module docstring for the rules)."""
    return _same(normalize_publisher(a), normalize_publisher(b), aliases)


def _same(a: str, b: str, aliases: Aliases) -> bool:
    if not a or not b:
        return False
    a, b = aliases.get(a, a), aliases.get(b, b)
    return a == b or _contains_words(a, b) or _contains_words(b, a)


def _contains_words(longer: str, shorter: str) -> bool:
    """`shorter` (two words or more) appears in `longer` as whole words."""
    return shorter.count(" ") >= 1 and f" {shorter} " in f" {longer} "


def lookalike_of(name: str, protected_names: Iterable[str] = WELL_KNOWN_PUBLISHERS,
                 aliases: Aliases = DEFAULT_ALIASES) -> Lookalike | None:
    """The protected name that `name` imitates, or None. A name of the same publisher (per `same_publisher`)
    is not a lookalike unless it is disguised with confusable or invisible characters."""
    targets = _targets(protected_names, aliases)
    skeleton, disguises = _skeleton(name)
    if disguises:
        hit = _closest(normalize_publisher(skeleton), targets)
        if hit is not None:
            mixed = confusables.is_mixed_script(name, allowed_aliases=["COMMON", "INHERITED"])
            return Lookalike(name, hit[0], "mixed_script" if mixed else "confusable", hit[1], disguises)
    plain = normalize_publisher(name)
    if not plain or any(_same(plain, target, aliases) for _, target in targets):
        return None
    hit = _closest(plain, targets)
    return Lookalike(name, hit[0], "edit_distance", hit[1]) if hit is not None else None


def _targets(protected_names: Iterable[str], aliases: Aliases) -> list[tuple[str, str]]:
    """(protected name as given, a normalised spelling of it): the name itself and each alias of its canonical
    form, so that 'Adobe Systemss' is caught through 'Adobe Systems'."""
    spellings: dict[str, list[str]] = {}
    for alias, canonical in aliases.items():
        spellings.setdefault(canonical, []).append(alias)
    targets: list[tuple[str, str]] = []
    for display in protected_names:
        normalised = normalize_publisher(display)
        if normalised:
            canonical = aliases.get(normalised, normalised)
            targets.extend((display, spelling) for spelling in dict.fromkeys([normalised, canonical,
                                                                              *spellings.get(canonical, [])]))
    return targets


def _max_distance(target: str) -> int:
    length = len(target)
    return 0 if length < 5 else 1 if length < 9 else 2 if length < 16 else 3


def _closest(candidate: str, targets: list[tuple[str, str]]) -> tuple[str, int] | None:
    """The first target at the smallest distance within its allowance, with that distance."""
    best: tuple[str, int] | None = None
    for display, target in targets:
        limit = _max_distance(target)
        distance = DamerauLevenshtein.distance(candidate, target, score_cutoff=limit)
        if distance <= limit and (best is None or distance < best[1]):
            best = (display, distance)
    return best


def _skeleton(name: str) -> tuple[str, tuple[str, ...]]:
    """`name` with each disguising character replaced by the ASCII it imitates (invisible ones removed), and
    the list of those characters. ASCII names and plain accented letters are left as they are."""
    text = _TRADEMARK_SIGNS.sub(" ", name)
    if text.isascii():
        return text, ()
    homoglyphs = _ascii_homoglyphs(text)
    out: list[str] = []
    disguises: dict[str, None] = {}
    for char in text:
        replacement = None if char.isascii() else _undisguise(char, homoglyphs)
        if replacement is None:
            out.append(" " if char.isspace() else char)
        else:
            out.append(replacement)
            disguises[f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}"] = None
    return "".join(out), tuple(disguises)


def _ascii_homoglyphs(text: str) -> dict[str, list[str]]:
    """For each character of `text` (and of its lower case), the ASCII letters and digits it is confusable with."""
    found = confusables.is_confusable(text + text.lower(), greedy=True, preferred_aliases=[]) or []
    return {item["character"]: [g["c"] for g in item["homoglyphs"] if g["c"].isascii() and g["c"].isalnum()]
            for item in found}


def _undisguise(char: str, homoglyphs: Mapping[str, list[str]]) -> str | None:
    """What a non-ASCII character imitates, or None if it imitates nothing (a plain accented letter, a space)."""
    if char.isspace():
        return None
    if unicodedata.category(char) == "Cf":
        return ""  # zero-width space, soft hyphen, bidi controls: invisible in a dialog box
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and compatible.isascii():
        return compatible  # fullwidth, mathematical and ligature letters
    # The lower-case form first: UTS #39 maps Cyrillic capital I (U+0406) to 'l' but its small form (U+0456) to
    # 'i', and names are compared case-folded.
    for form in (char.lower(), char):
        if homoglyphs.get(form):
            return homoglyphs[form][0]
    return None
