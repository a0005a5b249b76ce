"""The archive writers, read back by their libraries and by bsdtar."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._archive_readers import (
    list_with_bsdtar,
    modified_with_bsdtar,
    read_with_bsdtar,
    read_with_library,
)
from tests.strategies import member_contents, member_names
from trackconsent import ExportError, InvalidValueError, ToolMissingError
from trackconsent.errors import WrongPasswordError
from trackconsent.export.archives import (
    ArchiveFormat,
    ArchiveWriter,
    RarWriter,
    SevenZipWriter,
    ZipWriter,
    archive_writer,
    read_archive,
    safe_file_name,
    safe_member_name,
)

NOW = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
UNICODE_NAME = "Zoë_Ærø_测试_💆🏻.json"
FORMATS = list(ArchiveFormat)


def _write(
    fmt: ArchiveFormat, members: dict[str, bytes], path: Path, **options: str
) -> dict[str, str]:
    writer = archive_writer(fmt, mtime=NOW, **options)
    used = {}
    for name, data in members.items():
        used[writer.add(name, io.BytesIO(data))] = name
    writer.finish(path)
    return used


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_members_come_back_byte_for_byte_from_the_library_and_bsdtar(
    fmt: ArchiveFormat, tmp_path: Path
) -> None:
    """Given a Unicode name, an empty member and a large one, then the format's
    library and bsdtar both read back the same names and the same bytes.
    """
    members = {
        UNICODE_NAME: '{"name": "Zoë"}\n'.encode(),
        "empty.csv": b"",
        "large.bin": os.urandom(300_000) + b"\x00" * 2_000_000,
    }
    path = tmp_path / f"a{fmt.suffix}"

    _write(fmt, members, path)

    assert read_with_library(path) == members
    assert read_with_bsdtar(path) == members
    assert sorted(list_with_bsdtar(path)) == sorted(members)
    assert read_archive(path) == members


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_every_member_carries_the_time_given_and_rw_r_r_permissions(
    fmt: ArchiveFormat, tmp_path: Path
) -> None:
    """Given a writer's mtime, then bsdtar lists every member, empty ones too,
    as a -rw-r--r-- file of that day and extracts it with that time, in every
    format alike.
    """
    stamp = datetime(2001, 2, 3, 4, 6, tzinfo=UTC)
    path = tmp_path / f"t{fmt.suffix}"
    writer = archive_writer(fmt, mtime=stamp)
    for name, data in {"a.json": b"{}", "empty.csv": b"", "b/c.txt": b"c"}.items():
        writer.add(name, io.BytesIO(data))
    writer.finish(path)

    lines = list_with_bsdtar(path, verbose=True)
    assert len(lines) == 3
    assert all(line.split()[0] == "-rw-r--r--" for line in lines)
    assert all(" Feb  3  2001 " in line for line in lines)
    modified = modified_with_bsdtar(path)
    assert modified == dict.fromkeys(["a.json", "empty.csv", "b/c.txt"], 981173160.0)


@pytest.mark.parametrize("password", [None, "pw"])
def test_py7zr_lists_the_7z_members_with_the_time_given_and_mode_644(
    tmp_path: Path, password: str | None
) -> None:
    """Given a 7z writer's mtime, with or without a password, then py7zr's own
    listing gives every member that time to the microsecond and mode 0644.
    """
    import py7zr

    stamp = datetime(2024, 6, 1, 12, 30, 5, 123456, tzinfo=UTC)
    path = tmp_path / "t.7z"
    writer = SevenZipWriter(mtime=stamp, password=password)
    writer.add("a.json", io.BytesIO(b"{}"))
    writer.add("empty.csv", io.BytesIO(b""))
    writer.finish(path)

    with py7zr.SevenZipFile(path, password=password) as archive:
        listed = archive.list()
        modes = [member.posix_mode for member in archive.files]
    assert [(info.filename, info.creationtime) for info in listed] == [
        ("a.json", stamp),
        ("empty.csv", stamp),
    ]
    assert modes == [0o644, 0o644]


def test_a_7z_member_time_before_1601_is_given_as_1601(tmp_path: Path) -> None:
    """Given an mtime before 7z time stamps start, then the members get the
    first moment they can hold instead of failing.
    """
    import py7zr

    path = tmp_path / "old.7z"
    writer = SevenZipWriter(mtime=datetime(1500, 1, 1, tzinfo=UTC))
    writer.add("a.json", io.BytesIO(b"{}"))
    writer.finish(path)

    with py7zr.SevenZipFile(path) as archive:
        (info,) = archive.list()
    assert info.creationtime == datetime(1601, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_an_empty_member_extracts_as_an_empty_file(
    fmt: ArchiveFormat, tmp_path: Path
) -> None:
    """Given an archive holding only an empty member, then bsdtar makes an empty
    file of it, not a folder and not a missing file.
    """
    path = tmp_path / f"e{fmt.suffix}"

    _write(fmt, {"nothing.txt": b""}, path)

    assert read_with_bsdtar(path) == {"nothing.txt": b""}


def test_the_rar_archive_is_rar5_with_stored_members(tmp_path: Path) -> None:
    """Given a RAR export, then it has the RAR 5 signature and rarfile sees stored
    members with the CRC32 it checks, readable without any unrar program.
    """
    import rarfile

    path = tmp_path / "a.rar"
    _write(ArchiveFormat.RAR, {"a.txt": b"hello " * 1000}, path)

    assert path.read_bytes().startswith(b"Rar!\x1a\x07\x01\x00")
    with rarfile.RarFile(path) as archive:
        (info,) = archive.infolist()
        assert info.compress_type == rarfile.RAR_M0
        assert info.mtime == NOW.replace(minute=30, second=0)
        archive.testrar()


def test_a_zip_flags_non_ascii_names_as_utf8(tmp_path: Path) -> None:
    """Given ASCII and non-ASCII names, then the non-ASCII one has the UTF-8 flag
    and every entry is deflated.
    """
    import zipfile

    path = tmp_path / "a.zip"
    _write(ArchiveFormat.ZIP, {"plain.txt": b"1", UNICODE_NAME: b"2"}, path)

    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert archive.getinfo(UNICODE_NAME).flag_bits & 0x800
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)


def test_a_7z_with_a_password_hides_names_and_content(tmp_path: Path) -> None:
    """Given a password, then the 7z needs it, its headers are encrypted, and
    the right password reads the members back.
    """
    import py7zr

    path = tmp_path / "a.7z"
    members = {UNICODE_NAME: b"secret data", "empty": b""}
    _write(ArchiveFormat.SEVEN_ZIP, members, path, password="correct horse")

    assert "Zoë".encode() not in path.read_bytes()
    with py7zr.SevenZipFile(path, password="correct horse") as archive:
        assert archive.needs_password()
        assert archive.header.main_streams is not None or archive.getnames()
    assert read_archive(path, password="correct horse") == members
    assert read_with_library(path, password="correct horse") == members


@pytest.mark.parametrize("password", [None, "nope-123", "correct hors"])
def test_a_missing_or_wrong_7z_password_is_a_trackconsent_error(
    tmp_path: Path, password: str | None
) -> None:
    """Given an encrypted 7z, when read without or with a wrong password, then
    WrongPasswordError, which never shows the password.
    """
    path = tmp_path / "a.7z"
    _write(ArchiveFormat.SEVEN_ZIP, {"a": b"x"}, path, password="correct horse")

    with pytest.raises(WrongPasswordError, match="password") as raised:
        read_archive(path, password=password)

    assert "correct" not in str(raised.value)
    assert password is None or password not in str(raised.value)


def test_a_damaged_archive_is_an_export_error(tmp_path: Path) -> None:
    """Given a ZIP cut in half, then reading it raises ExportError."""
    path = tmp_path / "a.zip"
    _write(ArchiveFormat.ZIP, {"a": os.urandom(5000)}, path)
    path.write_bytes(path.read_bytes()[:2600])

    with pytest.raises(ExportError):
        read_archive(path)


def test_an_unknown_file_is_an_export_error(tmp_path: Path) -> None:
    """Given a file that is no archive, then ExportError names it as such."""
    path = tmp_path / "a.txt"
    path.write_text("hello")

    with pytest.raises(ExportError, match="not a RAR, 7z or ZIP"):
        read_archive(path)


@pytest.mark.parametrize("fmt", ["rar", "zip"])
def test_a_password_is_refused_where_the_format_cannot_encrypt(fmt: str) -> None:
    """Given a password for RAR or ZIP, then InvalidValueError, password hidden."""
    with pytest.raises(InvalidValueError, match="only 7z") as raised:
        archive_writer(fmt, mtime=NOW, password="hunter2")

    assert "hunter2" not in str(raised.value)


def test_an_unknown_format_is_refused() -> None:
    """Given the format 'tar', then InvalidValueError naming the field."""
    with pytest.raises(InvalidValueError, match="format: not one of rar, 7z, zip"):
        archive_writer("tar", mtime=NOW)


def test_rar_compression_without_the_rar_program_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Given no rar program on PATH, when compression is asked, then
    ToolMissingError names the program.
    """
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ToolMissingError, match="rar: program not found on PATH"):
        archive_writer("rar", mtime=NOW, compress=True)


@pytest.mark.skipif(
    shutil.which("rar") is None,
    reason="RAR compression only through the external rar program: it is"
    " non-free, and no registry this project installs from provides it",
)
def test_rar_compression_through_the_rar_program_reads_back(tmp_path: Path) -> None:
    """Given the rar program, then a compressed RAR 5 reads back identical."""
    members = {UNICODE_NAME: b"abc" * 10000, "empty": b""}
    path = tmp_path / "c.rar"
    writer = RarWriter(mtime=NOW, compress=True)
    for name, data in members.items():
        writer.add(name, io.BytesIO(data))
    writer.finish(path)

    assert read_with_bsdtar(path) == members


def test_a_writer_finishes_once(tmp_path: Path) -> None:
    """Given a finished writer, then adding or finishing again is an ExportError."""
    writer = ZipWriter(mtime=NOW)
    writer.add("a", io.BytesIO(b"1"))
    writer.finish(tmp_path / "a.zip")

    with pytest.raises(ExportError, match="already finished"):
        writer.add("b", io.BytesIO(b"2"))
    with pytest.raises(ExportError, match="already finished"):
        writer.finish(tmp_path / "b.zip")


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_a_writer_writes_to_an_open_file_too(
    fmt: ArchiveFormat, tmp_path: Path
) -> None:
    """Given a writable file object as target, then the archive lands in it."""
    writer = archive_writer(fmt, mtime=NOW)
    writer.add("a.txt", io.BytesIO(b"abc"))
    with (tmp_path / f"f{fmt.suffix}").open("wb") as sink:
        writer.finish(sink)

    assert read_archive(tmp_path / f"f{fmt.suffix}") == {"a.txt": b"abc"}


def test_a_stream_that_cannot_seek_is_still_archived(tmp_path: Path) -> None:
    """Given a pipe-like stream, then its bytes are archived all the same."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"piped bytes")
    os.close(write_end)
    writer = RarWriter(mtime=NOW)
    with os.fdopen(read_end, "rb") as pipe:
        writer.add("p.txt", pipe)
    writer.finish(tmp_path / "p.rar")

    assert read_archive(tmp_path / "p.rar") == {"p.txt": b"piped bytes"}


def test_an_unwritable_target_is_an_export_error(tmp_path: Path) -> None:
    """Given a target in a missing folder, then ExportError, no file left."""
    writer = ZipWriter(mtime=NOW)
    writer.add("a", io.BytesIO(b"1"))

    with pytest.raises(ExportError, match="cannot be written"):
        writer.finish(tmp_path / "missing" / "a.zip")


def test_every_writer_is_an_archive_writer() -> None:
    """Given each writer, then it satisfies the ArchiveWriter protocol."""
    for writer in (
        ZipWriter(mtime=NOW),
        SevenZipWriter(mtime=NOW),
        RarWriter(mtime=NOW),
    ):
        assert isinstance(writer, ArchiveWriter)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fmt=st.sampled_from(FORMATS),
    # An export always holds files; bsdtar refuses a 7z with no member at all.
    members=st.lists(st.tuples(member_names, member_contents), min_size=1, max_size=5),
)
def test_any_members_come_back_identical_under_their_safe_names(
    fmt: ArchiveFormat, members: list[tuple[str, bytes]]
) -> None:
    """Given any names and bytes, then each member comes back under the name add()
    returned, bytes identical, from the library and from bsdtar.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"h{fmt.suffix}")
        writer = archive_writer(fmt, mtime=NOW)
        expected = {writer.add(name, io.BytesIO(data)): data for name, data in members}
        writer.finish(path)

        assert len(expected) == len(members)
        assert read_with_library(path) == expected
        assert read_with_bsdtar(path) == expected


@given(name=member_names)
def test_a_safe_name_is_relative_clean_and_keeps_letters(name: str) -> None:
    """Given any text, then its safe name is relative, has no '.'/'..' part, no
    control, line-break, invisible format or Windows-refused character (a
    zero-width joiner only between emoji), and keeps every letter and emoji.
    """
    safe = safe_member_name(name)

    assert safe
    assert not safe.startswith("/")
    assert "\\" not in safe
    parts = safe.split("/")
    assert all(part not in {"", ".", ".."} for part in parts)
    assert not any(_hidden(safe, n) or c in '<>:"|?*' for n, c in enumerate(safe))
    letters = [c for c in name if unicodedata.category(c).startswith(("L", "So"))]
    kept = iter(safe)
    assert all(letter in kept for letter in letters) or len(safe.encode()) >= 200


@given(name=member_names)
def test_a_safe_file_name_is_one_clean_part_keeping_letters(name: str) -> None:
    """Given any text, then its safe file name is one part: no slash or
    backslash, not '.' or '..', no hidden or Windows-refused character, and
    every letter and emoji kept in order.
    """
    flat = safe_file_name(name)

    assert flat not in {"", ".", ".."}
    assert not {"/", "\\"} & set(flat)
    assert not any(_hidden(flat, n) or c in '<>:"|?*' for n, c in enumerate(flat))
    letters = [c for c in name if unicodedata.category(c).startswith(("L", "So"))]
    kept = iter(flat)
    assert all(letter in kept for letter in letters) or len(flat.encode()) >= 200


@pytest.mark.parametrize(
    ("name", "flat"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("/abs/path", "abs_path"),
        ("a/b/c", "a_b_c"),
        ("C:\\Windows\\win.ini", "C__Windows_win.ini"),
        ("a/./b/../c", "a_b_c"),
        ("con/x", "con_x"),
        ("x/con", "x_con"),
        ("con", "_con"),
        ("/../", "unnamed"),
    ],
)
def test_a_safe_file_name_flattens_folders(name: str, flat: str) -> None:
    """Given a name with folders, absolute or parent parts, then its file name
    joins the parts kept with '_'.
    """
    assert safe_file_name(name) == flat


def _hidden(name: str, index: int) -> bool:
    """True for a character that hides or fakes what a name shows."""
    char = name[index]
    if char == "\u200d":
        # A joiner is kept only where it joins two emoji into one picture.
        after = name[index + 1 : index + 2]
        return not (index and after and unicodedata.category(after) == "So")
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("\u202eexe.txt.json", "_exe.txt.json"),
        ("a\u200eb\u200bc\u2066d\u2028e\ufeff.json", "a_b_c_d_e_.json"),
        ("tag\U000e0041.json", "tag_.json"),
        (UNICODE_NAME, UNICODE_NAME),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467.json", None),
        ("\U0001f3f3\ufe0f\u200d\U0001f308.json", None),
        ("\U0001f44b\U0001f3fd\u200d\U0001f4bb.json", None),
        ("zero\u200dwidth.json", "zero_width.json"),
        ("\u200d\U0001f468.json", "_\U0001f468.json"),
    ],
)
def test_invisible_and_bidi_characters_are_replaced_joined_emoji_are_kept(
    name: str, safe: str | None
) -> None:
    """Given a name with bidi overrides, marks, zero-width or tag characters,
    then each becomes '_'; letters, skin tones and emoji joined by a zero-width
    joiner come back unchanged (None: the name is kept as given).
    """
    assert safe_member_name(name) == (safe or name)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_no_listing_shows_a_bidi_override(fmt: ArchiveFormat, tmp_path: Path) -> None:
    """Given a member name with a right-to-left override, then neither the
    format's library nor bsdtar lists a name holding it.
    """
    path = tmp_path / f"b{fmt.suffix}"

    _write(fmt, {"\u202eexe.txt.json": b"{}", UNICODE_NAME: b"[]"}, path)

    expected = {"_exe.txt.json": b"{}", UNICODE_NAME: b"[]"}
    assert read_with_library(path) == expected
    assert sorted(list_with_bsdtar(path)) == sorted(expected)


def test_names_that_clash_get_distinct_members() -> None:
    """Given names equal once cleaned, cased or normalised, then each member gets
    its own name and the first keeps the name as asked.
    """
    writer = ZipWriter(mtime=NOW)
    nfc = unicodedata.normalize("NFC", "Zoë.json")
    nfd = unicodedata.normalize("NFD", "Zoë.json")

    used = [
        writer.add(name, io.BytesIO(b""))
        for name in ["../a.json", "a.json", "A.JSON", nfc, nfd, "/etc/passwd", "a\x00b"]
    ]

    renamed = unicodedata.normalize("NFD", "Zoë~2.json")
    assert used == ["a.json", "a~2.json", "A~3.JSON", nfc, renamed, "etc/passwd", "a_b"]
