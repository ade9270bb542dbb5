"""Publisher-name normalisation, same-publisher comparison and lookalike detection (judge/names.py)."""

from __future__ import annotations

import itertools

import pytest

from sigtriage.judge.names import (
    DEFAULT_ALIASES,
    WELL_KNOWN_PUBLISHERS,
    Lookalike,
    lookalike_of,
    make_aliases,
    normalize_publisher,
    same_publisher,
)

# Written with escapes so that a reader sees which letters are not Latin.
CYRILLIC_MIC = ("\N{CYRILLIC CAPITAL LETTER EM}\N{CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I}"
                "\N{CYRILLIC SMALL LETTER ES}")
FULLWIDTH_MICROSOFT = "".join(chr(ord(c) + 0xFEE0) for c in "Microsoft")  # U+FF2D U+FF49 …

# Real publisher names (certificate subjects and VERSIONINFO CompanyName values) of distinct, genuine vendors.
GENUINE = [
    "Microsoft Corporation", "Microsoft Windows", "Microsoft Windows Hardware Compatibility Publisher",
    "Sysinternals - www.sysinternals.com", "Google LLC", "Apple Inc.", "Simon Tatham", "Igor Pavlov", "Spotify AB",
    "Spotify Ltd", "Mozilla Corporation", "Oracle America, Inc.", "Adobe Systems Incorporated", "Adobe Inc.",
    "Intel(R) Corporation", "NVIDIA Corporation", "Advanced Micro Devices, Inc.", "Cisco Systems, Inc.",
    "VMware, Inc.", "Citrix Systems, Inc.", "Zoom Video Communications, Inc.", "Dropbox, Inc", "Valve Corp.",
    "Logitech Inc", "Realtek Semiconductor Corp.", "Broadcom Inc", "Qualcomm Technologies, Inc.", "Dell Inc",
    "HP Inc.", "Lenovo (Beijing) Limited", "ASUSTeK Computer Inc.", "Samsung Electronics Co., Ltd.", "Sophos Ltd",
    "CrowdStrike, Inc.", "TeamViewer Germany GmbH", "AnyDesk Software GmbH", "Python Software Foundation",
    "VirtualKD-Redux SPC", "ollypwn", "Sectigo Limited", "DigiCert, Inc.", "JetBrains s.r.o.", "Don HO",
    "win.rar GmbH", "Piriform Software Ltd", "Wireshark Foundation", "VideoLAN", "The Document Foundation",
    "Zoho Corporation Private Limited", "Johannes Schindelin", "Kaspersky Lab JSC", "ESET, spol. s r.o.",
    "Opera Norway AS", "Brave Software, Inc.", "Avast Software s.r.o.", "Arctic Nights Äkäslompolo Oy",
]


@pytest.mark.parametrize(("name", "normalised"), [
    ("Spotify AB", "spotify"),
    ("Spotify Ltd.", "spotify"),
    ("Microsoft Corporation", "microsoft"),
    ("Sysinternals - www.sysinternals.com", "sysinternals"),
    ("Intel(R) Corporation", "intel"),
    ("Intel® Corporation", "intel"),
    ("Intel™ Corporation", "intel"),
    ("Google LLC", "google"),
    ("Example L.L.C.", "example"),
    ("Hangil IT Co., Ltd", "hangil it"),
    ("Samsung Electronics Co., Ltd.", "samsung electronics"),
    ("Example GmbH & Co. KG", "example"),
    ("Example Pty Ltd", "example"),
    ("Example S.p.A.", "example"),
    ("Example S.r.l.", "example"),
    ("Example S.A.S.", "example"),
    ("Example B.V.", "example"),
    ("Example Oyj", "example"),
    ("Example A/S", "example"),
    ("Example ApS", "example"),
    ("Example K.K.", "example"),
    ("Example PLC", "example"),
    ("Example SE", "example"),
    ("Example Kft.", "example"),
    ("Example sp. z o.o.", "example"),
    ("VALENTE SP Z O O", "valente"),
    ("ESET, spol. s r.o.", "eset"),
    ("ALUSEN d. o. o.", "alusen"),
    ("Adobe Systems Incorporated", "adobe systems"),
    ("Boo\N{RIGHT SINGLE QUOTATION MARK}s Q & Sweets Corporation", "boos q sweets"),
    ("VirtualKD-Redux SPC", "virtualkd redux spc"),
    ("  Simon   Tatham ", "simon tatham"),
    (FULLWIDTH_MICROSOFT, "microsoft"),  # NFKC folds fullwidth letters
    ("Micro\u200bsoft Corp", "microsoft"),  # invisible characters go
    ("Arctic Nights Äkäslompolo Oy", "arctic nights äkäslompolo"),
    ("Company", "company"),  # a legal form alone is still a name
    ("www.example.com", "www example com"),  # a name that is only a URL keeps it
])
def test_normalize_publisher(name: str, normalised: str) -> None:
    assert normalize_publisher(name) == normalised


@pytest.mark.parametrize(("a", "b"), [
    ("Spotify AB", "Spotify Ltd"),
    ("Microsoft Corporation", "Microsoft Corporation"),
    ("MICROSOFT CORPORATION", "Microsoft Corp."),
    ("Sysinternals - www.sysinternals.com", "Microsoft Corporation"),  # built-in alias
    ("Microsoft Windows", "Microsoft Corporation"),  # built-in alias
    ("Microsoft Windows Hardware Compatibility Publisher", "Microsoft Corporation"),
    ("Microsoft 3rd Party Application Component", "Microsoft Windows"),
    ("Adobe Systems Incorporated", "Adobe Inc."),
    ("Google LLC", "Google Inc."),
    ("Python Software Foundation", "Python Software Foundation Europe"),  # multi-word containment
])
def test_same_publisher(a: str, b: str) -> None:
    assert same_publisher(a, b)
    assert same_publisher(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("Microsoft Corporation", "Apple Inc."),
    ("Google LLC", "Google Updater Ltd"),  # a one-word brand inside a longer name is not the brand
    ("Spotify AB", "Spotify Music Downloader"),
    ("Igor Pavlov", "Simon Tatham"),
    ("", "Microsoft"),
    ("Inc.", "Ltd."),
])
def test_different_publishers(a: str, b: str) -> None:
    assert not same_publisher(a, b)


def test_aliases_are_needed_for_one_word_brands() -> None:
    assert not same_publisher("Microsoft Corporation", "Microsoft Windows", aliases={})
    assert not same_publisher("Sysinternals", "Microsoft", aliases={})
    custom = make_aliases({"Contoso Labs": "Contoso Ltd"})
    assert custom == {"contoso labs": "contoso"}
    assert same_publisher("Contoso Labs Inc.", "Contoso", aliases=custom)


def test_default_aliases_are_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_ALIASES["evil"] = "microsoft"  # type: ignore[index]


@pytest.mark.parametrize(("name", "imitates", "technique", "distance"), [
    (f"{CYRILLIC_MIC}rosoft Corporation", "Microsoft", "mixed_script", 0),
    ("G\N{GREEK SMALL LETTER OMICRON}ogle LLC", "Google", "mixed_script", 0),
    ("M\N{CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I}CROSOFT", "Microsoft", "mixed_script", 0),
    ("\N{CYRILLIC CAPITAL LETTER A}\N{CYRILLIC CAPITAL LETTER EM}D", "AMD", "mixed_script", 0),  # short names too
    (f"{FULLWIDTH_MICROSOFT} Corporation", "Microsoft", "confusable", 0),  # one script
    ("Micro\u200bsoft Corporation", "Microsoft", "confusable", 0),  # zero-width space
    (f"{CYRILLIC_MIC}rosoftt", "Microsoft", "mixed_script", 1),
    ("Microsoftt", "Microsoft", "edit_distance", 1),
    ("Micros0ft", "Microsoft", "edit_distance", 1),
    ("Mircosoft Corporation", "Microsoft", "edit_distance", 1),  # transposition counts once
    ("Gooogle LLC", "Google", "edit_distance", 1),
    ("Adobe Systemss", "Adobe", "edit_distance", 1),  # through the alias spelling 'Adobe Systems'
    ("Pyth0n Software Foundati0n", "Python Software Foundation", "edit_distance", 2),
    ("Sysinternal", "Microsoft", "edit_distance", 1),
    ("Micrösoft", "Microsoft", "edit_distance", 1),  # an accented letter is a typo, not a confusable
])
def test_lookalikes(name: str, imitates: str, technique: str, distance: int) -> None:
    found = lookalike_of(name)
    assert found is not None
    assert (found.imitates, found.technique, found.distance) == (imitates, technique, distance)
    assert found.name == name


def test_lookalike_names_the_disguising_characters() -> None:
    found = lookalike_of(f"{CYRILLIC_MIC}rosoft Corporation")
    assert found == Lookalike(
        name=f"{CYRILLIC_MIC}rosoft Corporation", imitates="Microsoft", technique="mixed_script", distance=0,
        characters=("U+041C CYRILLIC CAPITAL LETTER EM", "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
                    "U+0441 CYRILLIC SMALL LETTER ES"))


def test_baseline_publishers_are_protected() -> None:
    found = lookalike_of("Contoso Payrol Ltd", ["Contoso Payroll Ltd", *WELL_KNOWN_PUBLISHERS])
    assert found is not None and found.imitates == "Contoso Payroll Ltd" and found.distance == 1
    assert lookalike_of("Contoso Payroll Inc.", ["Contoso Payroll Ltd"]) is None


@pytest.mark.parametrize("name", ["AMO", "HQ", "Dall", "Zoho Corporation", "Intel Corporation", "Spotify Ltd",
                                  "Microsoft Corporation", "Microsoft Windows", "Simon Tatham", "Igor Pavlov"])
def test_not_lookalikes(name: str) -> None:
    """Short names only match through confusables; exact and same-vendor names are no lookalikes."""
    assert lookalike_of(name) is None


@pytest.mark.parametrize("name", GENUINE)
def test_genuine_names_are_not_lookalikes(name: str) -> None:
    assert lookalike_of(name) is None


def test_well_known_publishers_do_not_imitate_each_other() -> None:
    assert len(WELL_KNOWN_PUBLISHERS) >= 30
    pairs = [(a, b) for a, b in itertools.permutations(WELL_KNOWN_PUBLISHERS, 2) if not same_publisher(a, b)]
    assert [(a, b, found) for a, b in pairs if (found := lookalike_of(a, [b])) is not None] == []


def test_genuine_names_do_not_imitate_each_other() -> None:
    pairs = [(a, b) for a, b in itertools.permutations(GENUINE, 2) if not same_publisher(a, b)]
    assert [(a, b, found) for a, b in pairs if (found := lookalike_of(a, [b])) is not None] == []
