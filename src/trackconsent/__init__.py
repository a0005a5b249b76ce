"""trackconsent: behavioral tracking consent and data protection for platforms
that send messages.

A host platform imports the policy functions and value classes from here and
plugs in a store. The public names are listed in ``__all__``; everything else
is private or lives in a sub-package named in the documentation.
"""

import logging
from typing import TYPE_CHECKING, Any

from trackconsent.errors import (
    ConflictError,
    ExportError,
    FeatureDisabledError,
    FieldError,
    InvalidTokenError,
    InvalidValueError,
    InvalidValuesError,
    NotFoundError,
    SchemaVersionError,
    StorageError,
    ToolMissingError,
    TrackConsentError,
    WrongPasswordError,
)
from trackconsent.ledger import ChainBreak, consent_status, verify_chain
from trackconsent.model import (
    FIELD_DATE,
    FIELD_FLAG,
    Answer,
    Channel,
    Channels,
    Consent,
    ConsentEvent,
    ConsentState,
    Contact,
    Evidence,
    Source,
)
from trackconsent.policy import (
    Decision,
    PageView,
    SiteConfig,
    is_tracked,
    may_set_cookies,
    should_track_page,
    tracking_decision,
)
from trackconsent.policy.results import (
    UNTRACKED_LABEL,
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
from trackconsent.settings import FeatureSwitch, ProjectSettings, Regime
from trackconsent.storage import (
    AppendResult,
    ConsentStore,
    MemoryStore,
    SQLiteStore,
    StatusMap,
    VerifyReport,
)

if TYPE_CHECKING:
    from trackconsent.storage.postgres import PostgresStore as PostgresStore

__version__ = "0.1.0"

__all__ = [
    "FIELD_DATE",
    "FIELD_FLAG",
    "UNTRACKED_LABEL",
    "Answer",
    "AppendResult",
    "ChainBreak",
    "Channel",
    "Channels",
    "ConflictError",
    "Consent",
    "ConsentEvent",
    "ConsentState",
    "ConsentStore",
    "Contact",
    "Counters",
    "Decision",
    "Engagement",
    "EngagementKind",
    "EngagementRecord",
    "Evidence",
    "ExportError",
    "FeatureDisabledError",
    "FeatureSwitch",
    "FieldError",
    "InjectionRule",
    "InvalidTokenError",
    "InvalidValueError",
    "InvalidValuesError",
    "LookupFailed",
    "MemoryStore",
    "Message",
    "NotFoundError",
    "Outcome",
    "PageView",
    "ProjectSettings",
    "Rate",
    "RecipientResult",
    "Regime",
    "ResultSet",
    "ResultsView",
    "SQLiteStore",
    "SchemaVersionError",
    "SegmentSelection",
    "SiteConfig",
    "Source",
    "StatusMap",
    "StorageError",
    "ToolMissingError",
    "TrackConsentError",
    "TrackingPlan",
    "Trigger",
    "Verdict",
    "VerifyReport",
    "WrongPasswordError",
    "__version__",
    "consent_status",
    "filter_results",
    "is_tracked",
    "may_set_cookies",
    "record_engagement",
    "rule_applies",
    "select_by_history",
    "should_record_send_history",
    "should_track_page",
    "tracking_decision",
    "tracking_plan",
    "verify_chain",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """Load `PostgresStore` (and psycopg) only when first asked for."""
    if name == "PostgresStore":
        from trackconsent import storage  # noqa: PLC0415

        return storage.PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
