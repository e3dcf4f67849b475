"""Source bytes as the parser sees them: encoding, lines, positions.

The analysis works on UTF-8 bytes because that is what :mod:`ast` positions
count in; text is decoded only where a human will read it (a non-ASCII line
whose columns must be counted in code points, an annotation's text).
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field

from ark_lsp.models import LineCounts, Span

_LINE_SPACE = b" \t\f"
"""What may stand on a blank line, or before the ``#`` of a comment line."""
_NEWLINE = re.compile(rb"\r\n|\r|\n")


class SourceDecodeError(ValueError):
    """The bytes cannot be read as Python source text."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(slots=True)
class Source:
    """UTF-8 source bytes with what is needed to turn positions into text."""

    data: bytes
    """The file as UTF-8, without a byte-order mark."""
    encoding: str
    """The encoding the file declared or implied."""
    parse_input: bytes | str
    """What to hand :func:`ast.parse`: bytes, or text when the file is not UTF-8."""

    is_ascii: bool = field(init=False, repr=False)
    """Whether byte offsets and code-point columns coincide everywhere."""
    _lines: list[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.is_ascii = self.data.isascii()

    def comments(self, first: int, last: int) -> dict[int, bytes]:
        """The comment tokens of lines ``first`` to ``last``, by line (text in strings is not).

        The lines must begin and end whole statements, as a block's do, so that
        they tokenize alone as they would in the file.
        """
        found: dict[int, bytes] = {}
        text = b"\n".join(self.lines[first - 1 : last]).decode("utf-8", "replace")
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type == tokenize.COMMENT:
                    found[token.start[0] + first - 1] = token.string.encode()
        except (tokenize.TokenError, SyntaxError):
            pass
        return found

    @property
    def lines(self) -> list[bytes]:
        """Physical lines, split the way the parser counts them."""
        if self._lines is None:
            data = self.data
            self._lines = data.split(b"\n") if b"\r" not in data else _NEWLINE.split(data)
        return self._lines

    def line_bytes(self, line: int) -> bytes:
        """The 1-based line, or empty bytes past the end."""
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else b""

    def column(self, line: int, byte_offset: int) -> int:
        """Convert a UTF-8 byte offset on ``line`` to a code-point column."""
        if self.is_ascii:
            return byte_offset
        raw = self.line_bytes(line)
        if raw.isascii():
            return byte_offset
        return len(raw[:byte_offset].decode("utf-8", "replace"))

    def span(self, node: ast.expr | ast.stmt) -> Span:
        """A node's span, in code-point columns."""
        end_line = node.end_lineno or node.lineno
        return Span(
            node.lineno,
            self.column(node.lineno, node.col_offset),
            end_line,
            self.column(end_line, node.end_col_offset or 0),
        )

    def text(self, node: ast.expr) -> str:
        """A node's source text, as written."""
        return self.segment(
            node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0
        )

    def segment(self, line: int, start: int, end_line: int, end: int) -> str:
        """Text between two byte positions (1-based lines)."""
        if line == end_line:
            return self.line_bytes(line)[start:end].decode("utf-8", "replace")
        parts = [self.line_bytes(line)[start:]]
        parts += [self.line_bytes(n) for n in range(line + 1, end_line)]
        parts.append(self.line_bytes(end_line)[:end])
        return b"\n".join(parts).decode("utf-8", "replace")


def read_source(raw: bytes | str) -> Source:
    """Prepare source for parsing, honouring a BOM or a PEP 263 coding line.

    Raises :class:`SourceDecodeError` when the bytes are not valid in the
    encoding they declare, or declare one that cannot decode source.
    """
    if isinstance(raw, str):
        data = raw.encode("utf-8", "surrogateescape")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            pass  # the parser reports it, where it is
        else:
            # The parser is handed these bytes and honours their coding line:
            # refuse one that cannot decode, with the message a file on disk gets.
            _require_text_encoding(encoding, data)
        return Source(data=data.removeprefix(codecs.BOM_UTF8), encoding="utf-8", parse_input=data)
    encoding = declared_encoding(raw)
    if encoding == "utf-8":
        return Source(data=raw, encoding=encoding, parse_input=raw)
    if encoding == "utf-8-sig":
        data = raw.removeprefix(codecs.BOM_UTF8)
        return Source(data=data, encoding=encoding, parse_input=data)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = line_and_column(raw, error.start)
        raise SourceDecodeError(
            f"file is not valid {encoding}: byte {raw[error.start]:#04x} cannot be decoded",
            line=line,
            column=column,
        ) from None
    except ValueError as error:  # codecs that fail without saying where: punycode, undefined
        raise SourceDecodeError(
            f"file is not valid {encoding}: {error}", line=1, column=0
        ) from None
    # The parser is handed text, so the coding line no longer applies and
    # its positions are UTF-8 offsets into this re-encoding.
    return Source(data=text.encode("utf-8"), encoding=encoding, parse_input=text)


def declared_encoding(raw: bytes) -> str:
    """The encoding a BOM or coding line declares (UTF-8 when none does).

    Only a text encoding may decode source, as CPython's own tokenizer
    insists: a coding line naming a bytes-to-bytes or str-to-str codec
    (``rot13``, ``zlib_codec``, ``hex``, ``base64``, ``uu``, ``bz2``) is
    refused, never run on the file. Raises :class:`SourceDecodeError`.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        invalid = first_invalid_utf8(raw)
        if invalid is not None:
            line, column, byte = invalid
            message = f"file is not valid UTF-8: byte {byte:#04x} at line {line} cannot be decoded"
            raise SourceDecodeError(message, line=line, column=column) from None
        raise SourceDecodeError(f"cannot read source: {error}", line=1, column=0) from None
    _require_text_encoding(encoding, raw)
    return encoding


def _require_text_encoding(encoding: str, raw: bytes) -> None:
    # ``_is_text_encoding`` is private, but it is the very flag str.decode() and
    # the tokenizer check; a codec without it is a text one.
    if not getattr(codecs.lookup(encoding), "_is_text_encoding", True):
        line = 1 if b"coding" in raw[: raw.find(b"\n")] else 2
        raise SourceDecodeError(
            f"unsupported encoding {encoding!r}: not a text encoding", line=line, column=0
        )


def count_lines(data: bytes) -> LineCounts:
    """Count total, code, comment and blank lines of UTF-8 source."""
    if not data:
        return LineCounts()
    if b"\r" in data:
        data = _NEWLINE.sub(b"\n", data)
    total = data.count(b"\n") + (not data.endswith(b"\n"))
    # Counted in C over the whole file, no match objects: with the spaces gone, a
    # blank line is two newlines in a row and a comment line a newline then "#".
    squeezed = b"\n" + data.translate(None, _LINE_SPACE) + b"\n"
    # count() takes one in two of a run of overlapping "\n\n" pairs (blank lines in
    # a row): written as "\n\0\n", each newline meets the next in a pair of its own.
    blank = squeezed.replace(b"\n", b"\n\0\n").count(b"\n\n") - data.endswith(b"\n")
    comment = squeezed.count(b"\n#")
    return LineCounts(total=total, code=total - blank - comment, comment=comment, blank=blank)


def line_counts(lines: Iterable[bytes]) -> LineCounts:
    """:func:`count_lines` of some of a text's lines, each with its line ending.

    Counted a line at a time, so that an edit counts only the lines it changed.
    """
    total = blank = comment = 0
    for line in lines:
        total += 1
        text = line.rstrip(b"\r\n").lstrip(b" \t\f")
        if not text:
            blank += 1
        elif text[0] == _HASH:
            comment += 1
    return LineCounts(total=total, code=total - blank - comment, comment=comment, blank=blank)


_HASH = ord("#")


def first_invalid_utf8(data: bytes) -> tuple[int, int, int] | None:
    """Return ``(line, column, byte)`` of the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return (*line_and_column(data, error.start), data[error.start])
    return None


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and 0-based byte column of a byte offset."""
    return data.count(b"\n", 0, offset) + 1, offset - (data.rfind(b"\n", 0, offset) + 1)
