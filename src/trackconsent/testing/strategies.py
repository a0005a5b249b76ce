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
    "contact_ids",
    "event_lists",
    "events",
    "evidence",
    "offsets",
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
    alphabet=st.characters(exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=24,
).filter(str.strip)

contact_ids = st.sampled_from([f"c{n}" for n in range(6)]) | _safe_text
"""Contact ids, often from a small pool so that events share contacts."""

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
