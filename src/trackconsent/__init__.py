"""trackconsent: behavioral tracking consent and data protection for platforms
that send messages.

A host platform imports the policy functions and value classes from here and
plugs in a store. The public names are listed in ``__all__``; everything else
is private or lives in a sub-package named in the documentation.
"""

import logging

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
from trackconsent.settings import FeatureSwitch, ProjectSettings, Regime
from trackconsent.storage import (
    AppendResult,
    ConsentStore,
    MemoryStore,
    SQLiteStore,
    StatusMap,
    VerifyReport,
)

__version__ = "0.1.0"

__all__ = [
    "FIELD_DATE",
    "FIELD_FLAG",
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
    "Decision",
    "Evidence",
    "ExportError",
    "FeatureDisabledError",
    "FeatureSwitch",
    "FieldError",
    "InvalidTokenError",
    "InvalidValueError",
    "InvalidValuesError",
    "MemoryStore",
    "NotFoundError",
    "PageView",
    "ProjectSettings",
    "Regime",
    "SQLiteStore",
    "SchemaVersionError",
    "SiteConfig",
    "Source",
    "StatusMap",
    "StorageError",
    "ToolMissingError",
    "TrackConsentError",
    "VerifyReport",
    "WrongPasswordError",
    "__version__",
    "consent_status",
    "is_tracked",
    "may_set_cookies",
    "should_track_page",
    "tracking_decision",
    "verify_chain",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
