"""Validators shared by the capture value classes.

Each raises `trackconsent.errors.InvalidValueError` naming the attribute, the
rule and the value, like the validators of the consent record.
"""

from __future__ import annotations

import enum
from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import ConsentEvent, Evidence, _article, require_aware

__all__ = ["enum_member", "optional_aware", "optional_text", "text", "url"]

_SAFE_SCHEMES = frozenset({"http", "https", ""})


# The consent record's own rules for texts: a non-blank string of at most 1024
# characters. Capture values end up in events, so they follow the same rule.
text: Final[Any] = attrs.fields(ConsentEvent).contact_id.validator
optional_text: Final[Any] = attrs.fields(Evidence).form_id.validator


def optional_aware(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    """A validator: None, or a time zone aware datetime."""
    if value is not None:
        require_aware(attribute.name, value)


def enum_member(kind: type[enum.Enum]) -> Any:
    """A validator: a member of ``kind``, not its value.

    attrs checks the type; the check here only says it in the house's words.
    """
    is_member = attrs.validators.instance_of(kind)

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        try:
            is_member(instance, attribute, value)
        except TypeError:
            rule = f"not {_article(kind.__name__)} member"
            raise InvalidValueError(attribute.name, rule, value) from None

    return check


def url(field: str, value: object) -> str:
    """Return ``value`` if it is an http(s) or relative URL, else raise.

    Escaping keeps markup out of an attribute but not a ``javascript:`` URL, so
    every URL that ends up in an ``href`` or ``action`` is checked here.

    Raises:
        InvalidValueError: not a string, or a scheme other than http(s).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, "not a URL", value)
    # Browsers drop control characters anywhere in a URL, so "java\tscript:"
    # would run as script: refuse them rather than guess what a browser sees.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise InvalidValueError(field, "control character in URL", value)
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        raise InvalidValueError(field, "not a URL", value) from None
    if scheme not in _SAFE_SCHEMES:
        raise InvalidValueError(field, "only http, https or relative URLs", value)

    return value
