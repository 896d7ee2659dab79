"""Text encoding of delimited files: detect it, decode, and hand Polars UTF-8 bytes.

Detection order: a byte order mark, then strict UTF-8, then Windows-1252 (the code
page of Excel's plain "CSV" format on US Windows), then charset-normalizer. Unless the
encoding is given, a file with a NUL byte is rejected, because that is what UTF-16
without a byte order mark, or a binary file, looks like. So is a file that is partly
UTF-8 and partly not, which no single encoding reads correctly.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from sewerline.engine.errors import InputError, Problem

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),   # checked before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Control characters that do not occur in a text export: in a reading other than
# UTF-8 they mean the guess was wrong. Tab, line feed, carriage return, form feed and
# the DOS end-of-file mark (0x1A) are allowed.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")

# A multi-byte UTF-8 character (a lead byte and its continuation bytes). Read as
# Windows-1252 it is an accented letter followed by symbols, rare in names and addresses.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)

ENCODING_HINT = (
    "Save the file as UTF-8 (in Excel: CSV UTF-8), or give its encoding under "
    "csv: encoding in the mapping file (for example utf-16-le or cp1252)."
)


@dataclass(frozen=True)
class DecodedText:
    """A delimited file's content as UTF-8 bytes for Polars, and how it was read."""

    utf8: bytes
    encoding: str


def decode_bytes(data: bytes, path: str, encoding: str | None = None) -> DecodedText:
    """Decode file content, detecting the encoding unless one is given.

    Raises InputError naming the file, the byte offset and line of the first byte
    that could not be read, when no encoding reads the file as text.
    """
    if encoding is not None:
        return _decode_as(data, path, encoding)

    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, path, bom_encoding)

    nul_offset = data.find(b"\x00")
    if nul_offset >= 0:
        raise InputError([_wrong_encoding(data, path, nul_offset, "contains a NUL byte")])

    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    else:
        # Valid UTF-8 is passed to Polars unchanged, without a copy.
        return DecodedText(data, "utf-8")

    if _UTF8_SEQUENCE.search(data):
        # Part of the file is UTF-8, so a single-byte reading would garble those
        # characters. The invalid bytes are more likely a damaged or mixed file.
        problem = _wrong_encoding(
            data, path, utf8_error.start, "is UTF-8 in places but not valid UTF-8 here"
        )
        raise InputError([problem])
    fallback = _decode_fallback(data, path)
    if fallback is not None:
        return fallback
    problem = _wrong_encoding(
        data, path, utf8_error.start,
        "is not UTF-8 text and could not be read as Windows-1252 either",
    )
    raise InputError([problem])


def _decode_as(data: bytes, path: str, encoding: str) -> DecodedText:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError([Problem(
            code="unknown_encoding",
            message=f"unknown text encoding {encoding!r}",
            file=path,
            value=encoding,
            expected="an encoding such as utf-8, cp1252 or latin-1",
            hint=ENCODING_HINT,
        )]) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        message = f"is not valid {encoding} text"
        raise InputError([_wrong_encoding(data, path, error.start, message)]) from None
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        # Already UTF-8: hand over the original bytes after the byte order mark.
        return DecodedText(data.removeprefix(codecs.BOM_UTF8), encoding)
    return DecodedText(text.removeprefix("\ufeff").encode("utf-8"), encoding)


def _decode_fallback(data: bytes, path: str) -> DecodedText | None:
    """Read non-UTF-8 bytes as Windows-1252, else as charset-normalizer's best guess."""
    if _CONTROL_BYTES.search(data):
        return None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined, so charset-normalizer guesses.
        best = from_bytes(data).best()
        if best is None:
            return None
        text = str(best)
        logger.info("%s: read as %s, the encoding charset-normalizer detected",
                    path, best.encoding)
        return DecodedText(text.encode("utf-8"), best.encoding)
    return DecodedText(text.encode("utf-8"), "cp1252")


def _wrong_encoding(data: bytes, path: str, offset: int, reason: str) -> Problem:
    line = data.count(b"\n", 0, offset) + 1
    return Problem(
        code="wrong_encoding",
        message=f"wrong encoding: the file {reason} (byte offset {offset}, line {line})",
        file=path,
        value=data[offset:offset + 8].hex(" "),
        expected="UTF-8 or Windows-1252 text (the value shows the bytes in hex)",
        hint=ENCODING_HINT,
    )
