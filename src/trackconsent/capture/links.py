"""The signed tracking opt-out link a message carries.

A link names a contact and a message without showing either: its token is the
(project, contact, message, expiry) quadruple sealed with Fernet from the
``cryptography`` package, which encrypts (AES-128-CBC) and authenticates
(HMAC-SHA256, checked in constant time) in one well-reviewed recipe. Signing
alone would not do: a signed token carries its payload in readable base64.

- Nothing readable: the payload is encrypted and padded to a multiple of 64
  bytes, so even the length of the ids barely shows. Fernet's own timestamp
  field is written as zero, so a token does not tell when it was made either.
- Unforgeable: without a key no token verifies, and every token is unique
  (a random IV), even five made in the same millisecond for one contact.
- Lasts as long as the message: a token expires only at the ``expires_at``
  the host gives (the end of the message's life), or never; there is no short
  maximum age.
- Key rotation: `LinkKeys` holds secrets newest first; the newest seals, every
  one opens. Drop a secret to revoke every link it sealed.
- One failure: a tampered, truncated, empty, doubled or expired token, or one
  for another project, raises the same `InvalidTokenError` with the same
  message, which never repeats the token (a link is a bearer credential).
  Arguments of the wrong type (keys, project id, moment) raise
  `InvalidValueError` naming the argument, before any token is opened.

The message link library offers the link only when the project has the
feature on and a tracking opt-out form exists (`opt_out_link`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Final

import attrs
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trackconsent.capture._checks import optional_aware, text
from trackconsent.capture._links import check_link, with_parameter
from trackconsent.capture.forms import Form, FormKind
from trackconsent.errors import InvalidTokenError, InvalidValueError, NotFoundError
from trackconsent.model import require_aware
from trackconsent.settings import ProjectSettings

__all__ = [
    "TOKEN_PARAMETER",
    "LinkKeys",
    "LinkTarget",
    "is_opt_out_link_offered",
    "opt_out_link",
    "sign_link",
    "verify_link",
]

TOKEN_PARAMETER: Final = "token"  # noqa: S105  # a parameter name, not a secret
"""The query parameter that carries the token in an opt-out link."""

_MIN_SECRET = 32
_BLOCK = 64
_PAYLOAD_VERSION = 1
_KDF_INFO = b"trackconsent tracking opt-out link v1"
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_REFUSAL = "token: not a valid tracking opt-out link"


def _secrets(value: object) -> tuple[bytes, ...]:
    # A converter, not a validator: the key ring is derived before validators run.
    # The secrets themselves never appear in a message; their positions do.
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValueError("secrets", "a sequence of secrets, newest first", "…")
    secrets = tuple(item.encode() if isinstance(item, str) else item for item in value)
    if not secrets:
        raise InvalidValueError("secrets", "at least one secret", "()")
    for position, secret in enumerate(secrets):
        if not isinstance(secret, bytes) or len(secret) < _MIN_SECRET:
            raise InvalidValueError(
                f"secrets[{position}]", f"at least {_MIN_SECRET} bytes", "…"
            )

    return secrets


def _derive(secret: bytes) -> Fernet:
    # Fernet wants 32 random bytes; HKDF turns any long secret into them.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO)
    return Fernet(base64.urlsafe_b64encode(key.derive(secret)))


def _ring(keys: LinkKeys) -> MultiFernet:
    return MultiFernet([_derive(secret) for secret in keys.secrets])


@attrs.frozen
class LinkKeys:
    """The secrets that seal and open links, newest first.

    The first secret seals new links; every secret opens links. To rotate,
    put a new secret first and keep the old ones until the messages whose
    links they sealed have expired. Each secret is at least 32 bytes; a
    ``str`` is taken as its UTF-8 bytes.
    """

    secrets: tuple[bytes, ...] = attrs.field(converter=_secrets, repr=False)
    _fernet: MultiFernet = attrs.field(
        init=False, repr=False, eq=False, default=attrs.Factory(_ring, takes_self=True)
    )


@attrs.frozen
class LinkTarget:
    """Whom and what a link is for.

    Attributes:
        project_id: The project the message belongs to.
        contact_id: The contact the message was sent to.
        message_id: The message carrying the link.
        expires_at: When the link stops working (the end of the message's
            life), or None for never.
    """

    project_id: str = attrs.field(validator=text)
    contact_id: str = attrs.field(validator=text)
    message_id: str = attrs.field(validator=text)
    expires_at: datetime | None = attrs.field(default=None, validator=optional_aware)


def _payload(target: LinkTarget) -> bytes:
    expires = target.expires_at.isoformat() if target.expires_at else None
    fields = [
        _PAYLOAD_VERSION,
        target.project_id,
        target.contact_id,
        target.message_id,
        expires,
    ]
    raw = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    # Trailing spaces are valid JSON: they round the length up so it hides the ids'.
    return raw + b" " * (-len(raw) % _BLOCK)


def _require(field: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise InvalidValueError(field, f"not a {kind.__name__}", value)


def _require_forms(forms: object) -> tuple[Form, ...]:
    if isinstance(forms, str | bytes) or not isinstance(forms, Iterable):
        raise InvalidValueError("forms", "not a collection of Form", forms)
    found = tuple(forms)
    for position, form in enumerate(found):
        _require(f"forms[{position}]", form, Form)

    return found


def sign_link(keys: LinkKeys, target: LinkTarget) -> str:
    """Return a URL-safe token for ``target``, sealed with the newest key.

    Raises:
        InvalidValueError: ``keys`` is not `LinkKeys` or ``target`` not a
            `LinkTarget`.
    """
    _require("keys", keys, LinkKeys)
    _require("target", target, LinkTarget)
    sealed = keys._fernet.encrypt_at_time(_payload(target), current_time=0)

    return sealed.decode("ascii").rstrip("=")


def _open(keys: LinkKeys, token: object) -> bytes:
    if not isinstance(token, str) or not _TOKEN_ALPHABET.fullmatch(token):
        raise InvalidTokenError(_REFUSAL)
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        raise InvalidTokenError(_REFUSAL) from None
    # Base64 ignores the spare bits of the last character; insist on the one
    # canonical spelling so that no changed character still verifies.
    if base64.urlsafe_b64encode(raw).decode("ascii") != padded:
        raise InvalidTokenError(_REFUSAL)
    try:
        return keys._fernet.decrypt(padded.encode("ascii"), ttl=None)
    except InvalidToken:
        raise InvalidTokenError(_REFUSAL) from None


def _target(payload: bytes) -> LinkTarget:
    try:
        version, project_id, contact_id, message_id, expires = json.loads(payload)
        if version != _PAYLOAD_VERSION:
            raise InvalidTokenError(_REFUSAL)
        expires_at = datetime.fromisoformat(expires) if expires is not None else None
        return LinkTarget(project_id, contact_id, message_id, expires_at)
    except (ValueError, TypeError):
        # Only a token sealed by a key shared with other software gets here.
        raise InvalidTokenError(_REFUSAL) from None


def verify_link(
    keys: LinkKeys, token: object, *, project_id: str, now: datetime
) -> LinkTarget:
    """Open a token and return its target, if it is genuine and current.

    Args:
        keys: The project's link keys; any of them may have sealed the token.
        token: The token from the link, as received.
        project_id: The project whose endpoint received the link.
        now: The moment of the click (aware), checked against the expiry.

    Raises:
        InvalidTokenError: the token is not genuine, was made for another
            project, or has expired. Every cause raises the same error.
        InvalidValueError: ``keys``, ``project_id`` or ``now`` is of the wrong
            type (a host's mistake, not a visitor's).
    """
    _require("keys", keys, LinkKeys)
    _require("project_id", project_id, str)
    require_aware("now", now)
    target = _target(_open(keys, token))
    is_same_project = hmac.compare_digest(
        target.project_id.encode(), project_id.encode()
    )
    if not is_same_project:
        raise InvalidTokenError(_REFUSAL)
    if target.expires_at is not None and now >= target.expires_at:
        raise InvalidTokenError(_REFUSAL)

    return target


def is_opt_out_link_offered(settings: ProjectSettings, forms: Iterable[Form]) -> bool:
    """Whether the message link library offers the tracking opt-out link.

    It does once the project has the feature on and a tracking opt-out form.

    Raises:
        InvalidValueError: ``settings`` or ``forms`` is of the wrong type.
    """
    _require("settings", settings, ProjectSettings)
    forms = _require_forms(forms)
    has_form = any(form.kind is FormKind.TRACKING_OPT_OUT for form in forms)
    return settings.feature_enabled and has_form


def opt_out_link(
    settings: ProjectSettings,
    forms: Iterable[Form],
    keys: LinkKeys,
    *,
    base_url: str,
    contact_id: str,
    message_id: str,
    expires_at: datetime | None = None,
) -> str:
    """Return the tracking opt-out link for one contact and one message.

    Args:
        settings: The project's settings; the feature must be on.
        forms: The project's forms; one must be a tracking opt-out form.
        keys: The project's link keys; the newest seals the link.
        base_url: The page of the opt-out form (http, https or relative,
            not starting with ``//``), without a ``token`` parameter.
        contact_id: The contact the message goes to.
        message_id: The message that carries the link.
        expires_at: The end of the message's life, or None for never.

    Returns:
        ``base_url`` with the token added as the ``token`` query parameter,
        before any fragment.

    Raises:
        FeatureDisabledError: the project does not have the feature on.
        NotFoundError: the project has no tracking opt-out form.
        InvalidValueError: an argument of the wrong type, an unsafe URL or one
            that already carries a ``token`` parameter, or an invalid id or
            expiry.
    """
    _require("settings", settings, ProjectSettings)
    forms = _require_forms(forms)
    _require("keys", keys, LinkKeys)
    settings.require_feature("tracking opt-out link")
    if not any(form.kind is FormKind.TRACKING_OPT_OUT for form in forms):
        raise NotFoundError(
            "forms: a tracking opt-out link needs a tracking opt-out form: "
            f"{settings.project_id!r} has none"
        )
    base = check_link("base_url", base_url)
    target = LinkTarget(settings.project_id, contact_id, message_id, expires_at)
    token = sign_link(keys, target)

    return with_parameter("base_url", base, TOKEN_PARAMETER, token)
