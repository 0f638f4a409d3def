"""Messages between a batch and its worker processes: a 4-byte big-endian length, then a
pickle. Both ends are this package, started by the same user, over a private pipe."""
from __future__ import annotations

import os
import pickle
import struct
from typing import Any

_LENGTH = struct.Struct(">I")
Message = dict[str, Any]  # a task, a result, or a worker's word (ready, the target's sha256)


def encode_frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def write_frame(fd: int, message: Any) -> None:
    write_bytes(fd, encode_frame(message))


def write_bytes(fd: int, data_bytes: bytes) -> None:
    """All of ``data_bytes`` (several frames may go in one write)."""
    data = memoryview(data_bytes)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None  # the other end is gone
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class FrameReader:
    """Messages from a pipe read in large pieces: one ``read`` takes every message that is
    there (a worker's answers often come two at a time), so a batch makes one system call,
    not four, per message."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False

    def read_available(self) -> list[Any]:
        """Read once (the pipe is readable: this does not block long) and return every whole
        message now buffered; ``closed`` says the other end is gone."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.closed = True
        self.buffer += chunk
        messages = []
        at = 0
        while len(self.buffer) - at >= _LENGTH.size:
            size = _LENGTH.unpack_from(self.buffer, at)[0]
            if len(self.buffer) - at - _LENGTH.size < size:
                break
            start = at + _LENGTH.size
            messages.append(pickle.loads(self.buffer[start : start + size]))
            at = start + size
        del self.buffer[:at]
        return messages


def read_frame(fd: int) -> Any:
    """The next message, or None when the other end closed the pipe (or died mid-message)."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    body = _read_exactly(fd, _LENGTH.unpack(head)[0])
    return None if body is None else pickle.loads(body)
