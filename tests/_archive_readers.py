"""Reading archives back with independent readers, for the export tests."""

from __future__ import annotations

import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

import py7zr
import rarfile

from tests.services import executable


def read_with_library(path: Path, password: str | None = None) -> dict[str, bytes]:
    """Read every member with the format's own Python library."""
    magic = path.read_bytes()[:8]
    if magic.startswith(b"Rar!"):
        with rarfile.RarFile(path) as archive:
            return {i.filename: archive.read(i) for i in archive.infolist()}
    if magic.startswith(b"PK"):
        with zipfile.ZipFile(path) as archive:
            return {i.filename: archive.read(i) for i in archive.infolist()}
    with tempfile.TemporaryDirectory() as folder:
        with py7zr.SevenZipFile(path, password=password) as archive:
            archive.extractall(path=folder)
        return _files_under(Path(folder))


def read_with_bsdtar(path: Path) -> dict[str, bytes]:
    """Extract with bsdtar (libarchive) and read the files it made."""
    with tempfile.TemporaryDirectory() as folder:
        _extract_with_bsdtar(path, Path(folder))
        return _files_under(Path(folder))


def modified_with_bsdtar(path: Path) -> dict[str, float]:
    """Extract with bsdtar and return each file's modification time it set."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _extract_with_bsdtar(path, root)
        return {
            file.relative_to(root).as_posix(): file.stat().st_mtime
            for file in root.rglob("*")
            if file.is_file()
        }


def list_with_bsdtar(path: Path, *, verbose: bool = False) -> list[str]:
    """List member names with ``bsdtar -t``, or whole lines with ``-tv``."""
    bsdtar = executable("bsdtar")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    listed = subprocess.run(
        [bsdtar, "-tv" if verbose else "-t", "-f", str(path)],
        check=True,
        env=env,
        capture_output=True,
    )
    return listed.stdout.decode("utf-8").splitlines()


def _extract_with_bsdtar(path: Path, folder: Path) -> None:
    bsdtar = executable("bsdtar")
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [bsdtar, "-x", "-f", str(path), "-C", str(folder)], check=True, env=env
    )


def _files_under(root: Path) -> dict[str, bytes]:
    return {
        file.relative_to(root).as_posix(): file.read_bytes()
        for file in root.rglob("*")
        if file.is_file()
    }
