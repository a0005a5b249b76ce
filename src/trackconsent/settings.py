"""Per-project settings: the feature switch and the rule for never-asked contacts."""

from __future__ import annotations

import enum
import itertools
from datetime import datetime
from typing import Any

import attrs

from trackconsent.errors import FeatureDisabledError, InvalidValueError
from trackconsent.model import require_aware

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
    """One switching of the feature: on or off, by whom, when."""

    enabled: bool
    actor: str
    at: datetime = attrs.field()

    @at.validator
    def _check_at(self, _attribute: attrs.Attribute[Any], value: datetime) -> None:
        require_aware("at", value)


def _ordered(
    _instance: object,
    _attribute: attrs.Attribute[Any],
    switches: tuple[FeatureSwitch, ...],
) -> None:
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

    project_id: str = "default"
    regime: Regime = attrs.field(default=Regime.OPT_OUT)
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
