"""Match keys for account numbers, meters, parcels, service addresses and owner names.

Every function here takes and returns a Polars expression, so a key is computed for a
million rows in one vectorized pass. A value that carries no usable identity (empty,
only separators, a meter number that Excel turned into scientific notation) becomes
null, never a placeholder string, because null keys never match anything.

`owners_differ` is the one function that works on Series: it scores only the pairs
whose owner keys differ, with rapidfuzz.
"""

from __future__ import annotations

import logging
from functools import partial

import polars as pl
from rapidfuzz import fuzz

logger = logging.getLogger(__name__)

# Separators that account and meter numbers are written with: "00123-45", "123.45",
# "123/45", "123 45". Unicode whitespace (tabs, no-break spaces) counts as a space.
_ID_SEPARATORS = r"[\s\-./]"

# Excel shows a long number as "1.23457E+11". Such a cell keeps only six significant
# digits, so the meter number it came from cannot be recovered. The point or the
# exponent sign is required, so a meter id such as "12E5" is kept.
_SCIENTIFIC_NOTATION = r"^(?:[0-9]+(?:\.[0-9]+)?E[+-][0-9]+|[0-9]+\.[0-9]+E[0-9]+)$"

# USPS standard street suffix abbreviations, for the spellings common in billing
# systems. Words that also start street names (LAKE, FOREST, MOUNT, GREEN) are left
# out, because abbreviating them only makes fuzzy scores worse.
STREET_SUFFIXES: dict[str, str] = {
    "ALLEY": "ALY", "ALLEE": "ALY",
    "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE", "AVENU": "AVE", "AVN": "AVE",
    "AVNUE": "AVE",
    "BOULEVARD": "BLVD", "BOUL": "BLVD", "BOULV": "BLVD",
    "BYPASS": "BYP",
    "CAUSEWAY": "CSWY",
    "CENTER": "CTR", "CENTRE": "CTR",
    "CIRCLE": "CIR", "CIRC": "CIR", "CIRCL": "CIR", "CRCL": "CIR",
    "COURT": "CT", "CRT": "CT",
    "COVE": "CV",
    "CRESCENT": "CRES",
    "CROSSING": "XING", "CRSSNG": "XING",
    "DRIVE": "DR", "DRIV": "DR", "DRV": "DR",
    "EXPRESSWAY": "EXPY",
    "EXTENSION": "EXT",
    "FREEWAY": "FWY",
    "HEIGHTS": "HTS",
    "HIGHWAY": "HWY", "HIGHWY": "HWY", "HIWAY": "HWY", "HIWY": "HWY", "HWAY": "HWY",
    "HOLLOW": "HOLW",
    "LANDING": "LNDG",
    "LANE": "LN",
    "PARKWAY": "PKWY", "PARKWY": "PKWY", "PKWAY": "PKWY", "PKY": "PKWY",
    "PLACE": "PL",
    "PLAZA": "PLZ",
    "POINT": "PT",
    "RIDGE": "RDG",
    "ROAD": "RD",
    "ROUTE": "RTE",
    "SQUARE": "SQ",
    "STREET": "ST", "STR": "ST", "STRT": "ST",
    "TERRACE": "TER", "TERR": "TER",
    "TRACE": "TRCE",
    "TRAIL": "TRL", "TRAILS": "TRL",
    "TURNPIKE": "TPKE",
    "WAY": "WAY", "WY": "WAY",
}

# Abbreviations that end a street name. A number after one of them is a unit
# ("123 OAK ST 4B"), except after numbered roads such as "HWY 61" or "RTE 9".
_SUFFIX_ABBREVIATIONS = sorted(
    set(STREET_SUFFIXES.values()) - {"HWY", "RTE", "FWY", "EXPY", "TPKE", "BYP"}
) + ["LOOP", "PATH", "PIKE", "ROW", "RUN", "WALK"]

DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}

_ONES_ORDINALS = [
    "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH",
]
_TEEN_ORDINALS = [
    "TENTH", "ELEVENTH", "TWELFTH", "THIRTEENTH", "FOURTEENTH", "FIFTEENTH",
    "SIXTEENTH", "SEVENTEENTH", "EIGHTEENTH", "NINETEENTH",
]
_TENS = ["TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]
_TENS_ORDINALS = [
    "TWENTIETH", "THIRTIETH", "FORTIETH", "FIFTIETH", "SIXTIETH", "SEVENTIETH",
    "EIGHTIETH", "NINETIETH",
]


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}TH"
    return f"{number}{ {1: 'ST', 2: 'ND', 3: 'RD'}.get(number % 10, 'TH')}"


def _ordinal_words() -> dict[str, str]:
    """Map ordinal words from FIRST to NINETY NINTH to their numeric form (1ST, 99TH)."""
    words = {word: _ordinal(n) for n, word in enumerate(_ONES_ORDINALS, start=1)}
    words |= {word: _ordinal(n) for n, word in enumerate(_TEEN_ORDINALS, start=10)}
    for tens_digit, (tens, tens_ordinal) in enumerate(zip(_TENS, _TENS_ORDINALS, strict=True), 2):
        words[tens_ordinal] = _ordinal(tens_digit * 10)
        for ones_digit, ones in enumerate(_ONES_ORDINALS, start=1):
            number = tens_digit * 10 + ones_digit
            # "TWENTY-FIRST" arrives here as two words, "TWENTYFIRST" as one.
            words[f"{tens} {ones}"] = _ordinal(number)
            words[f"{tens}{ones}"] = _ordinal(number)
    return words


ORDINALS: dict[str, str] = _ordinal_words()

# Words that introduce a unit after the street. The address key writes each as UNIT.
UNIT_DESIGNATORS = (
    "APARTMENT", "APT", "UNIT", "SUITE", "STE", "#", "NO", "NUMBER",
    "LOT", "SPACE", "SPC", "TRAILER", "TRLR", "ROOM", "RM",
)

# A designator glued to its id: "APT4", "STE12B".
_GLUED_DESIGNATOR = r"\b(APARTMENT|APT|UNIT|SUITE|STE|LOT|SPC|TRLR|RM)([0-9][0-9A-Z]*)\b"

_HOUSE_NUMBER = r"^([0-9]+[A-Z]?(?: [0-9]+/[0-9]+)?)(?: (.+))?$"

# The street is at least one word. A designator at the first word of the street
# ("123 NO NAME RD") is part of the name.
_DESIGNATED_UNIT = (
    r"^(\S.*?)(?: (?:" + "|".join(d.replace("#", r"\#") for d in UNIT_DESIGNATORS)
    + r")(?: (.*))?)?$"
)

# A unit id written without a designator right after the suffix, with an optional
# post-directional between: "OAK ST 14A", "OAK ST 14 A", "OAK ST N B2", "OAK ST C".
# A lone N, S, E or W is a directional, not a unit.
_TRAILING_UNIT = (
    r"^(.+ (?:" + "|".join(_SUFFIX_ABBREVIATIONS) + r")(?: (?:N|S|E|W|NE|NW|SE|SW))?)"
    r" ([0-9][0-9A-Z]*(?: [A-Z])?|[A-Z][0-9]+|[A-DF-MO-RT-VX-Z])$"
)

# Owner words that do not identify the customer. TRUST and the trustee forms are
# dropped because a house moved into its owner's trust is the same customer.
OWNER_NOISE_WORDS = (
    "JR", "SR", "II", "III", "IV", "ET AL", "ETAL", "ET UX", "ETUX", "ET VIR", "ETVIR",
    "TRUSTEE", "TRUSTEES", "TTEE", "TTEES", "TR", "TRS", "TRUST", "AND",
)


def _null_if_empty(expr: pl.Expr) -> pl.Expr:
    # `replace` evaluates `expr` once, but a when/then on it would evaluate it twice.
    return expr.replace("", None)


def _collapse_spaces(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars(" ")


def _replace_words(expr: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    """Replace whole words (or word pairs) of a single-spaced string in one Aho-Corasick pass.

    Every space is doubled and the string padded, so each word sits between spaces of
    its own and a pattern " ST " can match neither inside " STREET " nor overlap the
    word next to it. A two-word key is matched in its doubled form and, being longer
    and leftmost, wins over its first word alone.
    """
    padded = " " + expr.str.replace_all(" ", "  ", literal=True) + " "
    patterns = {f" {key.replace(' ', '  ')} ": f" {value} " for key, value in mapping.items()}
    return _collapse_spaces(padded.str.replace_many(patterns, leftmost=True))


def account_key(expr: pl.Expr) -> pl.Expr:
    """Normalize an account number for matching: upper case, no separators, no leading zeros.

    Spaces, dashes, dots and slashes are removed. A value with nothing left (empty,
    only separators or only zeros) becomes null.

    >>> df = pl.DataFrame({"account": ["00123-45", "12345", " 123 45 ", "ab.7", "000", ""]})
    >>> df.select(account_key(pl.col("account")))["account"].to_list()
    ['12345', '12345', '12345', 'AB7', None, None]
    """
    key = expr.str.to_uppercase().str.replace_all(_ID_SEPARATORS, "").str.strip_chars_start("0")
    return _null_if_empty(key).name.keep()


def meter_key(expr: pl.Expr) -> pl.Expr:
    """Normalize a meter number like an account number, and null one in scientific notation.

    >>> df = pl.DataFrame({"meter": ["0045-778", "45778", " 1.23457e+11", "12E5"]})
    >>> df.select(meter_key(pl.col("meter")))["meter"].to_list()
    ['45778', '45778', None, '12E5']
    """
    # Blanking the whole value lets account_key turn it into null.
    trimmed = expr.str.to_uppercase().str.strip_chars()
    return account_key(trimmed.str.replace(_SCIENTIFIC_NOTATION, "")).name.keep()


def parcel_key(expr: pl.Expr) -> pl.Expr:
    """Normalize a parcel id: upper case, letters and digits only, no leading zeros.

    Letters outside A-Z are dropped along with the punctuation.

    >>> df = pl.DataFrame({"parcel": ["012-345-00.A", "12345 00a", "--"]})
    >>> df.select(parcel_key(pl.col("parcel")))["parcel"].to_list()
    ['1234500A', '1234500A', None]
    """
    key = expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").str.strip_chars_start("0")
    return _null_if_empty(key).name.keep()


def _standardize_address_words(expr: pl.Expr) -> pl.Expr:
    """Upper-case an address, drop punctuation and abbreviate its words the USPS way."""
    text = expr.str.to_uppercase()

    # Apostrophes join their word ("O'NEIL" -> "ONEIL"), a lettered house number its
    # letter ("12-B" -> "12B"), and "#" becomes a word of its own.
    text = text.str.replace_all(r"['’`]", "").str.replace(r"^\s*([0-9]+)-([A-Z])\b", "${1}${2}")
    text = text.str.replace_all("#", " # ", literal=True)

    # Other punctuation separates words, except the slash of a fraction ("123 1/2"),
    # which is kept aside as U+2044 FRACTION SLASH while the rest is removed.
    text = text.str.replace_all("\u2044", "/", literal=True)
    text = text.str.replace_all(r"([0-9]) ?/ ?([0-9])", "${1}\u2044${2}")
    text = text.str.replace_all(r"[^\p{L}0-9#\u2044]+", " ")
    text = text.str.replace_all("\u2044", "/", literal=True)

    text = _collapse_spaces(text.str.replace_all(_GLUED_DESIGNATOR, "${1} ${2}"))
    return _replace_words(text, STREET_SUFFIXES | DIRECTIONALS | ORDINALS)


def _split_addresses(addresses: pl.Series) -> pl.DataFrame:
    """Split addresses into house_number, street and unit columns, one step per column.

    Each step reads the columns of the step before, so no intermediate expression is
    evaluated twice. Nesting the same steps into one expression would repeat them.
    """
    frame = pl.DataFrame({"address": addresses}, schema={"address": pl.String()}).lazy()

    frame = frame.with_columns(_standardize_address_words(pl.col("address")).alias("standard"))

    # An address without a leading number keeps all its words as the street.
    frame = frame.with_columns(
        pl.col("standard").str.extract_groups(_HOUSE_NUMBER).alias("h")
    ).with_columns(
        pl.col("h").struct.field("1").alias("house_number"),
        pl.when(pl.col("h").struct.field("1").is_null())
        .then(pl.col("standard"))
        .otherwise(pl.col("h").struct.field("2"))
        .alias("rest"),
    )

    frame = frame.with_columns(
        pl.col("rest").str.extract_groups(_DESIGNATED_UNIT).alias("d")
    ).with_columns(
        pl.col("d").struct.field("1").alias("street"),
        pl.col("d").struct.field("2").alias("unit"),
    )

    # Only when no designator was found may a bare id after the suffix be the unit.
    frame = frame.with_columns(
        pl.col("street").str.extract_groups(_TRAILING_UNIT).alias("t")
    ).with_columns(
        (pl.col("unit").is_null() & pl.col("t").struct.field("1").is_not_null()).alias("bare"),
    ).with_columns(
        pl.when("bare").then(pl.col("t").struct.field("1")).otherwise("street").alias("street"),
        pl.when("bare").then(pl.col("t").struct.field("2")).otherwise("unit").alias("unit"),
    )

    # Leading zeros go ("04" is unit 4), but a unit made only of zeros stays "0".
    unit = pl.col("unit").str.replace_all(" ", "", literal=True)
    unit = unit.str.replace(r"^0+([0-9A-Z])", "${1}")

    # A street name has at least one letter. "#4" or "12 34" alone names no street.
    street = pl.when(pl.col("street").str.contains(r"\p{L}")).then(pl.col("street"))
    return frame.select(
        _null_if_empty(pl.col("house_number")),
        street.alias("street"),
        _null_if_empty(unit).alias("unit"),
    ).collect()


ADDRESS_PARTS_DTYPE = pl.Struct(
    {"house_number": pl.String(), "street": pl.String(), "unit": pl.String()}
)


def address_parts(expr: pl.Expr) -> pl.Expr:
    """Split a service address into a struct of house_number, street and unit.

    The street is USPS-standardized and carries no unit. Every unit designator (APT,
    APARTMENT, SUITE, STE, #, NO, UNIT, LOT ...) is dropped and the unit id is kept with
    its spaces and leading zeros removed, so "APT 04 B" and "#4B" both give unit "4B".
    An id written without a designator right after the street suffix ("123 OAK ST 14A")
    is a unit as well. Parts that are missing are null.

    >>> df = pl.DataFrame({"address": ["123 North Main Street Apt 4", "9 Oak Ct 14 A"]})
    >>> df.select(address_parts(pl.col("address"))).unnest("address").rows()
    [('123', 'N MAIN ST', '4'), ('9', 'OAK CT', '14A')]
    """
    return expr.map_batches(
        lambda addresses: _split_addresses(addresses).to_struct(addresses.name),
        return_dtype=ADDRESS_PARTS_DTYPE,
        is_elementwise=True,
    )


def _address_keys(addresses: pl.Series) -> pl.Series:
    parts = _split_addresses(addresses)
    key = pl.concat_str(
        [pl.col("house_number"), pl.col("street"), pl.lit("UNIT ") + pl.col("unit")],
        separator=" ",
        ignore_nulls=True,
    )
    keys = parts.select(pl.when(pl.col("street").is_not_null()).then(key).alias(addresses.name))
    return keys.to_series()


def address_key(expr: pl.Expr) -> pl.Expr:
    """Normalize a service address into one comparable string, strict about the unit.

    The key is house number, standardized street and, when there is a unit, the word
    UNIT and the unit id (see `address_parts`). An address without a street (empty, or
    only a number) has a null key.

    >>> df = pl.DataFrame({"address": [
    ...     "123 North Main Street Apt 4", "123 N MAIN ST #4", "123 n. main st., unit 4",
    ...     "9 Oak Ct 14A", "9 OAK COURT APT 14 C", "  ",
    ... ]})
    >>> for key in df.select(address_key(pl.col("address")))["address"]:
    ...     print(key)
    123 N MAIN ST UNIT 4
    123 N MAIN ST UNIT 4
    123 N MAIN ST UNIT 4
    9 OAK CT UNIT 14A
    9 OAK CT UNIT 14C
    None
    """
    return expr.map_batches(_address_keys, return_dtype=pl.String(), is_elementwise=True)


def owner_key(expr: pl.Expr) -> pl.Expr:
    """Normalize an owner name so word order, case, punctuation and suffixes do not count.

    Apostrophes are removed ("O'BRIEN" == "OBRIEN"), other punctuation separates words,
    the words of OWNER_NOISE_WORDS (JR, SR, II, III, IV, ET AL, ET UX, ET VIR, TRUSTEE,
    TR, TRUST, AND ...) are dropped, and the remaining words are sorted. A name with
    nothing left is null.

    >>> df = pl.DataFrame({"owner": ["SMITH, JOHN A", "John A. Smith", "JOHN A SMITH JR",
    ...                              "Smith, John A et al", "ET AL"]})
    >>> df.select(owner_key(pl.col("owner")))["owner"].to_list()
    ['A JOHN SMITH', 'A JOHN SMITH', 'A JOHN SMITH', 'A JOHN SMITH', None]
    """
    text = expr.str.to_uppercase().str.replace_all(r"['’`]", "")
    text = _collapse_spaces(text.str.replace_all(r"[^\p{L}0-9]+", " "))
    text = _replace_words(text, dict.fromkeys(OWNER_NOISE_WORDS, ""))
    key = text.str.split(" ").list.eval(pl.element().sort()).list.join(" ")
    return _null_if_empty(key).name.keep()


def owners_differ(left: pl.Series, right: pl.Series, max_score: int) -> pl.Series:
    """Flag the rows whose two owner names are present and clearly belong to different people.

    A row is True when both owner keys exist, differ, and rapidfuzz `token_set_ratio`
    of the two keys is at most `max_score` (0-100). Because token_set_ratio scores a
    name that contains the other as 100, "SMITH JOHN" and "SMITH JOHN A" never differ.
    A missing name on either side gives False: an unknown owner is no change.
    Only the rows whose keys differ are scored.

    >>> owners_differ(pl.Series(["SMITH JOHN", "SMITH JOHN", None]),
    ...               pl.Series(["Smith, John A", "GARCIA MARIA", "GARCIA MARIA"]), 60).to_list()
    [False, True, False]
    """
    if left.len() != right.len():
        raise ValueError(
            f"owners_differ needs two Series of the same length, got {left.len()} and "
            f"{right.len()} rows"
        )

    keys = pl.DataFrame({"left": left, "right": right}, schema={
        "left": pl.String(), "right": pl.String(),
    }).select(
        owner_key(pl.col("left")).alias("left"),
        owner_key(pl.col("right")).alias("right"),
    )
    to_score = keys["left"].is_not_null() & keys["right"].is_not_null() & (
        keys["left"] != keys["right"]
    )

    pairs = keys.filter(to_score)
    logger.debug("scoring %d owner name pairs whose keys differ", pairs.height)
    scorer = partial(fuzz.token_set_ratio, processor=None)
    scores = list(map(scorer, pairs["left"].to_list(), pairs["right"].to_list()))
    clearly_different = [score <= max_score for score in scores]

    result = pl.Series("owners_differ", [False] * keys.height, dtype=pl.Boolean())
    return result.scatter(to_score.arg_true(), pl.Series(clearly_different, dtype=pl.Boolean()))
