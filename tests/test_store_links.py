"""Streaming a contact's hash-chain links from the stores that ship."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from trackconsent import Answer, MemoryStore, SQLiteStore
from trackconsent.testing import make_event


def test_sqlite_links_stream_in_pages_in_append_order(tmp_path: Path) -> None:
    """Given events appended out of order among another contact's, then
    iter_links with small pages yields exactly the contact's links, in append
    order, as links() lists them.
    """
    with SQLiteStore(tmp_path / "s.db") as store:
        for day in (5, 1, 3, 2, 4):
            store.append([make_event("a", Answer.GRANTED, day)])
            store.append([make_event("b", Answer.REFUSED, day)])

        streamed = list(store.iter_links("a", page=2))

        assert streamed == store.links("a")
        assert [link.event.occurred_at.day for link in streamed] == [6, 2, 4, 3, 5]
        assert list(store.iter_links("nobody")) == []


@settings(max_examples=20, deadline=None)
@given(days=st.lists(st.integers(0, 500), unique=True, max_size=12))
def test_memory_links_follow_the_chain(days: list[int]) -> None:
    """Given events in any order, then the memory store's links chain up."""
    store = MemoryStore()
    for day in days:
        store.append([make_event("a", Answer.GRANTED, day)])

    links = list(store.iter_links("a"))

    assert [link.event.occurred_at for link in links] == [
        make_event("a", Answer.GRANTED, day).occurred_at for day in days
    ]
    for before, after in itertools.pairwise(links):
        assert after.previous == before.digest
