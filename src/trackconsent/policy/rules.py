"""Injection rules: which contacts an automation may inject into a scenario.

An `InjectionRule` fires on a trigger. Triggers that observe behaviour
(opened, clicked, did not open, inactive for N days) never fire for an
untracked contact, whatever the rule's options: an untracked contact is not
an inactive one, only an unobserved one.

The ``only_tracked_contacts`` option restricts any rule, behavioural or not,
to tracked contacts. It exists only with the feature on: `InjectionRule.new`
and `InjectionRule.with_only_tracked_contacts` refuse to set it on a project
without the feature (`FeatureDisabledError`). If the feature is switched off
later, a rule keeps the option as stored, and `rule_applies` ignores it, since
with the feature off everyone is tracked; switching the feature back on makes
it count again. The constructor itself accepts the option unchecked so that
stored rules load whatever the project's state.

Eligibility is read from the consent in force, so a contact who refuses and
later accepts is eligible again.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import _enum_member, _optional_text, _text
from trackconsent.policy._lookup import ConsentNow, is_tracked_now
from trackconsent.settings import ProjectSettings

__all__ = ["InjectionRule", "Trigger", "rule_applies"]


class Trigger(enum.Enum):
    """What makes a rule inject a contact."""

    SUBSCRIBED = "subscribed"
    FIELD_CHANGED = "field_changed"
    DATE_REACHED = "date_reached"
    FORM_SUBMITTED = "form_submitted"
    OPENED = "opened"
    CLICKED = "clicked"
    NOT_OPENED = "not_opened"
    INACTIVE = "inactive"

    @property
    def is_engagement(self) -> bool:
        """True for triggers that observe behaviour."""
        return self in _ENGAGEMENT_TRIGGERS


_ENGAGEMENT_TRIGGERS = frozenset(
    {Trigger.OPENED, Trigger.CLICKED, Trigger.NOT_OPENED, Trigger.INACTIVE}
)


def _check_days(instance: InjectionRule, _attribute: Any, days: int | None) -> None:
    if instance.trigger is Trigger.INACTIVE:
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidValueError(
                "inactive_days", "a whole number of days, at least 1", days
            )
    elif days is not None:
        raise InvalidValueError("inactive_days", "only for the inactive trigger", days)


@attrs.frozen
class InjectionRule:
    """An automation rule that injects contacts into a scenario.

    Create a rule a user sets up with `new`, and change the option with
    `with_only_tracked_contacts`: both refuse ``only_tracked_contacts`` on a
    project without the feature. The plain constructor does *not* check the
    feature, on purpose: it loads stored rules, which must load whatever the
    project's state is now. Such a rule is harmless: `rule_applies` ignores
    the option while the feature is off.

    Attributes:
        rule_id: The host's identifier of the rule.
        trigger: What fires it.
        only_tracked_contacts: Apply to tracked contacts only. Counts only
            while the feature is on; see above for where it is checked.
        inactive_days: For the inactive trigger: days without engagement.
        message_id: For opened, clicked, not opened: the message watched.
    """

    rule_id: str = attrs.field(validator=_text)
    trigger: Trigger = attrs.field(validator=_enum_member(Trigger))
    only_tracked_contacts: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )
    inactive_days: int | None = attrs.field(default=None, validator=_check_days)
    message_id: str | None = attrs.field(default=None, validator=_optional_text)

    @classmethod
    def new(
        cls,
        rule_id: str,
        trigger: Trigger,
        settings: ProjectSettings,
        *,
        only_tracked_contacts: bool = False,
        inactive_days: int | None = None,
        message_id: str | None = None,
    ) -> InjectionRule:
        """Create a rule as a project's user sets it up.

        Raises:
            FeatureDisabledError: ``only_tracked_contacts`` is set on a project
                without the feature.
        """
        if only_tracked_contacts:
            settings.require_feature("only_tracked_contacts", only_tracked_contacts)
        return cls(rule_id, trigger, only_tracked_contacts, inactive_days, message_id)

    def with_only_tracked_contacts(
        self, value: bool, settings: ProjectSettings
    ) -> InjectionRule:
        """Return the rule with the option set or cleared.

        Clearing is always allowed; setting needs the feature on.

        Raises:
            FeatureDisabledError: setting the option without the feature.
        """
        if value:
            settings.require_feature("only_tracked_contacts", value)
        return attrs.evolve(self, only_tracked_contacts=value)


def rule_applies(
    rule: InjectionRule, consent: ConsentNow, settings: ProjectSettings
) -> bool:
    """Whether ``rule`` may inject a contact whose consent is ``consent``.

    Args:
        rule: The rule that fired.
        consent: The contact's consent in force now, or `LookupFailed`
            (read as untracked).
        settings: The project's settings. With the feature off every rule
            applies and ``only_tracked_contacts`` is ignored.
    """
    if is_tracked_now(consent, settings):
        return True
    return not (rule.trigger.is_engagement or rule.only_tracked_contacts)
