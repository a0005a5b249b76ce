"""Member names that are safe to extract, whatever text they were made from.

A name comes from data (a contact id, a provider's name) and ends up as a path
on somebody's disk, so it is cleaned part by part: no absolute paths, no ``.``
or ``..`` parts, no control characters, none of the characters Windows refuses,
no trailing dots or spaces, no reserved device names. Letters of every script
and emoji are kept as given. `MemberNames` also keeps two members from landing
on the same file, comparing names the way case-insensitive file systems do.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["MemberNames", "safe_member_name"]

_SEPARATORS: Final = re.compile(r"[/\\]+")
_WINDOWS_REFUSED: Final = frozenset('<>:"|?*')
_DEVICE_NAMES: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(10)]
    + [f"LPT{n}" for n in range(10)]
)
# File systems limit a name part to 255 bytes; leave room for a "~2" suffix.
_MAX_PART_BYTES: Final = 240
_FALLBACK: Final = "unnamed"


def safe_member_name(name: str) -> str:
    """Return ``name`` cleaned into a relative path that extracts where expected.

    Slashes and backslashes both separate folders; empty, ``.`` and ``..``
    parts are dropped. The result is never empty.
    """
    parts = [_safe_part(part) for part in _SEPARATORS.split(name)]
    kept = [part for part in parts if part]

    return "/".join(kept) or _FALLBACK


def _safe_part(part: str) -> str:
    if part in {".", ".."}:
        return ""
    cleaned = "".join(_safe_char(char) for char in part).strip(" .")
    stem = cleaned.split(".", 1)[0].upper()
    if stem in _DEVICE_NAMES:
        cleaned = "_" + cleaned

    return _shorten(cleaned)


def _safe_char(char: str) -> str:
    category = unicodedata.category(char)
    # Cc: control characters; Cs: lone surrogates, which UTF-8 cannot encode.
    if category in {"Cc", "Cs"} or char in _WINDOWS_REFUSED:
        return "_"
    return char


def _shorten(part: str) -> str:
    if len(part.encode("utf-8")) <= _MAX_PART_BYTES:
        return part
    stem, dot, suffix = part.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = part, ""
    room = _MAX_PART_BYTES - len(suffix.encode("utf-8")) - len(dot)
    kept = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")

    return kept + dot + suffix


class MemberNames:
    """Hands out safe member names, each distinct from those handed out before.

    Two names count as the same when they match after Unicode normalisation
    (NFC) and case folding, as on Windows and macOS file systems; the later one
    gets a ``~2``, ``~3`` ... before its extension. Names are otherwise kept
    exactly as given, in their original normalisation form.
    """

    def __init__(self) -> None:
        """Start with no name taken."""
        self._taken: set[str] = set()

    def claim(self, name: str) -> str:
        """Return the safe, unique member name to use for ``name``."""
        safe = safe_member_name(name)
        candidate = safe
        counter = 1
        while _key(candidate) in self._taken:
            counter += 1
            candidate = _numbered(safe, counter)
        self._taken.add(_key(candidate))

        return candidate


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _numbered(name: str, counter: int) -> str:
    folder, slash, leaf = name.rpartition("/")
    stem, dot, suffix = leaf.rpartition(".")
    if not dot or not stem:
        stem, dot, suffix = leaf, "", ""
    return f"{folder}{slash}{stem}~{counter}{dot}{suffix}"
