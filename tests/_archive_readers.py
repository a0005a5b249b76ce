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
    bsdtar = executable("bsdtar")
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [bsdtar, "-x", "-f", str(path), "-C", folder], check=True, env=env
        )
        return _files_under(Path(folder))


def list_with_bsdtar(path: Path) -> list[str]:
    """List member names with ``bsdtar -t``."""
    bsdtar = executable("bsdtar")
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    listed = subprocess.run(
        [bsdtar, "-t", "-f", str(path)], check=True, env=env, capture_output=True
    )
    return listed.stdout.decode("utf-8").splitlines()


def _files_under(root: Path) -> dict[str, bytes]:
    return {
        file.relative_to(root).as_posix(): file.read_bytes()
        for file in root.rglob("*")
        if file.is_file()
    }
