"""Turning what people and files submit into consent events.

`trackconsent.capture.csvio` imports and exports the consent columns of
contact files.
"""

from trackconsent.capture.csvio import (
    LOCALES,
    ColumnMap,
    DateOrder,
    ImportOptions,
    ImportReport,
    LocaleWords,
    RejectedRowsError,
    export_csv,
    import_csv,
)

__all__ = [
    "LOCALES",
    "ColumnMap",
    "DateOrder",
    "ImportOptions",
    "ImportReport",
    "LocaleWords",
    "RejectedRowsError",
    "export_csv",
    "import_csv",
]
