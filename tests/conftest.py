"""Shared test configuration."""

from __future__ import annotations

import os

from hypothesis import settings

# Machines here are shared and noisy: a per-example deadline would fail tests
# for the machine's load, not for the code's behaviour.
settings.register_profile("default", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
