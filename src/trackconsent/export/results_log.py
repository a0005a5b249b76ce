"""The results log export: a `ResultsView` written as CSV or JSON.

Only what the view holds is written: the tracked recipients' rows and the
counts. Untracked recipients appear as one line (CSV) or one entry (JSON)
labelled "Untracked contacts", with their number and nothing else. With the
feature off nobody is untracked: the CSV has no such line and the JSON's
``untracked`` is null.

The CSV's first column, ``entry``, says what a line is: ``contact`` for a
listed recipient, whose id is in ``contactId``, or "Untracked contacts" for
the summary line, whose ``contactId`` and outcome cells are empty. A contact
id never sits in ``entry``, so no id can pass for the summary line. Every line
has as many cells as the header, as in this SMS sending::

    entry,recipients,contactId,sent,delivered,bounced,clicked,unsubscribed
    contact,1,c-1,1,1,0,1,0
    Untracked contacts,4,,,,,,

With ``consents`` given, each row also carries the two consent columns,
``hasTrackingConsent`` (``true``, ``false``, or empty when never asked) and
``dtTrackingConsent`` (ISO 8601 with its offset), looked up in one batch for
the listed recipients only.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from typing import Any, TextIO

from trackconsent.model import FIELD_DATE, FIELD_FLAG, Consent
from trackconsent.policy.results import (
    OUTCOMES_BY_CHANNEL,
    UNTRACKED_LABEL,
    Consents,
    Outcome,
    ResultsView,
)

__all__ = [
    "CONTACT_COLUMN",
    "CONTACT_ENTRY",
    "ENTRY_COLUMN",
    "RECIPIENTS_COLUMN",
    "results_document",
    "write_results_csv",
    "write_results_json",
]

log = logging.getLogger(__name__)

ENTRY_COLUMN = "entry"
"""The CSV's first column: `CONTACT_ENTRY`, or "Untracked contacts"."""

CONTACT_ENTRY = "contact"
"""The ``entry`` of a CSV line listing one recipient."""

CONTACT_COLUMN = "contactId"
"""The CSV column naming the recipient; empty on the "Untracked contacts" line."""

RECIPIENTS_COLUMN = "recipients"
"""The CSV column counting the recipients a line stands for."""

_FLAG_TEXT = {True: "true", False: "false", None: ""}


def _lookup(view: ResultsView, consents: Consents | None) -> Mapping[str, Consent]:
    if consents is None:
        return {}
    if isinstance(consents, Mapping):
        return consents
    # A store: one batched look-up of the listed recipients only.
    return consents.status_many([row.contact_id for row in view.rows])


def _consent(found: Mapping[str, Consent], contact_id: str) -> Consent:
    consent = found.get(contact_id)
    return Consent.unknown() if consent is None else consent


def write_results_csv(
    view: ResultsView, out: TextIO, *, consents: Consents | None = None
) -> None:
    """Write the view as CSV: a header, one line per listed recipient, then
    the "Untracked contacts" line when the feature is on.

    Args:
        view: The filtered results.
        out: A text stream opened with ``newline=""``.
        consents: When given, add the ``hasTrackingConsent`` and
            ``dtTrackingConsent`` columns from these consents.
    """
    outcomes = OUTCOMES_BY_CHANNEL[view.channel]
    header = [ENTRY_COLUMN, RECIPIENTS_COLUMN, CONTACT_COLUMN]
    header += [outcome.value for outcome in outcomes]
    if consents is not None:
        header += [FIELD_FLAG, FIELD_DATE]
    found = _lookup(view, consents)
    writer = csv.writer(out)
    writer.writerow(header)
    for row in view.rows:
        line: list[object] = [CONTACT_ENTRY, 1, row.contact_id]
        line += [int(outcome in row.outcomes) for outcome in outcomes]
        if consents is not None:
            line += _consent_cells(_consent(found, row.contact_id))
        writer.writerow(line)
    if view.feature_enabled:
        summary: list[object] = [UNTRACKED_LABEL, view.untracked]
        writer.writerow(summary + [""] * (len(header) - len(summary)))
    log.debug("results log written as CSV: %d rows listed", view.tracked)


def _consent_cells(consent: Consent) -> list[str]:
    at = consent.dt_tracking_consent
    return [
        _FLAG_TEXT[consent.has_tracking_consent],
        "" if at is None else at.isoformat(),
    ]


def results_document(
    view: ResultsView, *, consents: Consents | None = None
) -> dict[str, Any]:
    """Return the view as a JSON-ready document.

    Its ``untracked`` entry is ``{"label": "Untracked contacts", "count": n}``
    with the feature on, and null with it off, as the CSV has its line only
    with the feature on.

    Args:
        view: The filtered results.
        consents: When given, each row carries the two consent fields.
    """
    found = _lookup(view, consents)
    rows = []
    for row in view.rows:
        entry: dict[str, Any] = {
            CONTACT_COLUMN: row.contact_id,
            "outcomes": [
                o.value for o in OUTCOMES_BY_CHANNEL[view.channel] if o in row.outcomes
            ],
        }
        if consents is not None:
            consent = _consent(found, row.contact_id)
            entry[FIELD_FLAG] = consent.has_tracking_consent
            at = consent.dt_tracking_consent
            entry[FIELD_DATE] = None if at is None else at.isoformat()
        rows.append(entry)

    return {
        "messageId": view.message_id,
        "channel": view.channel.value,
        "recipients": view.recipients,
        "trackingCoverage": view.coverage,
        "totals": {o.value: n for o, n in view.totals.items()},
        "untracked": _untracked_entry(view),
        "rates": {o.value: _rate(view, o) for o in view.totals},
        "rows": rows,
    }


def _untracked_entry(view: ResultsView) -> dict[str, object] | None:
    # With the feature off nobody is untracked; the CSV has no line for it either.
    if not view.feature_enabled:
        return None
    return {"label": UNTRACKED_LABEL, "count": view.untracked}


def _rate(view: ResultsView, outcome: Outcome) -> dict[str, float | None]:
    rate = view.rate(outcome)
    return {"overAll": rate.over_all, "overTracked": rate.over_tracked}


def write_results_json(
    view: ResultsView, out: TextIO, *, consents: Consents | None = None
) -> None:
    """Write `results_document` of the view to ``out`` as JSON."""
    json.dump(results_document(view, consents=consents), out, ensure_ascii=False)
