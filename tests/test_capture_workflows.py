"""Tests of the workflow condition on the consent fields and the set-consent action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from tests.strategies import (
    answers,
    aware_datetimes,
    consent_conditions,
    consents,
    project_settings,
)
from trackconsent import (
    Answer,
    Consent,
    ConsentState,
    Contact,
    InvalidValueError,
    ProjectSettings,
    Regime,
    Source,
    consent_status,
    is_tracked,
)
from trackconsent.capture import (
    ConsentCondition,
    ConsentTest,
    SetConsent,
    Workflow,
    run_action,
    run_workflow,
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)
MAY = datetime(2024, 5, 1, tzinfo=UTC)
ON = ProjectSettings("p").switch_feature(True, actor="ops", at=NOW)
GRANTED = Consent(ConsentState.GRANTED, datetime(2024, 4, 1, tzinfo=UTC))
REFUSED = Consent(ConsentState.REFUSED, datetime(2024, 5, 20, tzinfo=UTC))
NEVER = Consent.unknown()


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (ConsentTest.GRANTED, [True, False, False]),
        (ConsentTest.REFUSED, [False, True, False]),
        (ConsentTest.NEVER_ASKED, [False, False, True]),
        (ConsentTest.TRACKED, [True, False, True]),
        (ConsentTest.UNTRACKED, [False, True, False]),
    ],
)
def test_a_condition_reads_the_flag_or_the_project_rules(
    test: ConsentTest, expected: list[bool]
) -> None:
    """Given granted, refused and never-asked contacts under the opt-out regime,
    then each test holds for the expected ones.
    """
    condition = ConsentCondition(test)

    assert [condition.holds(c, ON) for c in (GRANTED, REFUSED, NEVER)] == expected


def test_tracked_follows_the_regime_and_the_feature_switch() -> None:
    """Given a never-asked contact, then it is untracked under opt-in, and
    tracked with the feature off whatever the regime.
    """
    opt_in = ProjectSettings("p", regime=Regime.OPT_IN)
    opt_in_on = opt_in.switch_feature(True, actor="ops", at=NOW)
    tracked = ConsentCondition(ConsentTest.TRACKED)

    assert not tracked.holds(NEVER, opt_in_on)
    assert tracked.holds(NEVER, opt_in)
    assert tracked.holds(REFUSED, ProjectSettings("p"))


def test_answered_before_and_after_a_date() -> None:
    """Given answers in April and late May, then "before May" and "after May"
    pick one each, and a never-asked contact meets neither.
    """
    before = ConsentCondition(answered_before=MAY)
    after = ConsentCondition(answered_after=MAY)
    window = ConsentCondition(answered_after=MAY, answered_before=NOW)

    assert [before.holds(c, ON) for c in (GRANTED, REFUSED, NEVER)] == [
        True,
        False,
        False,
    ]
    assert [after.holds(c, ON) for c in (GRANTED, REFUSED, NEVER)] == [
        False,
        True,
        False,
    ]
    assert window.holds(REFUSED, ON)


def test_conditions_no_contact_could_meet_are_refused() -> None:
    """Given an empty window, or a date on never-asked, then construction fails."""
    with pytest.raises(InvalidValueError, match="answered_before: must be later"):
        ConsentCondition(answered_before=MAY, answered_after=NOW)
    with pytest.raises(InvalidValueError, match="test: never-asked contacts have no"):
        ConsentCondition(ConsentTest.NEVER_ASKED, answered_after=MAY)
    with pytest.raises(InvalidValueError, match="answered_after: naive"):
        ConsentCondition(answered_after=datetime(2024, 1, 1))


def test_the_action_records_a_workflow_event_with_its_id() -> None:
    """Given a refused contact, when a workflow sets a grant, then one event
    with source workflow and the workflow id as evidence is recorded.
    """
    contact = Contact("c1", consent=REFUSED)

    (event,) = run_action("wf-7", SetConsent(Answer.GRANTED), contact, NOW)

    assert event.source is Source.WORKFLOW
    assert event.evidence.workflow_id == "wf-7"
    assert (event.contact_id, event.answer, event.occurred_at) == (
        "c1",
        Answer.GRANTED,
        NOW,
    )


def test_setting_the_answer_in_force_records_nothing() -> None:
    """Given a granted contact, when a workflow sets a grant, then nothing is
    recorded, so dtTrackingConsent keeps the moment the person answered.
    """
    assert (
        run_action("wf", SetConsent(Answer.GRANTED), Contact("c", consent=GRANTED), NOW)
        == []
    )


def test_a_workflow_acts_only_when_its_condition_holds() -> None:
    """Given "refuse everyone who answered before May", then a contact granted
    in April is refused and one refused in late May is left alone.
    """
    workflow = Workflow(
        "wf-old-answers",
        ConsentCondition(ConsentTest.GRANTED, answered_before=MAY),
        SetConsent(Answer.REFUSED),
    )

    acted = run_workflow(workflow, Contact("a", consent=GRANTED), ON, NOW)
    skipped = run_workflow(workflow, Contact("b", consent=REFUSED), ON, NOW)

    assert [e.answer for e in acted] == [Answer.REFUSED]
    assert skipped == []
    assert (
        run_workflow(Workflow("no-action"), Contact("a", consent=GRANTED), ON, NOW)
        == []
    )


@given(consent=consents(), moment=aware_datetimes)
def test_before_and_after_split_the_answered_contacts(
    consent: Consent, moment: datetime
) -> None:
    """Given any consent and date, then an answered contact meets exactly one
    of "before" and "after", and a never-asked contact neither.
    """
    before = ConsentCondition(answered_before=moment).holds(consent, ON)
    after = ConsentCondition(answered_after=moment).holds(consent, ON)

    assert before + after == (0 if consent.state is ConsentState.UNKNOWN else 1)


@given(condition=consent_conditions(), consent=consents(), settings=project_settings())
def test_tracked_and_untracked_agree_with_the_tracking_decision(
    condition: ConsentCondition, consent: Consent, settings: ProjectSettings
) -> None:
    """Given any condition, consent and settings, then TRACKED holds exactly
    when the contact is tracked, UNTRACKED exactly when not, and a condition
    with a test holds only if a condition without dates and the same test does.
    """
    tracked = is_tracked(consent.state, settings)

    assert ConsentCondition(ConsentTest.TRACKED).holds(consent, settings) is tracked
    assert (
        ConsentCondition(ConsentTest.UNTRACKED).holds(consent, settings) is not tracked
    )
    if condition.holds(consent, settings):
        assert ConsentCondition(condition.test).holds(consent, settings)


@given(consent=consents(), answer=answers, delay=aware_datetimes)
def test_after_the_action_the_contact_has_the_answer_set(
    consent: Consent, answer: Answer, delay: datetime
) -> None:
    """Given any contact and answer, when the action runs after the answer in
    force, then the status from the new events is the answer set.
    """
    now = max(delay, consent.at + timedelta(seconds=1) if consent.at else delay)
    events = run_action("wf", SetConsent(answer), Contact("c", consent=consent), now)

    expected = ConsentState(answer.value)
    if events:
        assert consent_status(events).state is expected
    else:
        assert consent.state is expected
