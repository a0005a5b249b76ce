"""Finding which of many contacts are tracked, in one batched look-up.

`filter_results` and `select_by_history` both ask the same question for up to
millions of contacts at once. Building a `Consent` per contact, or calling a
policy function per contact, would cost more than the look-up itself, so the
question is reduced to one set of ids and one membership test per contact:

- feature off: every contact is kept, nothing is looked up;
- opt-out regime: only refusals are untracked, so the set holds the refused
  contacts and a contact is kept when it is *not* in it;
- opt-in regime: only grants are tracked, so the set holds the granted
  contacts and a contact is kept when it *is* in it.

Either way the set holds the contacts in one state, which `is_tracked` decides
once per state rather than once per contact.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Mapping
from itertools import compress, repeat
from typing import Any, Protocol, runtime_checkable

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import Consent, ConsentState, _text
from trackconsent.policy.tracking import _check_settings, is_tracked
from trackconsent.settings import ProjectSettings

__all__ = [
    "ConsentNow",
    "Consents",
    "LookupFailed",
    "Selector",
    "StatusLookup",
    "check_lookup_arguments",
    "is_tracked_now",
    "selector",
]

# A mapping larger than this many times the ids asked is probed per id rather
# than walked whole: walking a project's every contact for a small sending
# would cost more than the probes.
_WALK_FACTOR = 2

_ABSENT: Any = object()


@attrs.frozen
class LookupFailed:
    """Stands in for a consent that could not be looked up.

    Pass it where a `Consent` is expected when the store failed; every policy
    then decides "untracked" (fail closed) and says so.

    Attributes:
        reason: Why the look-up failed, in a few words (no personal data).
    """

    reason: str = attrs.field(default="consent look-up failed", validator=_text)


ConsentNow = Consent | LookupFailed
"""A consent in force, or the failure to look it up."""


def is_tracked_now(consent: ConsentNow, settings: ProjectSettings) -> bool:
    """Return True when a contact with ``consent`` is tracked under ``settings``.

    Like `is_tracked`, and a failed look-up reads as untracked (fail closed).
    With the feature off the consent is never consulted, so a failure there
    changes nothing.
    """
    if not settings.feature_enabled:
        return True
    if isinstance(consent, LookupFailed):
        return False
    return is_tracked(consent.state, settings)


@runtime_checkable
class StatusLookup(Protocol):
    """Anything with a batched ``status_many``: every `ConsentStore` qualifies.

    A store may also offer ``ids_in_state(contact_ids, state) -> set[str]``,
    the ids among those asked whose consent in force is ``state``, in one
    batch; it is then used instead, since it returns only what decides.
    """

    def status_many(self, contact_ids: Collection[str]) -> Mapping[str, Consent]:
        """Return the consent of every id asked, in one batched look-up."""
        ...


Consents = Mapping[str, Consent] | StatusLookup
"""Where consents come from: a mapping by contact id, or a store."""


@attrs.frozen
class Selector:
    """Which contacts are tracked: those in ``ids``, or those not in it.

    Attributes:
        ids: The contacts in the one state that decides.
        keep_members: True when members of ``ids`` are the tracked ones.
    """

    ids: frozenset[str] | set[str]
    keep_members: bool

    def is_tracked(self, contact_id: str) -> bool:
        """Return True when ``contact_id`` is tracked."""
        return (contact_id in self.ids) is self.keep_members


_KEEP_EVERYONE = Selector(frozenset(), keep_members=False)


def check_lookup_arguments(
    contact_ids: object, consents: object, settings: object
) -> None:
    """Refuse, once on entry, arguments a batched look-up cannot use.

    Only the containers are checked: the values of a mapping of consents are
    checked where they are read (see `selector`).

    Raises:
        InvalidValueError: ``contact_ids`` is a string or not iterable,
            ``consents`` is neither a mapping nor has ``status_many``, or
            ``settings`` is not `ProjectSettings`.
    """
    if isinstance(contact_ids, str | bytes) or not isinstance(contact_ids, Iterable):
        raise InvalidValueError(
            "contact_ids", "not an iterable of contact ids", contact_ids
        )
    if not isinstance(consents, Mapping | StatusLookup):
        raise InvalidValueError(
            "consents", "not a mapping of consents or a store", consents
        )
    _check_settings(settings)


def selector(
    contact_ids: Collection[str], consents: Consents, settings: ProjectSettings
) -> Selector:
    """Look up ``contact_ids`` once and say which of them are tracked.

    Args:
        contact_ids: The contacts asked about.
        consents: A mapping by contact id, or a store (asked once, batched).
            A contact absent from a mapping reads as never asked, as a contact
            with no event does in a store.
        settings: The project's settings.

    Raises:
        InvalidValueError: a value of a mapping of consents is not a
            `Consent`; the error names the contact.
    """
    if not settings.feature_enabled:
        return _KEEP_EVERYONE
    # The one state whose members decide: refusals under opt-out (everyone
    # else is tracked), grants under opt-in (no one else is).
    keep_members = not is_tracked(ConsentState.UNKNOWN, settings)
    state = ConsentState.GRANTED if keep_members else ConsentState.REFUSED
    if not isinstance(consents, StatusLookup):
        return Selector(_ids_in_state(contact_ids, consents, state), keep_members)
    query = getattr(consents, "ids_in_state", None)
    if callable(query):
        # The store fetches only the ids in the deciding state: the least a
        # batched look-up can return.
        return Selector(set(query(contact_ids, state)), keep_members)
    found = consents.status_many(contact_ids)

    return Selector(_ids_in_state(contact_ids, found, state), keep_members)


def _ids_in_state(
    contact_ids: Collection[str],
    consents: Mapping[str, Consent],
    state: ConsentState,
) -> set[str]:
    states = getattr(consents, "state", None)
    if callable(states):
        # A store's StatusMap answers without building a Consent per contact.
        found = map(operator.is_, map(states, contact_ids), repeat(state))
        return set(compress(contact_ids, found))
    try:
        return _members_in_state(contact_ids, consents, state)
    except AttributeError:
        # Checking every value up front would slow the common case; a value
        # without ``state`` is found here, after the fact, and named.
        values: Mapping[str, object] = consents
        for contact_id, consent in values.items():
            if not isinstance(consent, Consent):
                path = f"consents[{contact_id!r}]"
                raise InvalidValueError(path, "not a Consent", consent) from None
        raise


def _members_in_state(
    contact_ids: Collection[str],
    consents: Mapping[str, Consent],
    state: ConsentState,
) -> set[str]:
    if len(consents) <= _WALK_FACTOR * len(contact_ids):
        return {cid for cid, consent in consents.items() if consent.state is state}
    get = consents.get
    # A sentinel, not None: a None value is a wrong value, named as such.
    return {
        cid
        for cid in contact_ids
        if (consent := get(cid, _ABSENT)) is not _ABSENT and consent.state is state
    }
