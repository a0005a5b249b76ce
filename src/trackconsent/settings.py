"""Per-project settings: the feature switch and the rule for never-asked contacts."""

from __future__ import annotations

import enum
import itertools
from datetime import datetime
from typing import Any

import attrs

from trackconsent.errors import FeatureDisabledError, InvalidValueError
from trackconsent.model import _aware, _enum_member, _instance_of, _text

__all__ = ["FeatureSwitch", "ProjectSettings", "Regime"]


class Regime(enum.Enum):
    """How a contact who was never asked is treated when the feature is on.

    ``OPT_OUT`` (the default) tracks them until they refuse; ``OPT_IN`` tracks
    nobody who has not said yes, as strict jurisdictions require.
    """

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


@attrs.frozen
class FeatureSwitch:
    """One switching of the feature: on or off, by whom, when.

    Attributes:
        enabled: True for on, False for off; nothing else, not even 1 or "no".
        actor: Who switched it.
        at: When (aware).
    """

    enabled: bool = attrs.field(validator=_instance_of(bool))
    actor: str = attrs.field(validator=_text)
    at: datetime = attrs.field(validator=_aware)


def _ordered(
    _instance: object,
    _attribute: attrs.Attribute[Any],
    switches: tuple[FeatureSwitch, ...],
) -> None:
    if not isinstance(switches, tuple):
        raise InvalidValueError("feature_history", "not a tuple", switches)
    for switch in switches:
        if not isinstance(switch, FeatureSwitch):
            raise InvalidValueError("feature_history", "not a FeatureSwitch", switch)
    for earlier, later in itertools.pairwise(switches):
        if later.at < earlier.at:
            raise InvalidValueError(
                "feature_history", "switches must be in time order", later.at
            )


@attrs.frozen
class ProjectSettings:
    """The tracking-consent settings of one project.

    The feature is off until switched on; whether it is on is read from the
    switch history, which records who switched it and when.

    Attributes:
        project_id: The host's identifier of the project.
        regime: How never-asked contacts are treated with the feature on.
        feature_history: Every switching of the feature, oldest first.
    """

    project_id: str = attrs.field(default="default", validator=_text)
    regime: Regime = attrs.field(default=Regime.OPT_OUT, validator=_enum_member(Regime))
    feature_history: tuple[FeatureSwitch, ...] = attrs.field(
        default=(), validator=_ordered
    )

    @property
    def feature_enabled(self) -> bool:
        """Whether behavioral tracking consent is switched on."""
        return bool(self.feature_history) and self.feature_history[-1].enabled

    def switch_feature(
        self, enabled: bool, *, actor: str, at: datetime
    ) -> ProjectSettings:
        """Return these settings with the feature switched, the switch recorded.

        Args:
            enabled: True to switch on, False to switch off.
            actor: Who switched it.
            at: When (aware).

        Raises:
            InvalidValueError: ``enabled`` is not a bool, ``actor`` is not a
                non-empty text, ``at`` is naive or earlier than the last switch.
        """
        switch = FeatureSwitch(enabled=enabled, actor=actor, at=at)
        return attrs.evolve(self, feature_history=(*self.feature_history, switch))

    def require_feature(self, option: str, value: object = True) -> None:
        """Raise unless the feature is on; for options that only exist with it.

        Raises:
            FeatureDisabledError: the feature is off.
        """
        if not self.feature_enabled:
            raise FeatureDisabledError(
                f"{option}: needs tracking consent switched on for project "
                f"{self.project_id!r}: {value!r}"
            )
