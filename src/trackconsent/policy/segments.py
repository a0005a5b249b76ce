"""Segments on history records never select untracked contacts.

A host's segment builder evaluates criteria on sending and engagement history
("received message X", "opened", "clicked", "did not open") against its own
records. Those records may predate a refusal, and a negative criterion such as
"did not open" would match an untracked contact precisely because their opens
are no longer tied to them: an untracked contact is not an inactive one. So
the builder passes the contacts its criterion matched through
`select_by_history`, at evaluation time, with the consents in force then.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from trackconsent.policy._lookup import Consents, check_lookup_arguments, selector
from trackconsent.settings import ProjectSettings

__all__ = ["SegmentSelection", "select_by_history"]


@attrs.frozen(repr=False)
class SegmentSelection:
    """The contacts a history criterion may select.

    Attributes:
        contact_ids: The matched contacts that are tracked now, in match order.
        excluded: How many matched contacts were left out as untracked.
    """

    contact_ids: tuple[str, ...]
    excluded: int

    def __repr__(self) -> str:
        """Summarise by counts only."""
        return (
            f"<SegmentSelection of {len(self.contact_ids)}, {self.excluded} excluded>"
        )


def select_by_history(
    matches: Iterable[str], consents: Consents, settings: ProjectSettings
) -> SegmentSelection:
    """Keep the contacts a history criterion matched who are tracked now.

    Call it for every criterion on history records, positive or negative;
    criteria on profile fields need no filtering.

    Args:
        matches: The contact ids the host's criterion matched (repeats are
            kept once).
        consents: A mapping by contact id or a store, looked up once.
        settings: The project's settings; with the feature off every match is
            kept.

    Raises:
        InvalidValueError: ``matches`` is a string or not iterable,
            ``consents`` neither a mapping nor a store, ``settings`` not
            `ProjectSettings`, or a value of the mapping is not a `Consent`.
    """
    check_lookup_arguments(matches, consents, settings)
    ids = list(dict.fromkeys(matches))
    chosen = selector(ids, consents, settings)
    kept = tuple(cid for cid in ids if chosen.is_tracked(cid))

    return SegmentSelection(contact_ids=kept, excluded=len(ids) - len(kept))
