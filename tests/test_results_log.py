"""The results log export: the view as CSV and JSON, with the consent columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import enabled_settings, result_sets
from trackconsent import (
    UNTRACKED_LABEL,
    Answer,
    Channel,
    Consent,
    ConsentState,
    Outcome,
    ProjectSettings,
    RecipientResult,
    ResultSet,
    ResultsView,
    SQLiteStore,
    filter_results,
)
from trackconsent.export import results_document, write_results_csv, write_results_json
from trackconsent.testing import make_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
OFF = ProjectSettings("p")
ON = OFF.switch_feature(True, actor="operator", at=NOW)


def _sms_view(settings: ProjectSettings, store: SQLiteStore) -> ResultsView:
    rows = [
        RecipientResult("a", {Outcome.SENT, Outcome.CLICKED}),
        RecipientResult("b", {Outcome.SENT}),
        RecipientResult("c", {Outcome.SENT, Outcome.DELIVERED}),
    ]
    result_set = ResultSet.from_rows("m", Channel.SMS, rows)
    return filter_results(result_set, store, settings)


def _csv(view: ResultsView, **options: object) -> list[list[str]]:
    out = io.StringIO(newline="")
    write_results_csv(view, out, **options)  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_the_csv_has_a_column_per_outcome_and_the_consent_columns() -> None:
    """Given an SMS view and a store, then the CSV lists tracked rows with the
    channel's outcomes, the consent columns, then the untracked line.
    """
    with SQLiteStore(":memory:") as store:
        store.append(
            [make_event("a", Answer.GRANTED, 1), make_event("b", Answer.REFUSED, 1)]
        )
        lines = _csv(_sms_view(ON, store), consents=store)

    assert lines[0] == [
        "entry",
        "recipients",
        "contactId",
        "sent",
        "delivered",
        "bounced",
        "clicked",
        "unsubscribed",
        "hasTrackingConsent",
        "dtTrackingConsent",
    ]
    assert lines[1] == [
        "contact",
        "1",
        "a",
        "1",
        "0",
        "0",
        "1",
        "0",
        "true",
        "2024-01-02T00:00:00+00:00",
    ]
    assert lines[2] == ["contact", "1", "c", "1", "1", "0", "0", "0", "", ""]
    assert lines[3] == [UNTRACKED_LABEL, "1", *[""] * 8]


def test_with_the_feature_off_the_csv_lists_everyone_without_an_untracked_line() -> (
    None
):
    """Given the feature off, then every recipient is a line, as before."""
    with SQLiteStore(":memory:") as store:
        store.append([make_event("b", Answer.REFUSED, 1)])
        lines = _csv(_sms_view(OFF, store), consents=store)

    assert [line[2] for line in lines[1:]] == ["a", "b", "c"]
    assert {line[0] for line in lines[1:]} == {"contact"}
    assert lines[2][-2] == "false"


def test_without_consents_the_csv_has_no_consent_columns() -> None:
    """Given no consents, then the two consent columns are left out."""
    with SQLiteStore(":memory:") as store:
        lines = _csv(_sms_view(ON, store))

    assert "hasTrackingConsent" not in lines[0]


def test_the_json_carries_totals_rates_coverage_and_the_untracked_entry() -> None:
    """Given a view, then the JSON document says everything the view says."""
    with SQLiteStore(":memory:") as store:
        store.append([make_event("b", Answer.REFUSED, 1)])
        view = _sms_view(ON, store)
    consents = {"a": Consent(ConsentState.GRANTED, NOW)}
    out = io.StringIO()
    write_results_json(view, out, consents=consents)

    document = json.loads(out.getvalue())

    assert document["untracked"] == {"label": "Untracked contacts", "count": 1}
    assert document["totals"]["sent"] == 3
    assert document["rates"]["clicked"] == {"overAll": 1 / 3, "overTracked": 0.5}
    assert document["trackingCoverage"] == 2 / 3
    assert document["rows"][0] == {
        "contactId": "a",
        "outcomes": ["sent", "clicked"],
        "hasTrackingConsent": True,
        "dtTrackingConsent": "2024-06-01T00:00:00+00:00",
    }


@given(sample=result_sets(), settings=enabled_settings())
def test_the_csv_recipients_column_adds_up_to_every_recipient(
    sample: tuple[ResultSet, dict[str, Consent]], settings: ProjectSettings
) -> None:
    """Given any view, then the recipients column sums to all recipients, and
    each listed line's outcomes are that row's outcomes.
    """
    view = filter_results(sample[0], sample[1], settings)

    lines = _csv(view)

    assert sum(int(line[1]) for line in lines[1:]) == view.recipients
    names = lines[0][3:]
    for line, row in zip(lines[1:-1], view.rows, strict=True):
        assert {n for n, cell in zip(names, line[3:], strict=True) if cell == "1"} == {
            o.value for o in row.outcomes
        }
    assert results_document(view)["recipients"] == view.recipients


@given(
    sample=result_sets(),
    settings=enabled_settings() | st.just(OFF),
    with_consents=st.booleans(),
)
def test_every_csv_line_is_as_wide_as_the_header_and_agrees_with_the_json(
    sample: tuple[ResultSet, dict[str, Consent]],
    settings: ProjectSettings,
    with_consents: bool,
) -> None:
    """Given any view, with the feature on or off, with consents or not, then
    every CSV line has the header's width, and the CSV has its "Untracked
    contacts" line exactly when the JSON has its untracked entry, with the
    same count.
    """
    view = filter_results(sample[0], sample[1], settings)
    consents = sample[1] if with_consents else None

    lines = _csv(view, consents=consents)
    document = results_document(view, consents=consents)

    assert {len(line) for line in lines} == {len(lines[0])}
    summaries = [line for line in lines[1:] if line[0] == UNTRACKED_LABEL]
    if document["untracked"] is None:
        assert summaries == []
        assert not settings.feature_enabled
    else:
        assert summaries == [
            [
                UNTRACKED_LABEL,
                str(document["untracked"]["count"]),
                *[""] * (len(lines[0]) - 2),
            ]
        ]


def test_a_contact_named_like_the_summary_line_is_told_apart_from_it() -> None:
    """Given a tracked contact whose id is literally "Untracked contacts",
    then its line is a contact entry with that id, and only the summary line
    carries the label in the entry column.
    """
    rows = [
        RecipientResult(UNTRACKED_LABEL, {Outcome.SENT}),
        RecipientResult("gone", {Outcome.SENT}),
    ]
    result_set = ResultSet.from_rows("m", Channel.SMS, rows)
    consents = {
        UNTRACKED_LABEL: Consent(ConsentState.GRANTED, NOW),
        "gone": Consent(ConsentState.REFUSED, NOW),
    }
    view = filter_results(result_set, consents, ON)

    lines = _csv(view)

    assert [line[:3] for line in lines[1:]] == [
        ["contact", "1", UNTRACKED_LABEL],
        [UNTRACKED_LABEL, "1", ""],
    ]


def test_with_the_feature_off_the_json_has_no_untracked_entry() -> None:
    """Given the feature off, then the JSON's untracked entry is null, as the
    CSV has no "Untracked contacts" line.
    """
    with SQLiteStore(":memory:") as store:
        view = _sms_view(OFF, store)

    assert results_document(view)["untracked"] is None
    assert all(line[0] != UNTRACKED_LABEL for line in _csv(view))
