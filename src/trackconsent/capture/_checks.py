"""Validators shared by the capture value classes.

Each raises `trackconsent.errors.InvalidValueError` naming the attribute, the
rule and the value, like the validators of the consent record.
"""

from __future__ import annotations

import enum
from typing import Any, Final

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import ConsentEvent, Evidence, _article, require_aware

__all__ = ["enum_member", "optional_aware", "optional_text", "text"]

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
