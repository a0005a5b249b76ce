"""Exports: files a host hands to people, built from trackconsent's values."""

from trackconsent.export.results_log import (
    results_document,
    write_results_csv,
    write_results_json,
)

__all__ = ["results_document", "write_results_csv", "write_results_json"]
