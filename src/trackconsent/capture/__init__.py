"""Capture: turning what people submit into consent events with proof.

The public names of the capture modules are re-exported here, and only here:
import them from ``trackconsent.capture`` (or from their module). The package
root keeps the core names.

- `forms`: form kinds, the tracking consent field, submissions, rendering.
- `links`: the signed tracking opt-out link.
- `workflows`: a condition on the consent fields and a "set consent" action.
- `wire`: the JSON a host's web services speak, and its JSON Schema.
"""

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
    "TOKEN_PARAMETER",
    "WIRE_CLASSES",
    "ConsentCondition",
    "ConsentField",
    "ConsentHistory",
    "ConsentTest",
    "ContactConsent",
    "Form",
    "FormKind",
    "Identification",
    "LinkKeys",
    "LinkTarget",
    "OptOutOffer",
    "OptOutText",
    "SetConsent",
    "Submission",
    "Widget",
    "Workflow",
    "dumps",
    "handle_submission",
    "is_opt_out_link_offered",
    "json_schema",
    "loads",
    "make_converter",
    "opt_out_link",
    "read_answer",
    "render_consent_field",
    "render_opt_out_form",
    "render_opt_out_offer",
    "run_action",
    "run_workflow",
    "sign_link",
    "structure",
    "unstructure",
    "verify_link",
    "withheld_answer",
]
