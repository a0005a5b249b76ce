"""Custom workflows: a condition on the consent fields, and an action that sets them.

A workflow step either tests a contact's consent (`ConsentCondition`) or sets
it (`SetConsent`). Setting it produces a consent event with source
``WORKFLOW`` and the workflow's id as evidence. An action that would repeat
the answer already in force records nothing: a new event would move
``dtTrackingConsent`` to the moment the workflow ran, which is not when the
person answered.

Like the policy functions, these read no clock: the host passes ``now``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from trackconsent.capture._checks import enum_member, optional_aware, text
from trackconsent.errors import InvalidValueError
from trackconsent.model import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Contact,
    Evidence,
    Source,
    require_aware,
)
from trackconsent.policy import is_tracked
from trackconsent.settings import ProjectSettings

__all__ = [
    "ConsentCondition",
    "ConsentTest",
    "SetConsent",
    "Workflow",
    "run_action",
    "run_workflow",
]


class ConsentTest(enum.Enum):
    """What a condition asks about a contact's consent.

    ``GRANTED``, ``REFUSED`` and ``NEVER_ASKED`` read ``hasTrackingConsent``
    (true, false, empty). ``TRACKED`` and ``UNTRACKED`` ask the project's rules
    instead: with the feature off everyone is tracked, and a never-asked
    contact follows the project's regime.
    """

    GRANTED = "granted"
    REFUSED = "refused"
    NEVER_ASKED = "never_asked"
    TRACKED = "tracked"
    UNTRACKED = "untracked"


_STATES = {
    ConsentTest.GRANTED: ConsentState.GRANTED,
    ConsentTest.REFUSED: ConsentState.REFUSED,
    ConsentTest.NEVER_ASKED: ConsentState.UNKNOWN,
}


def _optional_test(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        enum_member(ConsentTest)(_instance, attribute, value)


@attrs.frozen
class ConsentCondition:
    """A test on the two consent fields; every part that is set must hold.

    Attributes:
        test: What the consent must be; None for any.
        answered_before: ``dtTrackingConsent`` strictly before this moment.
        answered_after: ``dtTrackingConsent`` at or after this moment.

    A date part never holds for a never-asked contact, who has no date.
    """

    test: ConsentTest | None = attrs.field(default=None, validator=_optional_test)
    answered_before: datetime | None = attrs.field(
        default=None, validator=optional_aware
    )
    answered_after: datetime | None = attrs.field(
        default=None, validator=optional_aware
    )

    def __attrs_post_init__(self) -> None:
        """Refuse a condition that no contact could ever meet."""
        before, after = self.answered_before, self.answered_after
        if before is not None and after is not None and before <= after:
            raise InvalidValueError(
                "answered_before", "must be later than answered_after", before
            )
        has_date = before is not None or after is not None
        if has_date and self.test is ConsentTest.NEVER_ASKED:
            raise InvalidValueError(
                "test", "never-asked contacts have no answer date", self.test.value
            )

    def holds(self, consent: Consent, settings: ProjectSettings) -> bool:
        """Return True when ``consent`` meets every part of the condition."""
        return self._test_holds(consent, settings) and self._dates_hold(consent.at)

    def _test_holds(self, consent: Consent, settings: ProjectSettings) -> bool:
        if self.test is None:
            return True
        if self.test in _STATES:
            return consent.state is _STATES[self.test]
        tracked = is_tracked(consent.state, settings)
        return tracked if self.test is ConsentTest.TRACKED else not tracked

    def _dates_hold(self, at: datetime | None) -> bool:
        if self.answered_before is None and self.answered_after is None:
            return True
        if at is None:
            return False
        is_before = self.answered_before is None or at < self.answered_before
        is_after = self.answered_after is None or at >= self.answered_after
        return is_before and is_after


@attrs.frozen
class SetConsent:
    """A workflow action that sets a contact's tracking consent."""

    answer: Answer = attrs.field(validator=enum_member(Answer))


@attrs.frozen
class Workflow:
    """A workflow step: when the condition holds, the action runs.

    Attributes:
        workflow_id: The host's identifier of the workflow.
        condition: When to act.
        action: What to set.
    """

    workflow_id: str = attrs.field(validator=text)
    condition: ConsentCondition = attrs.field(factory=ConsentCondition)
    action: SetConsent | None = attrs.field(default=None)


def run_action(
    workflow_id: str, action: SetConsent, contact: Contact, now: datetime
) -> list[ConsentEvent]:
    """Return the event a "set consent" action records for ``contact``.

    Args:
        workflow_id: The workflow running the action; kept as evidence.
        action: The answer to set.
        contact: The contact, with the consent in force.
        now: When the workflow ran (aware).

    Returns:
        One event with source ``WORKFLOW``, or an empty list when the contact
        already has that answer.
    """
    require_aware("now", now)
    if contact.consent.has_tracking_consent is (action.answer is Answer.GRANTED):
        return []
    event = ConsentEvent.new(
        contact_id=contact.id,
        answer=action.answer,
        occurred_at=now,
        recorded_at=now,
        source=Source.WORKFLOW,
        evidence=Evidence(workflow_id=workflow_id),
    )

    return [event]


def run_workflow(
    workflow: Workflow, contact: Contact, settings: ProjectSettings, now: datetime
) -> list[ConsentEvent]:
    """Run one workflow step for one contact; return the events it records.

    Nothing is recorded when the condition does not hold or the step has no
    action.
    """
    if workflow.action is None or not workflow.condition.holds(
        contact.consent, settings
    ):
        return []

    return run_action(workflow.workflow_id, workflow.action, contact, now)
