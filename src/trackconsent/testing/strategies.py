"""Hypothesis strategies for the consent record, for trackconsent's own tests and
for hosts testing their adapters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from trackconsent.model import Answer, ConsentEvent, Evidence, Source

__all__ = [
    "answers",
    "aware_datetimes",
    "awkward_ids",
    "contact_ids",
    "event_lists",
    "events",
    "evidence",
    "offsets",
    "refused_characters",
]

offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)),
    st.sampled_from([0, 60, 120, 330, -300, -480, 840, -720]),
) | st.just(UTC)
"""Fixed UTC offsets that occur in real data, UTC included."""

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=offsets,
)
"""Time zone aware datetimes between 2000 and 2040."""

_safe_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
    min_size=1,
    max_size=24,
).filter(str.strip)

contact_ids = st.sampled_from([f"c{n}" for n in range(6)]) | _safe_text
"""Contact ids, often from a small pool so that events share contacts."""

_AWKWARD = (
    "'\"\\%_*?[]{}$;:/.,<>&#@!`~^|+=-()"
    "\u00a0\u2007\u3000"  # spaces other than U+0020
    "\u00e9e\u0301\u00df\u0130\u03a3\u05d0\u0627\u4e2d\uac00"  # scripts, combining
    "\U0001f600\U0001f3f3\U00010348"  # beyond the basic plane
    "\ue000\U000f0000"  # private use
    "\ufffd\uffff\ufdd0"  # replacement and noncharacters
)

awkward_ids = st.one_of(
    st.text(st.sampled_from(_AWKWARD), min_size=1, max_size=12).filter(str.strip),
    st.builds(
        lambda a, b: f"{a} {b}", st.sampled_from(_AWKWARD), st.sampled_from(_AWKWARD)
    ),
    _safe_text,
    st.sampled_from(["x" * 1024, "\u00e9" * 1024, "\U0001f600" * 1024, " a", "a "]),
).filter(str.strip)
"""Ids the model accepts that stores may mishandle: quotes, SQL and JSON
specials, unusual spaces, combining marks, characters beyond the basic plane,
private-use and noncharacters, and the longest allowed."""

refused_characters = st.characters(
    categories=("Cc", "Cf", "Zl", "Zp")
) | st.sampled_from(["\x00", "\t", "\n", "\x7f", "\x85", "\u200b", "\u202e", "\ud800"])
"""Characters the model refuses in texts: controls, formats such as the
right-to-left override, line and paragraph separators, lone surrogates."""

answers = st.sampled_from(Answer)

evidence = st.builds(
    Evidence,
    form_id=st.none() | _safe_text,
    message_id=st.none() | _safe_text,
    workflow_id=st.none() | _safe_text,
    ip=st.none() | st.ip_addresses().map(str),
    user_agent=st.none() | _safe_text,
    wording_version=st.none() | _safe_text,
)


@st.composite
def events(
    draw: st.DrawFn, contact_id: st.SearchStrategy[str] = contact_ids
) -> ConsentEvent:
    """Draw one consent event with a content-derived id."""
    occurred = draw(aware_datetimes)
    return ConsentEvent.new(
        contact_id=draw(contact_id),
        answer=draw(answers),
        occurred_at=occurred,
        recorded_at=occurred + draw(st.timedeltas(timedelta(0), timedelta(days=400))),
        source=draw(st.sampled_from(Source)),
        evidence=draw(evidence),
        actor=draw(st.none() | _safe_text),
    )


def event_lists(max_size: int = 20) -> st.SearchStrategy[list[ConsentEvent]]:
    """Lists of distinct events (by id) over a few shared contacts."""
    return st.lists(events(), max_size=max_size, unique_by=lambda e: e.event_id)
