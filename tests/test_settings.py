"""Tests of the project settings and the tracking decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from tests.strategies import consents, project_settings
from trackconsent import (
    Consent,
    ConsentState,
    Decision,
    FeatureDisabledError,
    InvalidValueError,
    ProjectSettings,
    Regime,
    tracking_decision,
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)
ON = ProjectSettings("p").switch_feature(True, actor="ops", at=NOW)


def test_the_feature_is_off_by_default() -> None:
    """Given new settings, then the feature is off and never-asked are tracked."""
    settings = ProjectSettings("p")

    assert not settings.feature_enabled
    assert settings.regime is Regime.OPT_OUT


def test_switching_is_recorded_with_who_and_when() -> None:
    """Given the feature switched on then off, then both switches are kept."""
    later = NOW + timedelta(days=3)
    settings = ON.switch_feature(False, actor="admin", at=later)

    assert not settings.feature_enabled
    assert [(s.enabled, s.actor, s.at) for s in settings.feature_history] == [
        (True, "ops", NOW),
        (False, "admin", later),
    ]


def test_switches_out_of_time_order_are_refused() -> None:
    """Given a switch dated before the previous one, then it is refused."""
    with pytest.raises(InvalidValueError, match="feature_history"):
        ON.switch_feature(False, actor="ops", at=NOW - timedelta(days=1))


def test_a_feature_only_option_on_a_project_without_it_is_an_error() -> None:
    """Given the feature off, then require_feature names the option."""
    with pytest.raises(FeatureDisabledError, match="only_tracked_contacts"):
        ProjectSettings("p").require_feature("only_tracked_contacts")


@pytest.mark.parametrize(
    ("state", "regime", "expected"),
    [
        (ConsentState.GRANTED, Regime.OPT_OUT, Decision.TRACKED),
        (ConsentState.REFUSED, Regime.OPT_OUT, Decision.UNTRACKED),
        (ConsentState.UNKNOWN, Regime.OPT_OUT, Decision.TRACKED),
        (ConsentState.GRANTED, Regime.OPT_IN, Decision.TRACKED),
        (ConsentState.REFUSED, Regime.OPT_IN, Decision.UNTRACKED),
        (ConsentState.UNKNOWN, Regime.OPT_IN, Decision.UNTRACKED),
    ],
)
def test_the_decision_with_the_feature_on(
    state: ConsentState, regime: Regime, expected: Decision
) -> None:
    """Given each state and regime, then the decision follows the table."""
    settings = ProjectSettings("p", regime=regime).switch_feature(
        True, actor="ops", at=NOW
    )
    consent = (
        Consent.unknown() if state is ConsentState.UNKNOWN else Consent(state, NOW)
    )

    assert tracking_decision(consent, settings) is expected


@given(consents(), project_settings())
def test_with_the_feature_off_everyone_is_tracked(
    consent: Consent, settings: ProjectSettings
) -> None:
    """Given the feature off, then every consent is tracked."""
    if settings.feature_enabled:
        settings = settings.switch_feature(
            False, actor="ops", at=settings.feature_history[-1].at
        )

    assert tracking_decision(consent, settings) is Decision.TRACKED
