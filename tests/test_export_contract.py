"""The contract suites a host would run on its own export adapters."""

from __future__ import annotations

import pytest

import trackconsent.testing


@pytest.mark.skip(
    reason="No contract suite ships for export adapters: trackconsent.testing "
    "holds ConsentStoreContract only; the ArchiveWriter and ExportLog checks "
    "live in trackconsent's own tests (docs/limitations.md)"
)
def test_the_testing_package_offers_contracts_for_the_export_ports() -> None:
    """Given trackconsent.testing, then it offers a contract suite for each
    export port.
    """
    offered = set(trackconsent.testing.__all__)

    assert {"ArchiveWriterContract", "ExportLogContract"} <= offered
