"""Tests of the project settings and the tracking decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("make", "path", "rule"),
    [
        (lambda: ProjectSettings(""), "project_id", "must not be empty"),
        (lambda: ProjectSettings(None), "project_id", "not a string"),
        (lambda: ProjectSettings("p", regime="strict"), "regime", "not a Regime"),
        (
            lambda: ProjectSettings("p", feature_history=[ON.feature_history[0]]),
            "feature_history",
            "not a tuple",
        ),
        (
            lambda: ProjectSettings("p", feature_history=("on",)),
            "feature_history",
            "not a FeatureSwitch",
        ),
    ],
    ids=["empty id", "no id", "regime as text", "history as list", "history item"],
)
def test_settings_refuse_a_wrong_field(make: object, path: str, rule: str) -> None:
    """Given settings built with a wrong field, then InvalidValueError names it."""
    with pytest.raises(InvalidValueError) as caught:
        make()  # type: ignore[operator]

    assert caught.value.path == path
    assert caught.value.rule.startswith(rule)


@given(enabled=st.sampled_from(["no", "yes", 0, 1, None, "", [True]]))
def test_a_switch_must_be_a_real_bool(enabled: object) -> None:
    """Given a switch to something other than True or False ("no" is truthy),
    then it is refused and the feature is never read as on.
    """
    with pytest.raises(InvalidValueError, match="enabled: not a bool"):
        ProjectSettings("p").switch_feature(enabled, actor="ops", at=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actor", "at", "path"),
    [
        ("", NOW, "actor"),
        (None, NOW, "actor"),
        ("ops\x00", NOW, "actor"),
        ("ops", datetime(2024, 6, 1), "at"),
        ("ops", "2024-06-01", "at"),
    ],
    ids=["empty actor", "no actor", "control in actor", "naive at", "text at"],
)
def test_a_switch_names_who_and_when_properly(
    actor: object, at: object, path: str
) -> None:
    """Given a switch with an empty actor or a naive moment, then it is
    refused naming the field.
    """
    with pytest.raises(InvalidValueError) as caught:
        ProjectSettings("p").switch_feature(True, actor=actor, at=at)  # type: ignore[arg-type]

    assert caught.value.path == path


@pytest.mark.parametrize(
    ("consent", "settings", "path"),
    [
        (None, ON, "consent"),
        ("granted", ON, "consent"),
        (Consent.unknown(), None, "settings"),
        (Consent.unknown(), "p", "settings"),
    ],
)
def test_the_decision_names_a_wrong_argument(
    consent: object, settings: object, path: str
) -> None:
    """Given tracking_decision called with something other than a Consent and
    ProjectSettings, then InvalidValueError names the argument.
    """
    with pytest.raises(InvalidValueError) as caught:
        tracking_decision(consent, settings)  # type: ignore[arg-type]

    assert caught.value.path == path
