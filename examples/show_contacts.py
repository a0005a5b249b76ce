"""Print a few contacts' consent status and history from a SQLite store.

Usage: ``python examples/show_contacts.py consent.db [COUNT]``.
"""

from __future__ import annotations

import sys

from trackconsent import SQLiteStore


def show(path: str, count: int) -> None:
    """Print the status and the history of the first ``count`` contacts."""
    with SQLiteStore(path) as store:
        # Contacts with a history of several events first: more to see.
        ids = list(store.contact_ids())
        ids.sort(key=lambda contact_id: -len(store.history(contact_id)))
        report = store.verify()
        print(f"{len(ids)} contacts in {path}; histories intact: {report.ok}")
        for contact_id in ids[:count]:
            consent = store.status(contact_id)
            flag = consent.has_tracking_consent
            at = consent.at.isoformat() if consent.at else ""
            print(f"\n{contact_id}: hasTrackingConsent={flag} dtTrackingConsent={at}")
            for event in store.history(contact_id):
                print(
                    f"  {event.occurred_at.isoformat()}  {event.answer.value:8}"
                    f"  {event.source.value}  recorded {event.recorded_at:%Y-%m-%d}"
                    f" by {event.actor}"
                )


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    show(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 4)
