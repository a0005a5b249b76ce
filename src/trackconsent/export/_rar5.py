"""Writing RAR 5 archives whose members are stored, not compressed.

Written from the published RAR 5.0 archive format description. An archive is
the 8-byte signature, a main archive header, one file header per member each
followed by the member's bytes, and an end of archive header.

Every header is laid out the same way: the CRC32 of the rest of the header
(4 bytes, little endian), the header size, the header type, the header flags,
the data size when a data area follows, then fields of that header type. Sizes,
types and flags are *vints*: 7 bits per byte, least significant group first,
the high bit set on every byte but the last.

A file header here always carries the modification time (Unix seconds) and the
CRC32 of the member's bytes, names the member in UTF-8 with ``/`` between
folders, says the host is Unix (so attributes are a Unix mode), and gives
compression method 0, "store".
"""

from __future__ import annotations

import struct
import zlib
from typing import IO, Final

__all__ = ["SIGNATURE", "end_header", "file_header", "main_header", "vint"]

SIGNATURE: Final = b"Rar!\x1a\x07\x01\x00"

_HEADER_MAIN: Final = 1
_HEADER_FILE: Final = 2
_HEADER_END: Final = 5

_FLAG_DATA_AREA: Final = 0x0002

_FILE_HAS_MTIME: Final = 0x0002
_FILE_HAS_CRC32: Final = 0x0004

_HOST_UNIX: Final = 1
_COMPRESSION_STORE: Final = 0  # version 0, not solid, method 0, smallest dictionary
_REGULAR_FILE_MODE: Final = 0o100644
_UINT32: Final = struct.Struct("<I")
_MAX_UINT32: Final = 0xFFFFFFFF


def vint(value: int) -> bytes:
    """Encode a non-negative integer as a RAR 5 variable length integer."""
    if value < 0:
        raise ValueError(f"vint: must not be negative: {value!r}")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _header(kind: int, fields: bytes, *, data_size: int | None = None) -> bytes:
    flags = 0 if data_size is None else _FLAG_DATA_AREA
    body = vint(kind) + vint(flags)
    if data_size is not None:
        body += vint(data_size)
    body += fields
    sized = vint(len(body)) + body

    return _UINT32.pack(zlib.crc32(sized)) + sized


def main_header() -> bytes:
    """Return the main archive header of a single-volume, non-solid archive."""
    return _header(_HEADER_MAIN, vint(0))


def file_header(name: str, size: int, crc: int, mtime: int) -> bytes:
    """Return the header of a stored member; its ``size`` bytes follow it.

    Args:
        name: The member's path, ``/`` between folders.
        size: The member's length in bytes (stored: packed = unpacked).
        crc: The CRC32 of the member's bytes.
        mtime: Modification time, Unix seconds; clamped to what 32 bits hold.
    """
    encoded = name.encode("utf-8")
    fields = b"".join(
        [
            vint(_FILE_HAS_MTIME | _FILE_HAS_CRC32),
            vint(size),
            vint(_REGULAR_FILE_MODE),
            _UINT32.pack(min(max(mtime, 0), _MAX_UINT32)),
            _UINT32.pack(crc & _MAX_UINT32),
            vint(_COMPRESSION_STORE),
            vint(_HOST_UNIX),
            vint(len(encoded)),
            encoded,
        ]
    )
    return _header(_HEADER_FILE, fields, data_size=size)


def end_header() -> bytes:
    """Return the end of archive header of the last (only) volume."""
    return _header(_HEADER_END, vint(0))


def crc_and_size(stream: IO[bytes], chunk: int = 1 << 20) -> tuple[int, int]:
    """Read ``stream`` to its end; return the CRC32 and the length of its bytes."""
    crc = 0
    size = 0
    while block := stream.read(chunk):
        crc = zlib.crc32(block, crc)
        size += len(block)
    return crc, size
