"""Pure policy functions: they take data, including the time, and return decisions."""

from trackconsent.policy.tracking import Decision, is_tracked, tracking_decision

__all__ = ["Decision", "is_tracked", "tracking_decision"]
