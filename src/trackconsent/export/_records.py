"""Writing a stream of records as a JSON file and, when flat enough, a CSV twin.

Records are written one per line inside a JSON array, so neither file is ever
held whole in memory: a source of a million records costs the memory of one
record plus the list of its column names.

A source is *tabular* when no value anywhere in it is a list: nested mappings
become ``parent.child`` columns. Its CSV twin has one row per record, columns
in order of first appearance, and cells that are strings as they are, empty
for no value, and anything else written as in JSON (``true``, ``3.5``).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import hashlib
import io
import json
import math
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from typing import IO, Any, Final

import attrs

from trackconsent.errors import FieldError, InvalidValuesError

__all__ = [
    "SpooledSource",
    "cell",
    "digest_and_size",
    "flatten",
    "plain",
    "spool_object",
    "spool_records",
]

_MAX_ERRORS: Final = 50
_CHUNK: Final = 1 << 20
_SCALARS: Final = (str, int, float, bool, type(None))
_PLAIN: Final = frozenset({str, int, bool, type(None)})


@attrs.define
class SpooledSource:
    """One source written to temporary files, ready to be archived.

    Attributes:
        json_file: The JSON file, positioned anywhere.
        csv_file: The CSV twin, or None when the source is not tabular.
        records: How many records were written; None for a single object.
    """

    json_file: IO[bytes]
    csv_file: IO[bytes] | None
    records: int | None


def plain(value: object, path: str, errors: list[FieldError]) -> Any:
    """Return ``value`` as plain JSON data; note what cannot be converted.

    Dates and times become ISO 8601 text, decimals and UUIDs text, enums their
    value. Anything else that JSON cannot hold is reported in ``errors`` under
    ``path`` (by type name: values may be personal data) and becomes None.
    """
    if isinstance(value, Mapping):
        return _plain_mapping(value, path, errors)
    if isinstance(value, list | tuple):
        return [plain(item, f"{path}[{n}]", errors) for n, item in enumerate(value)]
    if isinstance(value, enum.Enum):
        return plain(value.value, path, errors)
    return _plain_scalar(value, path, errors)


def _plain_scalar(value: object, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(FieldError(path, "not a finite number", type(value).__name__))
        return None
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    errors.append(FieldError(path, "not representable in JSON", type(value).__name__))
    return None


def _plain_mapping(
    value: Mapping[Any, object], path: str, errors: list[FieldError]
) -> dict[str, Any]:
    result = {}
    for key, item in value.items():
        if type(key) is not str:
            errors.append(FieldError(path, "key is not text", type(key).__name__))
        elif type(item) in _PLAIN:
            # Most values are already plain: skip building their path.
            result[key] = item
        else:
            result[key] = plain(item, f"{path}.{key}", errors)
    return result


def spool_object(value: Mapping[str, object], what: str) -> SpooledSource:
    """Write one mapping as an indented JSON object; no CSV twin.

    Raises:
        InvalidValuesError: parts of it cannot be written as JSON.
    """
    errors: list[FieldError] = []
    data = plain(value, what, errors)
    if errors:
        raise InvalidValuesError(errors, what=what)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller's stack
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    spool.write(text.encode("utf-8"))

    return SpooledSource(spool, None, None)


def spool_records(records: Iterable[object], what: str) -> SpooledSource:
    """Write records as a JSON array, one per line, and a CSV twin if tabular.

    Args:
        records: Mappings of text keys; read once.
        what: The source's name, used in error paths such as ``orders[3].total``.

    Raises:
        InvalidValuesError: some records are not mappings or hold values JSON
            cannot (up to 50 are listed), after the whole source was read.
    """
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller's stack
    try:
        return _spool_into(spool, records, what)
    except BaseException:
        spool.close()
        raise


def _spool_into(
    spool: IO[bytes], records: Iterable[object], what: str
) -> SpooledSource:
    body = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    with body:
        errors: list[FieldError] = []
        count = 0
        with _text(spool) as out, _text(body) as rows:
            table = _Table(rows)
            out.write("[")
            for count, record in enumerate(records, start=1):
                data = _record(record, f"{what}[{count - 1}]", errors)
                table.add(data)
                out.write("\n" if count == 1 else ",\n")
                out.write(json.dumps(data, ensure_ascii=False))
            out.write("\n]\n" if count else "]\n")
        if errors:
            raise InvalidValuesError(errors[:_MAX_ERRORS], what=what)
        # Records with no fields at all would make a CSV of blank lines.
        twin = None
        if table.tabular and (table.columns or not count):
            twin = _csv_twin(spool, body if table.rows_fit else None, table.columns)

    return SpooledSource(spool, twin, count)


def _record(record: object, path: str, errors: list[FieldError]) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        errors.append(FieldError(path, "not a mapping", type(record).__name__))
        return {}
    if len(errors) >= _MAX_ERRORS:
        # Keep reading to the end so the source is drained, but stop noting.
        return _plain_mapping(record, path, [])
    return _plain_mapping(record, path, errors)


class _Table:
    """Follows whether records are flat enough for CSV, writing rows meanwhile.

    While records bring no column after the first row is written, each row is
    complete and goes straight to the body. A later new column means earlier
    rows lack a cell: then the twin is rebuilt from the JSON file at the end.
    """

    def __init__(self, rows: io.TextIOWrapper) -> None:
        self.tabular = True
        self.rows_fit = True
        self.columns: dict[str, None] = {}
        self._writer = csv.writer(rows, lineterminator="\r\n")
        self._written = 0

    def add(self, record: dict[str, Any]) -> None:
        if not self.tabular:
            return
        flat = flatten(record)
        if flat is None:
            self.tabular = False
            return
        for column in flat:
            if column not in self.columns:
                self.columns[column] = None
                self.rows_fit = self.rows_fit and not self._written
        if self.rows_fit:
            self._writer.writerow([cell(flat.get(column)) for column in self.columns])
            self._written += 1


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any] | None:
    """Return the record with nested mappings as dotted keys; None if not flat."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        column = prefix + key
        kind = type(value)
        if kind is list:
            return None
        if kind is dict:
            inner = flatten(value, column + ".")
            if inner is None or inner.keys() & flat.keys():
                return None
            flat.update(inner)
        elif column in flat:
            return None
        else:
            flat[column] = value
    return flat


def cell(value: object) -> str:
    """Return a CSV cell: text as is, empty for None, anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value)


def _csv_twin(
    spool: IO[bytes], body: IO[bytes] | None, columns: Mapping[str, None]
) -> IO[bytes]:
    """Write the header, then the rows: the body as written, or from the JSON."""
    twin = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller's stack
    header = list(columns)
    with _text(twin) as out:
        writer = csv.writer(out, lineterminator="\r\n")
        if header:
            writer.writerow(header)
        if body is None:
            _rows_from_json(spool, header, writer)
    if body is not None:
        body.seek(0)
        shutil.copyfileobj(body, twin, _CHUNK)

    return twin


def _rows_from_json(spool: IO[bytes], header: list[str], writer: Any) -> None:
    spool.seek(0)
    lines = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
    for line in lines:
        if line.startswith("{"):
            flat = flatten(json.loads(line.rstrip(",\n"))) or {}
            writer.writerow([cell(flat.get(column)) for column in header])
    lines.detach()


class _text:  # noqa: N801 - used like a function, as ``with _text(spool)``
    """A UTF-8 text view of a binary file that leaves the file open after use."""

    def __init__(self, binary: IO[bytes]) -> None:
        self._wrapper = io.TextIOWrapper(
            binary,
            encoding="utf-8",
            newline="",
            write_through=False,
        )

    def __enter__(self) -> io.TextIOWrapper:
        return self._wrapper

    def __exit__(self, *_exc: object) -> None:
        self._wrapper.flush()
        self._wrapper.detach()


def digest_and_size(stream: IO[bytes]) -> tuple[str, int]:
    """Return the SHA-256 (hex) and the length of a file's whole content."""
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while block := stream.read(_CHUNK):
        digest.update(block)
        size += len(block)

    return digest.hexdigest(), size
