"""Hypothesis strategies for trackconsent's tests, in one place.

The consent-record strategies ship with the package (hosts use them with the
contract suite); they are re-exported here beside the ones only our tests use.
"""

from __future__ import annotations

from hypothesis import strategies as st

from trackconsent import Consent, ConsentState, ProjectSettings, Regime
from trackconsent.testing.strategies import (
    answers,
    aware_datetimes,
    contact_ids,
    event_lists,
    events,
    evidence,
    offsets,
)

__all__ = [
    "answers",
    "aware_datetimes",
    "consents",
    "contact_ids",
    "event_lists",
    "events",
    "evidence",
    "offsets",
    "project_settings",
]


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    """Draw a consent: never asked, or granted or refused at some moment."""
    state = draw(st.sampled_from(ConsentState))
    if state is ConsentState.UNKNOWN:
        return Consent.unknown()
    return Consent(state, draw(aware_datetimes))


@st.composite
def project_settings(draw: st.DrawFn) -> ProjectSettings:
    """Draw settings with the feature on or off, under either regime."""
    settings = ProjectSettings("p", regime=draw(st.sampled_from(Regime)))
    switches = draw(st.lists(st.booleans(), max_size=3))
    moment = draw(aware_datetimes)
    for enabled in switches:
        settings = settings.switch_feature(enabled, actor="operator", at=moment)
    return settings
