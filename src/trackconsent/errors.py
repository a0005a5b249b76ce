"""The exceptions trackconsent raises.

Every exception a host can receive from a public call derives from
`TrackConsentError`. Subclasses also derive from the builtin a caller would
naturally catch, so ``except ValueError`` keeps working around a validation
call::

    TrackConsentError
    ├── InvalidValueError (ValueError)        one field broke one rule
    │   └── InvalidValuesError                several at once, each with its path
    ├── FeatureDisabledError (ValueError)     an option that needs the feature on
    ├── ConflictError (ValueError)            same event id, different content
    ├── NotFoundError (LookupError)           no such contact, form, key ...
    ├── InvalidTokenError (ValueError)        a signed link that does not verify
    ├── StorageError (OSError)                the store failed; driver error chained
    │   └── SchemaVersionError                the file was written by a newer version
    ├── ExportError (OSError)                 an archive could not be written or read
    │   └── WrongPasswordError                missing or wrong archive password
    └── ToolMissingError (LookupError)        an optional executable is not on PATH

Messages always name the field, the rule that was broken and the offending
value, in the form ``field: rule: value``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "ConflictError",
    "ExportError",
    "FeatureDisabledError",
    "FieldError",
    "InvalidTokenError",
    "InvalidValueError",
    "InvalidValuesError",
    "NotFoundError",
    "SchemaVersionError",
    "StorageError",
    "ToolMissingError",
    "TrackConsentError",
    "WrongPasswordError",
]


class TrackConsentError(Exception):
    """The root of every exception trackconsent raises on purpose."""


@attrs.frozen
class FieldError:
    """One broken rule: where it happened, which rule, and what value broke it.

    Attributes:
        path: Where the value sits: a field name, ``row 14, dtTrackingConsent``
            for a file, or a JSON path such as ``$.events[2].occurredAt``.
        rule: The rule in a few words, such as ``not a date``.
        value: The offending value, as received.
    """

    path: str
    rule: str
    value: object

    def __str__(self) -> str:
        """Render as ``path: rule: 'value'``."""
        return f"{self.path}: {self.rule}: {self.value!r}"


class InvalidValueError(TrackConsentError, ValueError):
    """A value broke a rule. ``error`` says which field, which rule, which value."""

    def __init__(self, path: str, rule: str, value: object) -> None:
        """Build the error from its three parts."""
        self.error = FieldError(path, rule, value)
        super().__init__(str(self.error))

    @property
    def path(self) -> str:
        """Where the bad value was found."""
        return self.error.path

    @property
    def rule(self) -> str:
        """The rule that was broken."""
        return self.error.rule

    @property
    def value(self) -> object:
        """The offending value."""
        return self.error.value


class InvalidValuesError(InvalidValueError):
    """Several values broke rules; all of them are listed in ``errors``."""

    def __init__(self, errors: Sequence[FieldError], *, what: str = "input") -> None:
        """Collect every error; the message lists them one per line."""
        if not errors:
            raise ValueError("InvalidValuesError needs at least one FieldError")
        first = errors[0]
        self.errors: tuple[FieldError, ...] = tuple(errors)
        TrackConsentError.__init__(self)
        self.error = first
        self.args = (self._message(what),)

    def _message(self, what: str) -> str:
        count = len(self.errors)
        lines = [f"{count} invalid value{'s' if count > 1 else ''} in {what}:"]
        lines.extend(f"  {error}" for error in self.errors)
        return "\n".join(lines)


class FeatureDisabledError(TrackConsentError, ValueError):
    """An option that exists only with the tracking-consent feature switched on."""


class ConflictError(TrackConsentError, ValueError):
    """An event id already stored with different content."""


class NotFoundError(TrackConsentError, LookupError):
    """The thing asked for does not exist."""


class InvalidTokenError(TrackConsentError, ValueError):
    """A signed token or link failed to verify; the reason is deliberately vague."""


class StorageError(TrackConsentError, OSError):
    """The store could not complete an operation; the driver error is chained."""


class SchemaVersionError(StorageError):
    """The store's schema is newer than this version of trackconsent knows."""


class ExportError(TrackConsentError, OSError):
    """An archive could not be written or read back."""


class WrongPasswordError(ExportError):
    """An encrypted archive was opened with a missing or wrong password."""


class ToolMissingError(TrackConsentError, LookupError):
    """An optional external program is not installed."""
