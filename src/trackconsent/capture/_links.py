r"""Judging a configured link the way a browser will read it.

A link from a configuration ends up in an ``href`` or a script's settings.
Browsers forgive a lot before they look at a scheme: they decode character
references in attributes, drop ASCII tabs and newlines anywhere in a URL, strip
controls and spaces at both ends, and compare schemes without regard to case.
So ``java&#x09;script:`` or `` JaVaScRiPt:`` still run script. The link is
normalised the same way first, and only then is its scheme judged.

A link without a scheme is relative only if it does not start with two
slashes: ``//evil.example/`` (and ``\\evil.example``, since browsers read a
backslash as a slash) names another host with the page's scheme.
"""

from __future__ import annotations

import html
import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from trackconsent.errors import InvalidValueError

__all__ = ["check_link", "normalise_link", "with_parameter"]

_MAX_LINK: Final = 2048
_SAFE_SCHEMES: Final = frozenset({"http", "https"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_QUOTES_AND_BRACKETS: Final = frozenset("\"'`<>\\")
_TAB_AND_NEWLINES: Final = {0x09: None, 0x0A: None, 0x0D: None}
_C0_AND_SPACE: Final = "".join(chr(code) for code in range(0x21))
_SLASHES: Final = "/\\"


def normalise_link(value: str) -> str:
    """Return ``value`` as a browser's URL parser would receive it.

    Character references are decoded until none are left (a reference may
    hide another), ASCII tabs and newlines are removed, and C0 controls and
    spaces are stripped from both ends.
    """
    previous = None
    while previous != value:
        previous, value = value, html.unescape(value)
    value = value.translate(_TAB_AND_NEWLINES)

    return value.strip(_C0_AND_SPACE)


def _forbidden(value: str) -> str | None:
    for char in value:
        if char in _QUOTES_AND_BRACKETS or char.isspace() or not char.isprintable():
            return char
    return None


def check_link(field: str, value: object) -> str:
    """Return ``value`` if it is an http, https or relative link, else raise.

    Quotes, angle brackets, backslashes, whitespace and control characters are
    refused outright, in the link as given and once decoded; then the scheme
    of the normalised link must be http or https, or absent; a link without
    a scheme must not start with two slashes (a link to another host).

    Args:
        field: The field name used in the error message.
        value: The configured link.

    Raises:
        InvalidValueError: naming the field, the rule and the value.
    """
    if not isinstance(value, str) or not value:
        raise InvalidValueError(field, "must be a non-empty string", value)
    if len(value) > _MAX_LINK:
        raise InvalidValueError(field, f"longer than {_MAX_LINK} characters", value)
    url = normalise_link(value)
    bad = _forbidden(value) or _forbidden(url)
    if bad is not None:
        raise InvalidValueError(field, f"forbidden character {bad!r} in link", value)
    scheme = _SCHEME.match(url)
    if scheme is None:
        if len(url) > 1 and url[0] in _SLASHES and url[1] in _SLASHES:
            rule = "link to another host without a scheme"
            raise InvalidValueError(field, rule, value)
        return value
    if scheme.group()[:-1].lower() not in _SAFE_SCHEMES:
        raise InvalidValueError(field, "scheme is not http or https", value)
    try:
        host = urlsplit(url).hostname
    except ValueError:
        raise InvalidValueError(field, "not a valid link", value) from None
    if not host:
        raise InvalidValueError(field, "absolute link without a host", value)

    return value


def with_parameter(field: str, link: str, name: str, value: str) -> str:
    """Return ``link`` with the query parameter ``name=value`` added.

    The parameter goes into the query, before any fragment. A link that
    already carries ``name`` is refused: a server reading the first of two
    values would read the one the link was configured with.

    Args:
        field: The field name of ``link``, used in the error message.
        link: A link that passed `check_link`.
        name: The parameter's name.
        value: The parameter's value.

    Raises:
        InvalidValueError: ``link`` already carries the parameter.
    """
    parts = urlsplit(link)
    names = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if name in names:
        raise InvalidValueError(field, f"already carries the {name!r} parameter", link)
    added = urlencode({name: value})
    query = f"{parts.query}&{added}" if parts.query else added

    return urlunsplit(parts._replace(query=query))
