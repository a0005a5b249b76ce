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


# -- Contact files (trackconsent.capture.csvio) --------------------------------

YES_CELLS = ("1", "true", "TRUE", "True", " Yes ", "yes", "YES")
NO_CELLS = ("0", "false", "FALSE", "False", "no", " No ", "NO")
BAD_FLAG_CELLS = ("maybe", "x", "2", "oui", "yess", "-")
BAD_DATE_CELLS = ("2024-03", "14:22", "1A2B", "31/31/2024", "yesterday", "16/03/15")


@st.composite
def import_rows(draw: st.DrawFn) -> list[str]:
    """Draw one good row: contact id, a yes/no spelling, an ISO moment."""
    contact = draw(st.sampled_from([f"c{n}@example.com" for n in range(8)]))
    granted = draw(st.booleans())
    flag = draw(st.sampled_from(YES_CELLS if granted else NO_CELLS))
    return [contact, flag, draw(aware_datetimes).isoformat()]


@st.composite
def bad_import_rows(draw: st.DrawFn) -> list[str]:
    """Draw one bad row: a good row with its answer or its date spoiled."""
    row = draw(import_rows())
    if draw(st.booleans()):
        row[1] = draw(st.sampled_from(BAD_FLAG_CELLS))
    else:
        row[2] = draw(st.sampled_from(BAD_DATE_CELLS))
    return row


__all__ += [
    "BAD_DATE_CELLS",
    "BAD_FLAG_CELLS",
    "NO_CELLS",
    "YES_CELLS",
    "bad_import_rows",
    "import_rows",
]
