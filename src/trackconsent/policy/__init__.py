"""Pure policy functions: they take data, including the time, and return decisions."""

from trackconsent.policy.results import (
    ENGAGEMENT_OUTCOMES,
    OUTCOMES_BY_CHANNEL,
    UNTRACKED_LABEL,
    ConsentNow,
    Consents,
    Counters,
    Engagement,
    EngagementKind,
    EngagementRecord,
    LookupFailed,
    Message,
    Outcome,
    Rate,
    RecipientResult,
    ResultSet,
    ResultsView,
    TrackingPlan,
    Verdict,
    filter_results,
    record_engagement,
    should_record_send_history,
    tracking_plan,
)
from trackconsent.policy.rules import InjectionRule, Trigger, rule_applies
from trackconsent.policy.segments import SegmentSelection, select_by_history
from trackconsent.policy.tracking import Decision, is_tracked, tracking_decision

__all__ = [
    "Decision",
    "is_tracked",
    "tracking_decision",
]
__all__ += [
    "ENGAGEMENT_OUTCOMES",
    "OUTCOMES_BY_CHANNEL",
    "UNTRACKED_LABEL",
    "ConsentNow",
    "Consents",
    "Counters",
    "Engagement",
    "EngagementKind",
    "EngagementRecord",
    "InjectionRule",
    "LookupFailed",
    "Message",
    "Outcome",
    "Rate",
    "RecipientResult",
    "ResultSet",
    "ResultsView",
    "SegmentSelection",
    "TrackingPlan",
    "Trigger",
    "Verdict",
    "filter_results",
    "record_engagement",
    "rule_applies",
    "select_by_history",
    "should_record_send_history",
    "tracking_plan",
]
