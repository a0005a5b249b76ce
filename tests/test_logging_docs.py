"""The Logging page lists every logger, and no record carries personal data."""

from __future__ import annotations

import ast
import logging
import sqlite3
from pathlib import Path

import pytest

import trackconsent
from trackconsent import Answer, ConsentEvent, Evidence, Source, SQLiteStore
from trackconsent.testing import make_event

ROOT = Path(__file__).resolve().parent.parent
LOGGING_PAGE = ROOT / "docs" / "logging.md"


def logger_names(package: Path, prefix: str = "trackconsent") -> set[str]:
    """Return the names of the loggers the package's modules create."""
    names = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        module = ".".join((prefix, *parts)).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getLogger"
                and node.args
            ):
                argument = node.args[0]
                if isinstance(argument, ast.Name) and argument.id == "__name__":
                    names.add(module)
                elif isinstance(argument, ast.Constant):
                    names.add(str(argument.value))
    return names


@pytest.mark.parametrize(
    "name", sorted(logger_names(Path(trackconsent.__file__).parent))
)
def test_every_logger_is_listed_on_the_logging_page(name: str) -> None:
    """Given a logger the installed package creates, then docs/logging.md names
    it in backticks.
    """
    assert f"`{name}`" in LOGGING_PAGE.read_text(encoding="utf-8")


def test_store_logs_hold_no_evidence_and_no_contact_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Given events with an email contact id, an IP and a user agent, appended,
    repeated, upgraded and verified with a break, then no record holds them.
    """
    email, ip, agent = "ann.smith@example.org", "203.0.113.77", "AgentOfAnn/1.0"
    event = ConsentEvent.new(
        contact_id=email,
        answer=Answer.REFUSED,
        occurred_at=make_event("x", Answer.GRANTED, 1).occurred_at,
        recorded_at=make_event("x", Answer.GRANTED, 2).occurred_at,
        source=Source.TRACKING_OPT_OUT_FORM,
        evidence=Evidence(ip=ip, user_agent=agent, form_id="optout"),
    )
    path = tmp_path / "consent.db"
    caplog.set_level(logging.DEBUG, logger="trackconsent")

    with SQLiteStore(path) as store:
        store.append([event, make_event(email, Answer.GRANTED, 0)])
        store.append([event])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET granted = 1 - granted")
    with SQLiteStore(path) as store:
        assert not store.verify().ok

    assert caplog.records, "the store logged nothing to check"
    for record in caplog.records:
        text = record.getMessage()
        assert all(secret not in text for secret in (email, ip, agent)), text
