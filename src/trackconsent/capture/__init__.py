"""Capture: turning what people submit into consent events with proof.

The public names of the capture modules are re-exported here: import them from
``trackconsent.capture`` (or from their module). The package root keeps the
core names.

- `csvio`: import and export of the consent columns of contact files.
- `forms`: form kinds, the tracking consent field, submissions, rendering.
- `links`: the signed tracking opt-out link.
- `workflows`: a condition on the consent fields and a "set consent" action.
- `wire`: the JSON a host's web services speak, and its JSON Schema.
- `visitor`: the visit tracker's cookies, its script, and posted answers.
- `banner`: the landing-page cookie banner.
"""

from trackconsent.capture.banner import (
    BannerColours,
    BannerConfig,
    BannerPosition,
    banner_answer_event,
    css_colour,
    render_banner,
)
from trackconsent.capture.csvio import (
    LOCALES,
    ColumnMap,
    DateOrder,
    ImportOptions,
    ImportReport,
    LocaleWords,
    RejectedRowsError,
    export_csv,
    import_csv,
)
from trackconsent.capture.forms import (
    ConsentField,
    Form,
    FormKind,
    Identification,
    OptOutOffer,
    OptOutText,
    Submission,
    Widget,
    handle_submission,
    read_answer,
    render_consent_field,
    render_opt_out_form,
    render_opt_out_offer,
    withheld_answer,
)
from trackconsent.capture.links import (
    TOKEN_PARAMETER,
    LinkKeys,
    LinkTarget,
    is_opt_out_link_offered,
    opt_out_link,
    sign_link,
    verify_link,
)
from trackconsent.capture.visitor import (
    CookieScheme,
    PostedAnswer,
    SameSite,
    Via,
    expired_tracking_cookie,
    read_page_view,
    read_posted_answer,
    read_visitor_answer,
    script_answer_event,
    script_file,
    script_tag,
    script_text,
    tracking_cookie,
)
from trackconsent.capture.wire import (
    WIRE_CLASSES,
    ConsentHistory,
    ContactConsent,
    dumps,
    json_schema,
    loads,
    make_converter,
    structure,
    unstructure,
)
from trackconsent.capture.workflows import (
    ConsentCondition,
    ConsentTest,
    SetConsent,
    Workflow,
    run_action,
    run_workflow,
)

__all__ = [
    "LOCALES",
    "TOKEN_PARAMETER",
    "WIRE_CLASSES",
    "BannerColours",
    "BannerConfig",
    "BannerPosition",
    "ColumnMap",
    "ConsentCondition",
    "ConsentField",
    "ConsentHistory",
    "ConsentTest",
    "ContactConsent",
    "CookieScheme",
    "DateOrder",
    "Form",
    "FormKind",
    "Identification",
    "ImportOptions",
    "ImportReport",
    "LinkKeys",
    "LinkTarget",
    "LocaleWords",
    "OptOutOffer",
    "OptOutText",
    "PostedAnswer",
    "RejectedRowsError",
    "SameSite",
    "SetConsent",
    "Submission",
    "Via",
    "Widget",
    "Workflow",
    "banner_answer_event",
    "css_colour",
    "dumps",
    "expired_tracking_cookie",
    "export_csv",
    "handle_submission",
    "import_csv",
    "is_opt_out_link_offered",
    "json_schema",
    "loads",
    "make_converter",
    "opt_out_link",
    "read_answer",
    "read_page_view",
    "read_posted_answer",
    "read_visitor_answer",
    "render_banner",
    "render_consent_field",
    "render_opt_out_form",
    "render_opt_out_offer",
    "run_action",
    "run_workflow",
    "script_answer_event",
    "script_file",
    "script_tag",
    "script_text",
    "sign_link",
    "structure",
    "tracking_cookie",
    "unstructure",
    "verify_link",
    "withheld_answer",
]
