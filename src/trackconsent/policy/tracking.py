"""Whether a contact is tracked, given their consent and the project's rules."""

from __future__ import annotations

import enum

from trackconsent.errors import InvalidValueError
from trackconsent.model import Consent, ConsentState
from trackconsent.settings import ProjectSettings, Regime

__all__ = ["Decision", "is_tracked", "tracking_decision"]


class Decision(enum.Enum):
    """Whether a contact's behaviour may be tied to them."""

    TRACKED = "tracked"
    UNTRACKED = "untracked"


def tracking_decision(consent: Consent, settings: ProjectSettings) -> Decision:
    """Decide whether a contact is tracked.

    With the feature off everyone is tracked, as before the feature existed.
    With it on, a grant tracks, a refusal does not, and a contact never asked
    follows the project's regime: tracked under opt-out, untracked under opt-in.

    Args:
        consent: The contact's consent in force.
        settings: The project's settings.

    Raises:
        InvalidValueError: ``consent`` is not a `Consent` or ``settings`` not
            `ProjectSettings`.
    """
    if not isinstance(consent, Consent):
        raise InvalidValueError("consent", "not a Consent", consent)
    _check_settings(settings)
    return (
        Decision.TRACKED if is_tracked(consent.state, settings) else Decision.UNTRACKED
    )


def is_tracked(state: ConsentState, settings: ProjectSettings) -> bool:
    """Return True when a contact in ``state`` is tracked under ``settings``.

    The boolean form of `tracking_decision`, for loops over many contacts.
    """
    if not settings.feature_enabled:
        return True
    if state is ConsentState.UNKNOWN:
        return settings.regime is Regime.OPT_OUT
    return state is ConsentState.GRANTED


def _check_settings(settings: object) -> ProjectSettings:
    """Return ``settings`` if it is `ProjectSettings`, else raise.

    Raises:
        InvalidValueError: ``settings`` is anything else, None included.
    """
    if not isinstance(settings, ProjectSettings):
        raise InvalidValueError("settings", "not a ProjectSettings", settings)
    return settings
