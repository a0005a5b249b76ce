"""Segments on history records never select untracked contacts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import consents, contact_ids, project_settings
from trackconsent import (
    Answer,
    Consent,
    ConsentState,
    InvalidValueError,
    ProjectSettings,
    SQLiteStore,
    is_tracked,
    select_by_history,
)
from trackconsent.testing import make_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
ON = ProjectSettings("p").switch_feature(True, actor="operator", at=NOW)


def test_did_not_open_does_not_select_an_untracked_contact() -> None:
    """Given 'did not open' matching a tracked and an untracked contact, then
    only the tracked one is selected and the other is only counted.
    """
    matches = ["quiet", "refuser"]
    consent_map = {"refuser": Consent(ConsentState.REFUSED, NOW)}

    selection = select_by_history(matches, consent_map, ON)

    assert selection.contact_ids == ("quiet",)
    assert selection.excluded == 1
    assert "refuser" not in repr(selection)


def test_the_selection_is_judged_by_the_consent_at_evaluation_time() -> None:
    """Given a contact who opened, then refused, then accepted, then the
    'opened' segment drops them and takes them back as their consent changes.
    """
    with SQLiteStore(":memory:") as store:
        store.append([make_event("b", Answer.GRANTED, 1)])
        assert select_by_history(["b"], store, ON).contact_ids == ("b",)
        store.append([make_event("b", Answer.REFUSED, 2)])
        assert select_by_history(["b"], store, ON).contact_ids == ()
        store.append([make_event("b", Answer.GRANTED, 3)])
        assert select_by_history(["b"], store, ON).contact_ids == ("b",)


@given(
    matches=st.lists(contact_ids, max_size=12),
    states=st.dictionaries(contact_ids, consents(), max_size=12),
    settings=project_settings(),
)
def test_a_selection_holds_exactly_the_tracked_matches(
    matches: list[str], states: dict[str, Consent], settings: ProjectSettings
) -> None:
    """Given any matches and consents, then the selection is the tracked
    matches, each once, in order, and the rest are counted.
    """
    selection = select_by_history(matches, states, settings)

    unique = list(dict.fromkeys(matches))
    expected = tuple(
        c
        for c in unique
        if is_tracked(states.get(c, Consent.unknown()).state, settings)
    )
    assert selection.contact_ids == expected
    assert selection.excluded == len(unique) - len(expected)


@pytest.mark.parametrize(
    ("matches", "consents", "settings", "path"),
    [
        ("abc", {}, ON, "contact_ids"),
        (None, {}, ON, "contact_ids"),
        (["a"], None, ON, "consents"),
        (["a"], {}, None, "settings"),
        (["a"], {"a": "refused"}, ON, "consents['a']"),
    ],
    ids=["a string", "no matches", "no consents", "no settings", "bad value"],
)
def test_a_wrong_argument_is_named(
    matches: object, consents: object, settings: object, path: str
) -> None:
    """Given select_by_history called with a wrong argument (a string of
    matches would read as one id per character), then InvalidValueError
    names it.
    """
    with pytest.raises(InvalidValueError) as caught:
        select_by_history(matches, consents, settings)  # type: ignore[arg-type]

    assert caught.value.path == path
