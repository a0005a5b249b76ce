"""Member names that are safe to extract, whatever text they were made from.

A name comes from data (a contact id, a provider's name) and ends up as a path
on somebody's disk and in somebody's file listing, so it is cleaned part by
part: no absolute paths, no ``.`` or ``..`` parts, no control characters, no
invisible format characters (bidi overrides, zero-width spaces) that make a
name display other than it is, none of the characters Windows refuses, no
trailing dots or spaces, no reserved device names. Letters of every script and
emoji are kept as given. `safe_file_name` makes one flat file name, with no
folder at all. `MemberNames` also keeps two members from landing on the same
file, comparing names the way case-insensitive file systems do.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["MemberNames", "safe_file_name", "safe_member_name", "visible_text"]

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
# Cc: control characters (CR, ESC ...); Cf: invisible format characters (bidi
# overrides and marks, zero-width spaces, tags) that make text display other
# than it is; Zl, Zp: line breaks; Cs: lone surrogates, which UTF-8 cannot encode.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINER: Final = "\u200d"
_EMOJI_STYLE: Final = "\ufe0f"
_PICTOGRAPHS: Final = frozenset({"So", "Sk"})


def visible_text(text: str, replacement: str = "_") -> str:
    """Return ``text`` with what would hide or fake what it shows replaced.

    Control characters, line breaks, lone surrogates and invisible format
    characters (category Cf) each become ``replacement``.

    A zero-width joiner inside an emoji sequence (after an emoji, a skin tone
    or the emoji style selector, before another emoji) is kept, so joined
    emoji such as a family stay one picture; anywhere else it is replaced.
    """
    chars = list(text)
    for index, char in enumerate(text):
        hidden = unicodedata.category(char) in _HIDDEN_CATEGORIES
        if hidden and not _joins_emoji(text, index):
            chars[index] = replacement

    return "".join(chars)


def _joins_emoji(text: str, index: int) -> bool:
    if text[index] != _JOINER or not 0 < index < len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    pictograph_before = (
        before == _EMOJI_STYLE or unicodedata.category(before) in _PICTOGRAPHS
    )
    return pictograph_before and unicodedata.category(after) == "So"


def safe_member_name(name: str) -> str:
    """Return ``name`` cleaned into a relative path that extracts where expected.

    Slashes and backslashes both separate folders; empty, ``.`` and ``..``
    parts are dropped. Control and invisible format characters become ``_``
    (see `visible_text`). The result is never empty.
    """
    parts = [_safe_part(part) for part in _SEPARATORS.split(name)]
    kept = [part for part in parts if part]

    return "/".join(kept) or _FALLBACK


def safe_file_name(name: str) -> str:
    """Return ``name`` cleaned into one file name, with no folder.

    The parts `safe_member_name` would make folders of are joined with ``_``
    instead (``../../etc/passwd`` gives ``etc_passwd``), then cleaned as one
    part. The result is never empty and holds no slash.
    """
    parts = [part for part in _SEPARATORS.split(name) if part not in {".", ".."}]

    return _safe_part("_".join(part for part in parts if part)) or _FALLBACK


def _safe_part(part: str) -> str:
    if part in {".", ".."}:
        return ""
    visible = visible_text(part)
    cleaned = "".join(_safe_char(char) for char in visible).strip(" .")
    stem = cleaned.split(".", 1)[0].upper()
    if stem in _DEVICE_NAMES:
        cleaned = "_" + cleaned

    return _shorten(cleaned)


def _safe_char(char: str) -> str:
    return "_" if char in _WINDOWS_REFUSED else char


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
