"""Exports: files a host hands to people, built from what trackconsent holds.

- `dossier`: the contact data export, everything held on one contact.
- `archives`: RAR, 7z and ZIP writers behind one `ArchiveWriter` protocol.
- `audit`: the record of every contact data export.
- `results_log`: the CSV and JSON renderings of a filtered send result.
"""

from trackconsent.export.archives import (
    ArchiveFormat,
    ArchiveWriter,
    RarWriter,
    SevenZipWriter,
    ZipWriter,
    archive_writer,
    read_archive,
    safe_member_name,
)
from trackconsent.export.audit import (
    ExportLog,
    ExportRecord,
    MemoryExportLog,
    SQLiteExportLog,
)
from trackconsent.export.dossier import DataProvider, export_contact
from trackconsent.export.results_log import (
    results_document,
    write_results_csv,
    write_results_json,
)

__all__ = [
    "ArchiveFormat",
    "ArchiveWriter",
    "DataProvider",
    "ExportLog",
    "ExportRecord",
    "MemoryExportLog",
    "RarWriter",
    "SQLiteExportLog",
    "SevenZipWriter",
    "ZipWriter",
    "archive_writer",
    "export_contact",
    "read_archive",
    "results_document",
    "safe_member_name",
    "write_results_csv",
    "write_results_json",
]
