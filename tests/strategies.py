"""Hypothesis strategies for trackconsent's tests, in one place.

The consent-record strategies ship with the package (hosts use them with the
contract suite); they are re-exported here beside the ones only our tests use.
"""

from __future__ import annotations

from hypothesis import strategies as st

from trackconsent import (
    Channels,
    Consent,
    ConsentState,
    Contact,
    ProjectSettings,
    Regime,
)
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
    "export_contacts",
    "flat_records",
    "json_values",
    "member_contents",
    "member_names",
    "offsets",
    "project_settings",
    "provider_data",
    "provider_names",
    "provider_records",
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


# --- The contact data export -------------------------------------------------

member_names = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)) | st.sampled_from("/\\.:\x00"),
    max_size=40,
)
"""Any text a name may be made from: separators, dots, controls, emoji."""

member_contents = st.binary(max_size=3000) | st.sampled_from([b"", b"\x00" * 70000])
"""Member bytes, empty and larger-than-a-buffer ones included."""

_json_keys = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="."),
    min_size=1,
    max_size=12,
)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_json_keys, inner, max_size=3)
    ),
    max_leaves=8,
)
"""Values JSON holds: scalars, lists and mappings, nested."""

flat_records = st.dictionaries(
    _json_keys,
    _json_scalars | st.dictionaries(_json_keys, _json_scalars, min_size=1, max_size=2),
    min_size=1,
    max_size=5,
)
"""Records a CSV twin can hold: scalars and mappings of scalars."""

provider_records = st.lists(flat_records, max_size=6) | st.lists(
    st.dictionaries(_json_keys, json_values, max_size=5), max_size=6
)
"""One provider's records: all flat (tabular), or anything JSON holds."""

provider_names = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(str.strip)
"""Names a host may give its data providers."""


@st.composite
def provider_data(draw: st.DrawFn) -> dict[str, list[dict[str, object]]]:
    """Draw a few providers' records by distinct, non-reserved provider name."""
    from trackconsent.export.archives import safe_member_name
    from trackconsent.export.dossier import RESERVED_NAMES

    names = draw(
        st.lists(
            provider_names,
            max_size=3,
            unique_by=lambda name: safe_member_name(name).casefold(),
        ).filter(
            lambda names: (
                not any(
                    safe_member_name(name).casefold() in RESERVED_NAMES
                    for name in names
                )
            )
        )
    )
    return {name: draw(provider_records) for name in names}


@st.composite
def export_contacts(draw: st.DrawFn) -> Contact:
    """Draw a contact with channels and profile fields."""
    return Contact(
        id=draw(contact_ids),
        channels=Channels(
            email=draw(st.none() | st.emails()),
            phone=draw(
                st.none() | st.from_regex(r"\+[1-9][0-9]{6,12}", fullmatch=True)
            ),
            device_tokens=draw(
                st.lists(st.text("abcdef0123456789", min_size=8), max_size=2)
            ),
        ),
        fields=draw(st.dictionaries(_json_keys, json_values, max_size=4)),
    )
