"""Finding the real services some tests need: PostgreSQL, bsdtar, Chromium.

When a service is missing a test skips with the reason, so the suite runs on
a machine with only Python. `.ci/run` installs every service and sets
``TRACKCONSENT_REQUIRE_SERVICES=1``; then a missing service fails the test
instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

POSTGRES_URL_VARIABLE = "TRACKCONSENT_POSTGRES_URL"


def missing(reason: str) -> None:
    """Skip the calling test, or fail it when services are required."""
    if os.environ.get("TRACKCONSENT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def executable(name: str) -> str:
    """Return the path of an executable on PATH, or skip (fail in CI)."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (.ci/run installs it)")
        raise AssertionError  # unreachable: missing() raises
    return path


def postgres_url() -> str:
    """Return the PostgreSQL URL the tests use, or skip (fail in CI)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        missing(f"{POSTGRES_URL_VARIABLE} is not set (.ci/run starts a server)")
        raise AssertionError  # unreachable: missing() raises
    return url
