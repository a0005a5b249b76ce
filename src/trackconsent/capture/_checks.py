"""Validators shared by the capture value classes.

Each raises `trackconsent.errors.InvalidValueError` naming the attribute, the
rule and the value, like the validators of the consent record.
"""

from __future__ import annotations

from typing import Any, Final

from trackconsent.model import _enum_member, _optional_aware, _optional_text, _text

__all__ = ["enum_member", "optional_aware", "optional_text", "text"]

# The consent record's own validators: capture values end up in events, so
# they are judged, and their errors worded, exactly as the record's.
text: Final[Any] = _text
optional_text: Final[Any] = _optional_text
optional_aware: Final[Any] = _optional_aware
enum_member: Final[Any] = _enum_member
