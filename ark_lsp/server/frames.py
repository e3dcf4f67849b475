"""Splitting an LSP byte stream into message bodies: bounded, and resuming after a bad header.

pygls 2.1.1 reads each header with an unbounded ``readline`` and honours only
``Content-Length: <digits>`` lines: a length it cannot read (``abc``, ``-5``,
none at all) leaves it taking bodies for headers for good, and a huge one
makes it allocate that many bytes at once. ARK reads the stream itself:
headers are bounded, the length must be a plain number no larger than
``MAX_MESSAGE_BYTES``, and after a header it cannot honour the stream
resumes at the next ``Content-Length``, holding at most a few bytes of what
it skips. Without asyncio: the start reads its first messages before the
server's event loop exists (see :mod:`ark_lsp.server.prelude`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest message body read: a larger one is refused unread and skipped."""

MAX_HEADER_BYTES = 64 * 1024
"""The largest header block: real ones are a line or two."""

READ_CHUNK_BYTES = 1024 * 1024
"""How much one read of the stream asks for."""

_HEADER_END = b"\r\n\r\n"
_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")
_LENGTH = re.compile(rb"[0-9]{1,20}")
_CONTENT_LENGTH = re.compile(rb"content-length:", re.IGNORECASE)
_SKIP_KEEPS = len(b"content-length:") - 1
"""Bytes kept while skipping, in case the next header is split across two reads."""


@dataclass(frozen=True)
class FrameError:
    """A header the reader could not honour; the stream resumes at the next one."""

    reason: str


class _BadHeader(Exception):
    pass


def _shown(raw: bytes | bytearray, limit: int = 40) -> str:
    """Client bytes quoted for a message, cut short: the client chose their size."""
    text = repr(bytes(raw[:limit]))
    return text + "..." if len(raw) > limit else text


class Framer:
    """Splits a byte stream into message bodies; feed it bytes, take bodies or errors out.

    Holds at most one header block, one body of up to ``max_message_bytes``,
    and what has been fed but not yet taken.
    """

    def __init__(
        self, max_message_bytes: int = MAX_MESSAGE_BYTES, max_header_bytes: int = MAX_HEADER_BYTES
    ) -> None:
        self._max_message_bytes = max_message_bytes
        self._max_header_bytes = max_header_bytes
        self._buffer = bytearray()
        self._body_length: int | None = None
        """While reading a body: its length."""
        self._skipping = False
        """After a bad header: dropping bytes up to the next ``Content-Length``."""

    def feed(self, data: bytes) -> None:
        """Add bytes read from the stream."""
        self._buffer += data

    @property
    def mid_message(self) -> bool:
        """Whether part of a message has been read but not all of it."""
        return self._body_length is not None or bool(self._buffer.strip(b"\r\n"))

    def next(self) -> bytes | FrameError | None:
        """The next message body or header error, or ``None`` until more bytes are fed."""
        if self._skipping and not self._skip():
            return None
        if self._body_length is None:
            error = self._read_header()
            if error is not None:
                return error
        length = self._body_length
        if length is None or len(self._buffer) < length:
            return None
        with memoryview(self._buffer) as view:
            body = bytes(view[:length])
        del self._buffer[:length]
        self._body_length = None
        return body

    def _read_header(self) -> FrameError | None:
        """Read a header block if a whole one is buffered; an error if it is bad."""
        # Blank lines between messages are harmless: some clients end bodies with one.
        while self._buffer[:2] == b"\r\n":
            del self._buffer[:2]
        end = self._buffer.find(_HEADER_END, 0, self._max_header_bytes + len(_HEADER_END))
        if end < 0:
            if len(self._buffer) > self._max_header_bytes:
                return self._reject(f"no end of header in {self._max_header_bytes} bytes")
            return None
        try:
            length = self._content_length(bytes(self._buffer[:end]))
        except _BadHeader as error:
            return self._reject(str(error))
        del self._buffer[: end + len(_HEADER_END)]
        self._body_length = length
        return None

    def _content_length(self, header: bytes) -> int:
        lengths = set()
        for line in header.split(b"\r\n"):
            match = _HEADER_LINE.fullmatch(line)
            if match is None:
                raise _BadHeader(f"{_shown(line)} is not a header line")
            if match[1].lower() == b"content-length":
                lengths.add(match[2])
        if not lengths:
            raise _BadHeader("the header has no Content-Length")
        if len(lengths) > 1:
            raise _BadHeader("the header has conflicting Content-Lengths")
        (value,) = lengths
        if not _LENGTH.fullmatch(value):
            raise _BadHeader(f"Content-Length {_shown(value)} is not a number of bytes")
        length = int(value)
        if length > self._max_message_bytes:
            raise _BadHeader(
                f"a message of {length} bytes is over the limit of {self._max_message_bytes}"
            )
        return length

    def _reject(self, reason: str) -> FrameError:
        # The bad header's own "Content-Length" must not be found again: drop its first byte.
        del self._buffer[:1]
        self._skipping = True
        return FrameError(reason)

    def _skip(self) -> bool:
        """Drop bytes up to the next ``Content-Length``; whether it was found."""
        found = _CONTENT_LENGTH.search(self._buffer)
        if found is None:
            del self._buffer[: max(0, len(self._buffer) - _SKIP_KEEPS)]
            return False
        del self._buffer[: found.start()]
        self._skipping = False
        return True


def is_request_id(value: object) -> TypeGuard[int | str]:
    """Whether a message's ``id`` is one: LSP ids are integers or strings (null means none)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
