"""Injection rules and the only-tracked-contacts option."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import consents, injection_rules, project_settings
from trackconsent import (
    Consent,
    ConsentState,
    FeatureDisabledError,
    InjectionRule,
    InvalidValueError,
    LookupFailed,
    ProjectSettings,
    Trigger,
    is_tracked,
    rule_applies,
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)
OFF = ProjectSettings("p")
ON = OFF.switch_feature(True, actor="operator", at=NOW)
REFUSED = Consent(ConsentState.REFUSED, NOW)
GRANTED = Consent(ConsentState.GRANTED, NOW)


def test_the_option_cannot_be_set_without_the_feature() -> None:
    """Given the feature off, when the option is set, then a clear error names it."""
    with pytest.raises(FeatureDisabledError, match="only_tracked_contacts"):
        InjectionRule.new("r", Trigger.SUBSCRIBED, OFF, only_tracked_contacts=True)
    rule = InjectionRule.new("r", Trigger.SUBSCRIBED, OFF)
    with pytest.raises(FeatureDisabledError, match="'p'"):
        rule.with_only_tracked_contacts(True, OFF)


def test_the_option_is_kept_and_ignored_once_the_feature_is_off() -> None:
    """Given a rule with the option, when the feature goes off, then the rule
    keeps it, applies to everyone, and obeys it again when switched back on.
    """
    rule = InjectionRule.new("r", Trigger.SUBSCRIBED, ON, only_tracked_contacts=True)
    off_again = ON.switch_feature(False, actor="operator", at=NOW)
    on_again = off_again.switch_feature(True, actor="operator", at=NOW)

    assert rule.only_tracked_contacts
    assert rule_applies(rule, REFUSED, off_again)
    assert not rule_applies(rule, REFUSED, on_again)
    assert not rule.with_only_tracked_contacts(False, off_again).only_tracked_contacts


@pytest.mark.parametrize(
    "trigger", [t for t in Trigger if t.is_engagement], ids=lambda t: t.value
)
def test_engagement_rules_never_fire_for_an_untracked_contact(
    trigger: Trigger,
) -> None:
    """Given an engagement trigger without the option, then an untracked
    contact is never injected: untracked is not inactive.
    """
    days = 30 if trigger is Trigger.INACTIVE else None
    rule = InjectionRule.new("r", trigger, ON, inactive_days=days)

    assert not rule_applies(rule, REFUSED, ON)
    assert rule_applies(rule, GRANTED, ON)


def test_a_field_change_rule_reaches_untracked_contacts_only_without_the_option() -> (
    None
):
    """Given a non-behavioural trigger and no option, then untracked contacts
    are injected; with the option, they are not.
    """
    rule = InjectionRule.new("r", Trigger.FIELD_CHANGED, ON)

    assert rule_applies(rule, REFUSED, ON)
    assert not rule_applies(rule.with_only_tracked_contacts(True, ON), REFUSED, ON)


def test_a_failed_lookup_does_not_fire_an_engagement_rule() -> None:
    """Given the consent look-up failed, then a click rule does not fire."""
    rule = InjectionRule.new("r", Trigger.CLICKED, ON)

    assert not rule_applies(rule, LookupFailed("timeout"), ON)


def test_the_inactive_trigger_needs_a_number_of_days() -> None:
    """Given an inactive rule without days, or days on a click rule, then the
    error names the field.
    """
    with pytest.raises(InvalidValueError, match="inactive_days: a whole number"):
        InjectionRule("r", Trigger.INACTIVE)
    with pytest.raises(InvalidValueError, match="only for the inactive trigger"):
        InjectionRule("r", Trigger.CLICKED, inactive_days=3)


@given(rule=injection_rules(), consent=consents(), settings=project_settings())
def test_a_rule_applies_unless_the_contact_is_untracked_and_it_should_not(
    rule: InjectionRule, consent: Consent, settings: ProjectSettings
) -> None:
    """Given any rule, consent and settings, then the rule applies to tracked
    contacts always, and to untracked ones only for a non-behavioural trigger
    without the option.
    """
    tracked = is_tracked(consent.state, settings)
    expected = tracked or not (rule.trigger.is_engagement or rule.only_tracked_contacts)

    assert rule_applies(rule, consent, settings) is expected


@given(injection_rules())
def test_rules_round_trip_through_attrs(rule: InjectionRule) -> None:
    """Given any rule, then rebuilding it from its fields gives an equal one."""
    assert InjectionRule(**attrs.asdict(rule, recurse=False)) == rule


@given(trigger=st.sampled_from(Trigger), consent=consents())
def test_a_stored_rule_loads_with_the_option_and_the_feature_off(
    trigger: Trigger, consent: Consent
) -> None:
    """Given a rule loaded through the plain constructor with the option on a
    project whose feature is off (stored rules must load), then it is built,
    and it applies to every contact while the feature stays off.
    """
    days = 30 if trigger is Trigger.INACTIVE else None
    rule = InjectionRule("r", trigger, only_tracked_contacts=True, inactive_days=days)

    assert rule.only_tracked_contacts
    assert rule_applies(rule, consent, OFF)
    assert rule_applies(rule, LookupFailed(), OFF)
