"""Archive writers behind one `ArchiveWriter` protocol: RAR, 7z and ZIP.

- RAR, the reference format: RAR 5 archives written by trackconsent itself,
  members stored uncompressed; or, with ``compress=True``, compressed by the
  ``rar`` program found on PATH.
- 7z through py7zr: LZMA2, and AES-256 with encrypted headers (file names
  hidden too) when a password is given.
- ZIP through zipfile: deflate, every non-ASCII name flagged as UTF-8 (an
  ASCII name reads the same in every encoding a ZIP reader may assume).

Every writer cleans member names the same way (see `safe_member_name`) and
never lets two members land on the same file; `safe_file_name` makes a name
from data into one flat file name, with no folder. Errors of the archive libraries
and of the file system come out as `trackconsent.errors.ExportError`; a
missing or wrong 7z password as `trackconsent.errors.WrongPasswordError`.
"""

from __future__ import annotations

import enum
import io
import logging
import lzma
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import IO, Final, Protocol, runtime_checkable

import py7zr
import py7zr.exceptions
import py7zr.helpers
import rarfile

from trackconsent.errors import (
    ExportError,
    InvalidValueError,
    ToolMissingError,
    TrackConsentError,
    WrongPasswordError,
)
from trackconsent.export import _rar5
from trackconsent.export._names import (
    MemberNames,
    safe_file_name,
    safe_member_name,
)
from trackconsent.model import require_aware

__all__ = [
    "ArchiveFormat",
    "ArchiveWriter",
    "RarWriter",
    "SevenZipWriter",
    "Target",
    "ZipWriter",
    "archive_writer",
    "read_archive",
    "safe_file_name",
    "safe_member_name",
]

log = logging.getLogger(__name__)

Target = str | PathLike[str] | IO[bytes]
"""Where `ArchiveWriter.finish` writes: a path, or a writable binary file."""

_CHUNK: Final = 1 << 20
_ZIP_EPOCH: Final = datetime(1980, 1, 1, tzinfo=UTC)
# 7z time stamps count 100-nanosecond ticks from 1601 (Windows FILETIME).
_FILETIME_EPOCH: Final = datetime(1601, 1, 1, tzinfo=UTC)
# 7z attributes: FILE_ATTRIBUTE_ARCHIVE, then the flag saying the high 16 bits
# hold a Unix mode, then that mode: a regular file, rw-r--r--.
_SEVEN_ZIP_FILE_ATTRIBUTES: Final = 0x20 | 0x8000 | ((stat.S_IFREG | 0o644) << 16)
_SEVEN_ZIP_MAGIC: Final = b"7z\xbc\xaf\x27\x1c"
_RAR_MAGIC: Final = b"Rar!\x1a\x07"
_ZIP_MAGIC: Final = b"PK"
_HIDDEN: Final = "<hidden>"


class ArchiveFormat(enum.Enum):
    """The archive formats an export can be written in."""

    RAR = "rar"
    SEVEN_ZIP = "7z"
    ZIP = "zip"

    @property
    def suffix(self) -> str:
        """The file name extension, with its dot."""
        return "." + self.value

    @classmethod
    def parse(cls, value: ArchiveFormat | str) -> ArchiveFormat:
        """Return the format named ``value`` (``rar``, ``7z`` or ``zip``).

        Raises:
            InvalidValueError: no such format.
        """
        if isinstance(value, ArchiveFormat):
            return value
        try:
            return cls(str(value).lower().lstrip("."))
        except ValueError:
            raise InvalidValueError(
                "format", "not one of rar, 7z, zip", value
            ) from None


@runtime_checkable
class ArchiveWriter(Protocol):
    """Builds one archive from streams, then writes it out.

    Contract:

    - `add` takes a readable binary stream and a wished-for name. It returns
      the member name actually used: cleaned by `safe_member_name` and distinct
      from every name returned before (a ``~2`` is added on a clash). The
      stream is read from its start when `finish` runs, so it must stay open
      until then; the writer never closes it.
    - `finish` writes the archive to a path (created or replaced) or to a
      writable binary file, once. Members come out in the order they were
      added, their bytes unchanged, empty ones as empty files.
    - Failures raise `ExportError`; a path that was being written is removed.
    """

    @property
    def format(self) -> ArchiveFormat:
        """The format this writer produces."""
        ...

    @property
    def encrypted(self) -> bool:
        """True when the archive's content is encrypted."""
        ...

    def add(self, name: str, stream: IO[bytes]) -> str:
        """Queue a member; return the member name it will have."""
        ...

    def finish(self, target: Target) -> None:
        """Write the archive with every queued member to ``target``."""
        ...


class _QueuedWriter:
    """What every writer shares: queued members, clean names, one finish."""

    format: ArchiveFormat

    def __init__(self, *, mtime: datetime) -> None:
        require_aware("mtime", mtime)
        self._mtime = mtime
        self._names = MemberNames()
        self._members: list[tuple[str, IO[bytes]]] = []
        self._copies: list[IO[bytes]] = []
        self._finished = False

    @property
    def encrypted(self) -> bool:
        """True when the archive's content is encrypted."""
        return False

    def add(self, name: str, stream: IO[bytes]) -> str:
        """Queue a member; return the member name it will have."""
        if self._finished:
            raise ExportError(f"archive: already finished: {self.format.value!r}")
        member = self._names.claim(name)
        if not stream.seekable():
            stream = _seekable_copy(stream)
            self._copies.append(stream)
        self._members.append((member, stream))
        return member

    def finish(self, target: Target) -> None:
        """Write the archive with every queued member to ``target``."""
        if self._finished:
            raise ExportError(f"archive: already finished: {self.format.value!r}")
        self._finished = True
        try:
            with _opened(target) as out, _translated(self.format):
                self._write(out)
        finally:
            for copy in self._copies:
                copy.close()
        log.debug("wrote %s archive of %d members", self.format.value, len(self))

    def __len__(self) -> int:
        """The number of members queued."""
        return len(self._members)

    def _write(self, out: IO[bytes]) -> None:
        raise NotImplementedError

    def _each(self) -> Iterator[tuple[str, IO[bytes]]]:
        for member, stream in self._members:
            stream.seek(0)
            yield member, stream


class ZipWriter(_QueuedWriter):
    """Writes ZIP archives: deflate, non-ASCII names flagged as UTF-8.

    Args:
        mtime: The modification time given to every member (aware).
        level: The deflate level, 0 to 9.
    """

    format = ArchiveFormat.ZIP

    def __init__(self, *, mtime: datetime, level: int = 6) -> None:
        """Prepare an empty archive."""
        super().__init__(mtime=mtime)
        self._level = level

    def _write(self, out: IO[bytes]) -> None:
        stamp = max(self._mtime.astimezone(UTC), _ZIP_EPOCH)
        with zipfile.ZipFile(
            out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=self._level
        ) as archive:
            for member, stream in self._each():
                info = zipfile.ZipInfo(member, date_time=stamp.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o100644 << 16
                large = _remaining(stream) >= zipfile.ZIP64_LIMIT
                with archive.open(info, "w", force_zip64=large) as sink:
                    shutil.copyfileobj(stream, sink, _CHUNK)


class SevenZipWriter(_QueuedWriter):
    """Writes 7z archives through py7zr: LZMA2, AES-256 with a password.

    With a password, the headers are encrypted too, so member names stay
    hidden without it.

    Args:
        mtime: The modification time given to every member (aware; one before
            1601, where 7z time stamps start, is given as 1601).
        password: Encrypt content and headers with this password.
        preset: The LZMA2 preset, 0 (fast) to 9 (small).
    """

    format = ArchiveFormat.SEVEN_ZIP

    def __init__(
        self, *, mtime: datetime, password: str | None = None, preset: int = 6
    ) -> None:
        """Prepare an empty archive."""
        super().__init__(mtime=mtime)
        if password is not None and not password:
            raise InvalidValueError("password", "must not be empty", _HIDDEN)
        self._password = password
        self._preset = preset

    @property
    def encrypted(self) -> bool:
        """True when a password was given."""
        return self._password is not None

    def _write(self, out: IO[bytes]) -> None:
        filters: list[dict[str, int]] = [
            {"id": py7zr.FILTER_LZMA2, "preset": self._preset}
        ]
        if self._password is not None:
            filters.append({"id": py7zr.FILTER_CRYPTO_AES256_SHA256})
        with py7zr.SevenZipFile(
            out,
            "w",
            filters=filters,
            password=self._password,
            header_encryption=self._password is not None,
        ) as archive:
            for member, stream in self._each():
                archive.writef(stream, member)
            _stamp_7z_members(archive, self._mtime)


def _stamp_7z_members(archive: py7zr.SevenZipFile, mtime: datetime) -> None:
    """Give every member ``mtime`` and the rw-r--r-- permissions of the others.

    py7zr stamps a member written from a stream with the wall clock and 0600
    and has no argument to choose otherwise. It writes the header, where these
    live, only when the archive closes, so they can still be set here.
    """
    ticks = max(mtime - _FILETIME_EPOCH, timedelta(0)) // timedelta(microseconds=1)
    stamp = py7zr.helpers.ArchiveTimestamp(ticks * 10)
    for info in archive.header.files_info.files:
        info["lastwritetime"] = stamp
        info["attributes"] = _SEVEN_ZIP_FILE_ATTRIBUTES


class RarWriter(_QueuedWriter):
    """Writes RAR 5 archives.

    By default trackconsent writes the archive itself, members stored
    uncompressed. With ``compress=True`` the ``rar`` program compresses them;
    it must be on PATH when the writer is made.

    Args:
        mtime: The modification time given to every member (aware).
        compress: Compress through the ``rar`` program.
        program: The name or path of that program.

    Raises:
        ToolMissingError: ``compress`` is set and the program is not found.
    """

    format = ArchiveFormat.RAR

    def __init__(
        self, *, mtime: datetime, compress: bool = False, program: str = "rar"
    ) -> None:
        """Prepare an empty archive; find the ``rar`` program if needed."""
        super().__init__(mtime=mtime)
        self._program: str | None = None
        if compress:
            self._program = shutil.which(program)
            if self._program is None:
                raise ToolMissingError(
                    f"rar: program not found on PATH, needed to compress: {program!r}"
                )

    def _write(self, out: IO[bytes]) -> None:
        if self._program is None:
            self._write_stored(out)
        else:
            self._write_compressed(out, self._program)

    def _write_stored(self, out: IO[bytes]) -> None:
        mtime = int(self._mtime.timestamp())
        out.write(_rar5.SIGNATURE + _rar5.main_header())
        for member, stream in self._each():
            crc, size = _rar5.crc_and_size(stream)
            out.write(_rar5.file_header(member, size, crc, mtime))
            stream.seek(0)
            shutil.copyfileobj(stream, out, _CHUNK)
        out.write(_rar5.end_header())

    def _write_compressed(self, out: IO[bytes], program: str) -> None:
        stamp = self._mtime.timestamp()
        with tempfile.TemporaryDirectory(prefix="trackconsent-rar-") as folder:
            root = Path(folder, "members")
            names = []
            for member, stream in self._each():
                path = root / member
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("wb") as sink:
                    shutil.copyfileobj(stream, sink, _CHUNK)
                os.utime(path, (stamp, stamp))
                names.append(member)
            archive = Path(folder, "archive.rar")
            command = [program, "a", "-ma5", "-m3", "-idq", "-y", str(archive), "--"]
            subprocess.run(  # noqa: S603 - the program was found by name on PATH
                [*command, *names], cwd=root, check=True, capture_output=True
            )
            with archive.open("rb") as made:
                shutil.copyfileobj(made, out, _CHUNK)


def archive_writer(
    fmt: ArchiveFormat | str,
    *,
    mtime: datetime,
    password: str | None = None,
    compress: bool = False,
) -> ArchiveWriter:
    """Return a writer for ``fmt``.

    Args:
        fmt: ``rar``, ``7z`` or ``zip``, or an `ArchiveFormat`.
        mtime: The modification time given to members (aware).
        password: Encrypt with this password; only 7z encrypts.
        compress: For RAR, compress through the ``rar`` program.

    Raises:
        InvalidValueError: unknown format, or a password for RAR or ZIP.
        ToolMissingError: RAR compression asked for without ``rar`` on PATH.
    """
    kind = ArchiveFormat.parse(fmt)
    if password is not None and kind is not ArchiveFormat.SEVEN_ZIP:
        raise InvalidValueError(
            "password", f"only 7z archives are encrypted, not {kind.value}", _HIDDEN
        )
    if kind is ArchiveFormat.SEVEN_ZIP:
        return SevenZipWriter(mtime=mtime, password=password)
    if kind is ArchiveFormat.ZIP:
        return ZipWriter(mtime=mtime)
    return RarWriter(mtime=mtime, compress=compress)


def read_archive(
    source: str | PathLike[str], *, password: str | None = None
) -> dict[str, bytes]:
    """Read every member of a RAR, 7z or ZIP archive, by member name.

    Meant for checking an export: every member is held in memory. The format
    is told from the file's first bytes.

    Raises:
        WrongPasswordError: a 7z archive needs a password and got none or a
            wrong one.
        ExportError: the file is not a readable archive.
    """
    path = Path(source)
    try:
        with path.open("rb") as probe:
            magic = probe.read(8)
    except OSError as error:
        raise ExportError(f"archive: cannot be read: {str(path)!r}") from error
    readers: list[tuple[bytes, ArchiveFormat, Callable[[], dict[str, bytes]]]] = [
        (_RAR_MAGIC, ArchiveFormat.RAR, lambda: _read_rar(path)),
        (_SEVEN_ZIP_MAGIC, ArchiveFormat.SEVEN_ZIP, lambda: _read_7z(path, password)),
        (_ZIP_MAGIC, ArchiveFormat.ZIP, lambda: _read_zip(path)),
    ]
    for prefix, kind, read in readers:
        if magic.startswith(prefix):
            with _translated(kind):
                return read()
    raise ExportError(f"archive: not a RAR, 7z or ZIP file: {str(path)!r}")


def _read_rar(path: Path) -> dict[str, bytes]:
    with rarfile.RarFile(path) as archive:
        return {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if not info.is_dir()
        }


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if not info.is_dir()
        }


def _read_7z(path: Path, password: str | None) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="trackconsent-7z-") as folder:
        try:
            with py7zr.SevenZipFile(path, "r", password=password) as archive:
                encrypted = archive.needs_password()
                names = [name for name in archive.getnames() if name]
                if encrypted and password is None:
                    raise py7zr.exceptions.PasswordRequired("content is encrypted")
                archive.extractall(path=folder)
        except _SEVEN_ZIP_READ_ERRORS as error:
            # With encrypted headers, a wrong password decrypts them to noise
            # and py7zr fails in any of these ways while parsing it.
            if password is not None or isinstance(
                error, py7zr.exceptions.PasswordRequired
            ):
                raise WrongPasswordError(
                    f"password: missing or wrong for the 7z archive: {_HIDDEN}"
                ) from error
            raise
        root = Path(folder)
        return {
            name: (root / name).read_bytes()
            for name in names
            if (root / name).is_file()
        }


def _seekable_copy(stream: IO[bytes]) -> IO[bytes]:
    """Return a temporary copy of a stream that cannot seek, such as a pipe."""
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - lives until the archive is written
    shutil.copyfileobj(stream, copy, _CHUNK)
    copy.seek(0)
    return copy


def _remaining(stream: IO[bytes]) -> int:
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


@contextmanager
def _opened(target: Target) -> Iterator[IO[bytes]]:
    """Yield a binary file to write to; remove a path's file on failure."""
    if not isinstance(target, str | PathLike):
        yield target
        return
    path = Path(target)
    try:
        out = path.open("wb")
    except OSError as error:
        raise ExportError(f"archive: cannot be written: {str(path)!r}") from error
    try:
        with out:
            yield out
    except BaseException:
        path.unlink(missing_ok=True)
        raise


_SEVEN_ZIP_READ_ERRORS: Final = (
    py7zr.exceptions.PasswordRequired,
    py7zr.exceptions.ArchiveError,
    lzma.LZMAError,
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
)

_LIBRARY_ERRORS: Final = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    py7zr.exceptions.ArchiveError,
    rarfile.Error,
    subprocess.CalledProcessError,
)


@contextmanager
def _translated(kind: ArchiveFormat) -> Iterator[None]:
    """Turn archive library and file system errors into trackconsent errors."""
    try:
        yield
    except TrackConsentError:
        raise
    except _LIBRARY_ERRORS as error:
        raise ExportError(
            f"archive: {kind.value} failed: {type(error).__name__}"
        ) from error
