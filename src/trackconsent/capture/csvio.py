"""Import and export of the consent columns of contact files.

`import_csv` reads a CSV file of contacts with an id column and the
``hasTrackingConsent`` / ``dtTrackingConsent`` columns (under any names, see
`ColumnMap`) and appends a `ConsentEvent` with source IMPORT for each row that
changes something. `export_csv` writes the same columns back, so exporting
then importing gives the same state.

How a file is read:

- UTF-8, with or without a byte order mark; bytes that are not UTF-8 stop
  the import, named by their line and offset. The delimiter is the one of
  ``,`` ``;`` or tab that occurs most often, outside quotes, in the header
  line (``,`` when none does). Quoted cells may hold line breaks; lines are
  numbered as in a text editor, a row taking the number of its first line.
  A cell may hold up to 16 MiB (16 777 216 characters); past that the file
  cannot be read on safely and the import stops, naming the line. To read
  such cells, `import_csv` raises the csv module's cell size limit, which is
  the whole process's, to that bound if it is lower (it is never lowered).
- Booleans: true/false, 1/0, yes/no in any case, trimmed; a locale adds its
  own words (`LOCALES`); a marker (such as ``x``) may be configured to mean
  yes. An empty consent cell changes nothing.
- Contact ids are taken exactly as written (the host's ids are opaque);
  a blank one is a bad row.
- Dates: see `trackconsent.capture._csvdates`. The day/month order of numeric
  dates is decided once for the column during a first pass over the file.
- A row with an answer needs a date: the date says when the answer was given,
  and an import made later must not pass its own time off as that moment (nor
  let an old file override a newer answer). Such a row is a bad row. A date
  with an empty answer changes nothing and is not read.
- A date later than the import's ``recorded_at`` is a bad row: an answer
  cannot have been given after it was recorded, and a future date would
  outrank every real answer until that day came.

How a file is applied:

- The answer in force is looked up in batches with
  `ConsentStore.status_many`. A row giving the same answer at the same moment
  changes nothing; any other row becomes an event. A row older than the answer
  in force is recorded in the history and the status stands (the store's rule).
- Events go to the store in batches of ``batch_size`` rows, each batch atomic.
  A crash leaves whole batches, and running the import again completes it:
  applied rows are unchanged the second time, and event ids are derived from
  the content, so nothing is recorded twice for the same actor.
- Bad rows are all reported, with line, column, value and reason. By default
  nothing is applied when any row is bad (`RejectedRowsError`); with
  ``apply_good_rows`` the good rows are applied and the bad ones are written,
  with their reasons, to the ``rejects`` file.

Memory stays flat as the file grows: rows are streamed, twice (three times in
the default mode when numeric dates must be checked once their order is
known), and only one batch is held at a time. Bad rows are kept in memory to be
reported.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, tzinfo
from itertools import chain
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, Protocol

import attrs

from trackconsent.capture._csvdates import DateOrder, DateReader, OrderSurvey, Refused
from trackconsent.errors import (
    ExportError,
    FieldError,
    InvalidValueError,
    InvalidValuesError,
    TrackConsentError,
)
from trackconsent.model import (
    FIELD_DATE,
    FIELD_FLAG,
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Source,
    content_ids,
    require_text,
)
from trackconsent.storage.base import ConsentStore, StatusMap

__all__ = [
    "LOCALES",
    "ColumnMap",
    "DateOrder",
    "ImportOptions",
    "ImportReport",
    "LocaleWords",
    "ProgressCallback",
    "RejectedRowsError",
    "export_csv",
    "import_csv",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, bytes_done, bytes_total)`` while a file is read."""

_ID: Final = "id"
_DELIMITERS: Final = (",", ";", "\t")
_SHOWN: Final = 80  # characters of a header line quoted in an error
_MAX_ID: Final = 1024
_PROGRESS_EVERY: Final = 8192
_CELL_LIMIT: Final = 16 * 1024 * 1024  # characters; see the module docstring
_EXCERPT: Final = 40  # bytes shown either side of bytes that are not UTF-8
_BASE_YES: Final = frozenset({"true", "yes", "1"})
_BASE_NO: Final = frozenset({"false", "no", "0"})
# How far a row's date may lie after the import's recorded_at. None at all: a
# clock-skew allowance here could only be looser than the model's own, and
# events built on the fast path are not checked again.
_CLOCK_SKEW: Final = timedelta(0)
# Frozen attrs classes refuse setattr; building an already-checked event sets
# its slots the way attrs' own __init__ does.
_new: Final = object.__new__
_set: Final = object.__setattr__


@attrs.frozen
class LocaleWords:
    """How one locale writes yes and no, and its usual day/month order.

    Attributes:
        yes: Words meaning granted, lower case.
        no: Words meaning refused, lower case.
        date_order: The order used for numeric dates when no cell of the
            column settles it; None leaves such a column undecided.
    """

    yes: frozenset[str]
    no: frozenset[str]
    date_order: DateOrder | None = None


_DMY: Final = DateOrder.DAY_FIRST

LOCALES: Final[Mapping[str, LocaleWords]] = {
    "en": LocaleWords(frozenset(), frozenset()),
    "en_us": LocaleWords(frozenset(), frozenset(), DateOrder.MONTH_FIRST),
    "en_gb": LocaleWords(frozenset(), frozenset(), _DMY),
    "fr": LocaleWords(frozenset({"oui", "vrai"}), frozenset({"non", "faux"}), _DMY),
    "de": LocaleWords(frozenset({"ja", "wahr"}), frozenset({"nein", "falsch"}), _DMY),
    "es": LocaleWords(
        frozenset({"sí", "si", "verdadero"}), frozenset({"no", "falso"}), _DMY
    ),
    "it": LocaleWords(
        frozenset({"sì", "si", "vero"}), frozenset({"no", "falso"}), _DMY
    ),
    "nl": LocaleWords(frozenset({"ja", "waar"}), frozenset({"nee", "onwaar"}), _DMY),
    "pt": LocaleWords(
        frozenset({"sim", "verdadeiro"}), frozenset({"não", "nao", "falso"}), _DMY
    ),
}
"""Localized yes/no words by locale (``fr``, ``fr_FR`` and ``fr-CA`` all find
``fr``). true/false, 1/0 and yes/no are always understood."""


def _locale_words(name: str | None) -> LocaleWords | None:
    if name is None:
        return None
    key = name.split(".")[0].replace("-", "_").casefold()
    found = LOCALES.get(key) or LOCALES.get(key.split("_")[0])
    if found is None:
        raise InvalidValueError("locale", "not a known locale", name)
    return found


def _optional_zone(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, tzinfo):
        raise InvalidValueError("timezone", "not a tzinfo", value)


def _positive(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, int) or value < 1:
        raise InvalidValueError("batch_size", "not a positive integer", value)


def _marker(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidValueError("marker", "must be a non-empty string", value)


@attrs.frozen
class ColumnMap:
    """Which column of the file holds what.

    The defaults are the names `export_csv` writes. A Mailchimp audience
    export, say, maps as ``ColumnMap(id="Email Address", flag="Tracking OK",
    date="LAST_CHANGED")``.

    Attributes:
        id: The column holding the contact id.
        flag: The column holding the answer (``hasTrackingConsent``).
        date: The column holding when it was given (``dtTrackingConsent``).
    """

    id: str = _ID
    flag: str = FIELD_FLAG
    date: str = FIELD_DATE

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> ColumnMap:
        """Build a map from ``field=Column name`` pairs, as the command line gives.

        The fields are ``id``, ``hasTrackingConsent`` and ``dtTrackingConsent``;
        each may be given once.

        Raises:
            InvalidValuesError: a pair without ``=`` or a column name, with an
                unknown field, or for a field already given; every bad pair
                is listed.
        """
        names = {_ID: _ID, FIELD_FLAG: FIELD_FLAG, FIELD_DATE: FIELD_DATE}
        given: set[str] = set()
        errors = []
        for pair in pairs:
            field, sep, column = (part.strip() for part in pair.partition("="))
            rule = _pair_rule(field, column, given) if sep else "not FIELD=NAME"
            if rule:
                errors.append(FieldError("column", rule, pair))
                continue
            given.add(field)
            names[field] = column
        if errors:
            raise InvalidValuesError(errors, what="column mapping")

        return cls(id=names[_ID], flag=names[FIELD_FLAG], date=names[FIELD_DATE])


def _pair_rule(field: str, column: str, given: set[str]) -> str | None:
    """Why ``field=column`` cannot be used, or None."""
    if field not in (_ID, FIELD_FLAG, FIELD_DATE):
        return f"unknown field, not one of {_ID}, {FIELD_FLAG}, {FIELD_DATE}"
    if field in given:
        return f"{field} given twice"
    if not column:
        return "empty column name"
    return None


@attrs.frozen
class ImportOptions:
    """How `import_csv` reads and applies a file.

    Attributes:
        locale: Adds the locale's yes/no words (`LOCALES`) and its usual
            day/month order.
        timezone: Zone of dates written without an offset; without it such
            dates are refused.
        date_order: Day/month order of numeric dates, when the file's own
            cells and the locale cannot settle it.
        marker: A word meaning yes (such as ``x``), for files that tick a
            box; an empty cell still changes nothing.
        apply_good_rows: Apply the good rows even when some are bad.
        rejects: A file to write the bad rows to, with their reasons. It is
            rewritten by every run, with its header only when no row is bad,
            and may not be the imported file.
        batch_size: Rows looked up and appended per batch.
    """

    locale: str | None = attrs.field(default=None)
    timezone: tzinfo | None = attrs.field(default=None, validator=_optional_zone)
    date_order: DateOrder | None = None
    marker: str | None = attrs.field(default=None, validator=_marker)
    apply_good_rows: bool = False
    rejects: Path | None = attrs.field(
        default=None, converter=attrs.converters.optional(Path)
    )
    batch_size: int = attrs.field(default=10_000, validator=_positive)

    @locale.validator
    def _known(self, _attribute: object, value: str | None) -> None:
        _locale_words(value)


@attrs.frozen
class ImportReport:
    """What `import_csv` did.

    ``rows_read == events_added + unchanged + rejected``.

    Attributes:
        rows_read: Data rows in the file (blank lines excepted).
        events_added: Events the store recorded.
        unchanged: Rows that changed nothing: empty answer, the answer in
            force already, or an event already recorded.
        rejected: Bad rows.
        errors: Every broken rule of the bad rows, in file order.
        applied: False when bad rows stopped the import before anything was
            applied.
        date_order: The day/month order the file's numeric dates (such as
            ``03/04/2024``) were read in. None when no cell needed one (every
            date ISO 8601 or spelled out), whatever the locale or option
            says, and None when the order could not be decided (those cells
            are then bad rows).
    """

    rows_read: int
    events_added: int
    unchanged: int
    rejected: int
    errors: tuple[FieldError, ...] = ()
    applied: bool = True
    date_order: DateOrder | None = None


class RejectedRowsError(InvalidValuesError):
    """Bad rows stopped an import; nothing was applied. ``report`` counts them."""

    def __init__(self, report: ImportReport, *, what: str) -> None:
        """Keep the report; the message lists every error."""
        super().__init__(report.errors, what=what)
        self.report = report


# -- Reading the file ----------------------------------------------------------


@attrs.frozen
class _Header:
    cells: tuple[str, ...]
    delimiter: str
    id: int
    flag: int
    date: int


def _delimiter(line: str) -> str:
    """The candidate occurring most often outside quotes; ``,`` on a tie at 0."""
    outside = "".join(line.split('"')[::2])
    counts = {candidate: outside.count(candidate) for candidate in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _header(
    first: str, cells: Sequence[str], delimiter: str, columns: ColumnMap
) -> _Header:
    """Find the mapped columns in the header line ``first``, split as ``cells``."""
    shown = _shortened(first.rstrip("\r\n"))
    if not shown.strip():
        rule = "no header: the first line must name the columns"
        raise InvalidValuesError([FieldError("line 1", rule, shown)], what="the header")
    cells = tuple(cell.strip() for cell in cells)
    errors = [
        FieldError(f"line 1, {name}", "duplicate column", name)
        for name in sorted({c for c in cells if cells.count(c) > 1})
    ]
    wanted = (("id", columns.id), ("flag", columns.flag), ("date", columns.date))
    for _, name in wanted:
        if name not in cells:
            errors.append(FieldError("line 1", "missing column", name))
    if not any(name in cells for _, name in wanted):
        errors.append(FieldError("line 1", _unsplit_rule(cells, delimiter), shown))
    if errors:
        raise InvalidValuesError(errors, what="the header")
    index = {key: cells.index(name) for key, name in wanted}

    return _Header(cells, delimiter, index["id"], index["flag"], index["date"])


def _unsplit_rule(cells: Sequence[str], delimiter: str) -> str:
    """Why no mapped column is in a header: no delimiter, or other names."""
    if len(cells) <= 1:
        return "none of the columns found (no comma, semicolon or tab to split on)"
    name = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    return f"none of the columns found (split on {name}); map the file's names"


def _shortened(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class _CsvFile:
    """A seekable CSV source read from the start as many times as needed."""

    def __init__(self, binary: BinaryIO, name: str, path: Path | None) -> None:
        self.name = name
        self.path = path
        self._binary = binary
        binary.seek(0, os.SEEK_END)
        self.size = binary.tell()
        binary.seek(0)

    @contextmanager
    def rows(self, columns: ColumnMap) -> Iterator[tuple[_Header, Iterator[Row]]]:
        """Yield the header and an iterator of ``(line, cells)`` data rows."""
        self._binary.seek(0)
        text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
        try:
            try:
                first = text.readline()
                delimiter = _delimiter(first)
                reader = csv.reader(chain([first], text), delimiter=delimiter)
                cells = next(reader, [])
            except csv.Error as error:
                raise _unreadable("line 1", error) from None
            header = _header(first, cells, delimiter, columns)
            yield header, _records(reader)
        except UnicodeDecodeError:
            # The decoder reads ahead, so its error locates nothing: find the
            # bytes again, line by line.
            raise self._undecodable() from None
        finally:
            text.detach()

    def _undecodable(self) -> InvalidValueError:
        """The first bytes that are not UTF-8, with their line and offset."""
        self._binary.seek(0)
        offset = 0
        for number, raw in enumerate(self._binary, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                rule = f"not UTF-8 (byte {offset + error.start} of the file)"
                start = max(0, error.start - _EXCERPT)
                excerpt = raw[start : error.end + _EXCERPT].rstrip(b"\r\n")
                return InvalidValueError(f"line {number}", rule, excerpt)
            offset += len(raw)
        return InvalidValueError("file", "not UTF-8", self.name)

    @property
    def position(self) -> int:
        """Bytes read so far (the decoder reads ahead a little)."""
        return self._binary.tell()


Row = tuple[int, list[str]]


class _Reader(Protocol):
    """What `_records` needs of a csv reader."""

    line_num: int

    def __next__(self) -> list[str]: ...


def _records(reader: _Reader) -> Iterator[Row]:
    """Data rows with the number of their first line; blank lines skipped."""
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _unreadable(f"line {line + 1}", error) from None
        start, line = line + 1, reader.line_num
        if cells:
            yield start, cells


def _unreadable(where: str, error: csv.Error) -> InvalidValueError:
    if str(error).startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        value = f"a cell is longer than {limit} characters"
        return InvalidValueError(where, "not readable CSV", value)
    return InvalidValueError(where, "not readable CSV", str(error))


def _allow_long_cells() -> None:
    """Raise the csv module's cell size limit to 16 MiB at least."""
    # The limit is the process's, shared with the host: only ever raised.
    if csv.field_size_limit() < _CELL_LIMIT:
        csv.field_size_limit(_CELL_LIMIT)


@contextmanager
def _opened(source: str | os.PathLike[str] | BinaryIO) -> Iterator[_CsvFile]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with ExitStack() as stack:
            try:
                binary = stack.enter_context(path.open("rb"))
            except OSError as error:
                rule = f"cannot be opened ({error.strerror})"
                raise InvalidValueError("file", rule, str(source)) from None
            yield _CsvFile(binary, path.name, path)
    else:
        yield _CsvFile(source, getattr(source, "name", "the file"), None)


# -- Turning rows into answers -------------------------------------------------

Parsed = tuple[str, Answer, datetime]


class _RowReader:
    """Check one row's cells and return what it says."""

    def __init__(
        self,
        header: _Header,
        words: Mapping[str, Answer],
        dates: DateReader,
        latest: datetime,
    ) -> None:
        self._header = header
        self._width = len(header.cells)
        self._words = words
        self._dates = dates
        self._latest = latest

    def read(self, line: int, cells: list[str]) -> Parsed | list[FieldError] | None:
        """The row's contact, answer and moment; None if the answer is empty."""
        header = self._header
        if len(cells) != self._width:
            rule = f"expected {self._width} cells, found {len(cells)}"
            return [FieldError(f"line {line}", rule, header.delimiter.join(cells))]
        flag = cells[header.flag]
        answer = self._words.get(flag)
        if answer is None:
            stripped = flag.strip()
            if not stripped:
                return None
            answer = self._words.get(stripped.casefold())
        contact_id = cells[header.id]
        cell = cells[header.date]
        moment: datetime | FieldError | None
        try:
            moment = self._dates.read(cell) if cell else None
            if moment is not None and moment > self._latest:
                raise Refused("later than the import time")
        except Refused as refused:
            moment = FieldError(self._path(line, header.date), refused.rule, cell)
        if (
            answer is None
            or isinstance(moment, FieldError | None)
            or not 0 < len(contact_id) <= _MAX_ID
            or contact_id.isspace()
            or (not contact_id.isprintable() and _id_rule(contact_id))
        ):
            return self._errors(line, cells, answer, moment)

        return contact_id, answer, moment

    def _errors(
        self,
        line: int,
        cells: list[str],
        answer: Answer | None,
        moment: datetime | FieldError | None,
    ) -> list[FieldError]:
        header = self._header
        errors = []
        contact_id = cells[header.id]
        if not contact_id.strip():
            errors.append(FieldError(self._path(line, header.id), "empty", contact_id))
        elif len(contact_id) > _MAX_ID:
            rule = f"longer than {_MAX_ID} characters"
            errors.append(FieldError(self._path(line, header.id), rule, contact_id))
        elif (id_rule := _id_rule(contact_id)) is not None:
            errors.append(FieldError(self._path(line, header.id), id_rule, contact_id))
        if answer is None:
            flag = cells[header.flag]
            rule = "not a yes/no value"
            errors.append(FieldError(self._path(line, header.flag), rule, flag))
        if isinstance(moment, FieldError):
            errors.append(moment)
        elif moment is None:
            rule = "required with an answer"
            errors.append(FieldError(self._path(line, header.date), rule, ""))
        return errors

    def _path(self, line: int, column: int) -> str:
        return f"line {line}, {self._header.cells[column]}"


def _words(options: ImportOptions) -> dict[str, Answer]:
    yes, no = set(_BASE_YES), set(_BASE_NO)
    locale = _locale_words(options.locale)
    if locale is not None:
        yes |= locale.yes
        no |= locale.no
    if options.marker is not None:
        yes.add(options.marker.strip().casefold())
    words = dict.fromkeys(no, Answer.REFUSED)
    words.update(dict.fromkeys(yes, Answer.GRANTED))
    return words


# -- Passes over the file ------------------------------------------------------


class _Rejects:
    """Write bad rows, with their line and reasons, to a CSV file.

    The file is opened before the first pass, so a path that cannot be written
    is refused before any row is read, and a clean run leaves it with its
    header only rather than an earlier run's rows.
    """

    def __init__(self, path: Path | None, stack: ExitStack, source: _CsvFile) -> None:
        self._handle = None if path is None else _open_rejects(path, stack, source)
        self._write: Callable[[Iterable[object]], object] | None = None

    def start(self, header: _Header) -> None:
        """Write the header once: the file's, plus line and reasons."""
        if self._handle is None or self._write is not None:
            return
        writer = csv.writer(self._handle, delimiter=header.delimiter)
        writer.writerow([*header.cells, "rejected line", "rejected because"])
        self._write = writer.writerow

    def add(self, line: int, cells: list[str], errors: list[FieldError]) -> None:
        """Write one bad row as it was read, with its line and reasons."""
        if self._write is not None:
            reasons = "; ".join(str(error) for error in errors)
            self._write([*cells, line, reasons])


def _open_rejects(path: Path, stack: ExitStack, source: _CsvFile) -> IO[str]:
    if source.path is not None and path.exists() and path.samefile(source.path):
        raise InvalidValueError("rejects", "is the file being imported", str(path))
    try:
        return stack.enter_context(path.open("w", encoding="utf-8", newline=""))
    except OSError as error:
        rule = f"cannot be written ({error.strerror})"
        raise InvalidValueError("rejects", rule, str(path)) from None


@attrs.define
class _Tally:
    rows: int = 0
    added: int = 0
    rejected: int = 0
    errors: list[FieldError] = attrs.Factory(list)

    def reject(self, errors: list[FieldError]) -> None:
        self.rejected += 1
        self.errors.extend(errors)


class _Import:
    """One import run: its settings, the file, and the passes over it."""

    def __init__(
        self,
        csvfile: _CsvFile,
        store: ConsentStore,
        events: _EventMaker,
        columns: ColumnMap,
        options: ImportOptions,
        progress: ProgressCallback | None,
    ) -> None:
        self.csvfile = csvfile
        self.store = store
        self.events = events
        self.columns = columns
        self.options = options
        self.progress = progress
        self.words = _words(options)
        self.survey = OrderSurvey()
        locale = _locale_words(options.locale)
        self.fallback = locale.date_order if locale else None

    def reader(self, header: _Header, *, surveying: bool) -> _RowReader:
        order = None if surveying else self.order
        dates = DateReader(
            self.options.timezone, order, self.survey, surveying=surveying
        )
        latest = self.events.recorded_at + _CLOCK_SKEW
        return _RowReader(header, self.words, dates, latest)

    @property
    def order(self) -> DateOrder | None:
        return self.survey.decide(self.options.date_order, self.fallback)

    @property
    def used_order(self) -> DateOrder | None:
        """The order numeric cells were read in; None if the file had none."""
        return self.order if self.survey.numeric else None

    def check(self, phase: str, rejects: _Rejects | None, *, surveying: bool) -> _Tally:
        """Read every row without applying anything; count and collect errors."""
        tally = _Tally()
        with self.csvfile.rows(self.columns) as (header, rows):
            if rejects is not None:
                rejects.start(header)
            reader = self.reader(header, surveying=surveying)
            for line, cells in self._tracked(phase, rows):
                tally.rows += 1
                parsed = reader.read(line, cells)
                if isinstance(parsed, list):
                    tally.reject(parsed)
                    if rejects is not None:
                        rejects.add(line, cells, parsed)
        return tally

    def apply(self, rejects: _Rejects) -> _Tally:
        """Read every row again and append the events of the good ones."""
        tally = _Tally()
        batch: list[Parsed] = []
        size = self.options.batch_size
        with self.csvfile.rows(self.columns) as (header, rows):
            rejects.start(header)
            reader = self.reader(header, surveying=False)
            for line, cells in self._tracked("importing", rows):
                tally.rows += 1
                parsed = reader.read(line, cells)
                if isinstance(parsed, list):
                    tally.reject(parsed)
                    rejects.add(line, cells, parsed)
                elif parsed is not None:
                    batch.append(parsed)
                    if len(batch) >= size:
                        tally.added += self.flush(batch)
                        batch = []
            tally.added += self.flush(batch)
        return tally

    def flush(self, batch: list[Parsed]) -> int:
        """Append the events of the rows that change something; return how many."""
        if not batch:
            return 0
        events = self.events.changes(batch, self.store)
        added = self.store.append(events).added if events else 0
        log.debug("batch of %d rows: %d events added", len(batch), added)
        return added

    def _tracked(self, phase: str, rows: Iterator[Row]) -> Iterator[Row]:
        if self.progress is None:
            yield from rows
            return
        total = self.csvfile.size
        report = self.progress
        report(phase, 0, total)
        for count, row in enumerate(rows, 1):
            yield row
            if not count % _PROGRESS_EVERY:
                report(phase, min(self.csvfile.position, total), total)
        report(phase, total, total)


class _EventMaker:
    """Build the events of a batch: only for rows that differ from the status.

    Every value of an import event is checked before it gets here: the row
    reader checks contact id, answer and moment (never after ``recorded_at``),
    and the constructor checks ``recorded_at`` and ``actor`` by building one
    event the ordinary way.
    Running attrs' validators and `trackconsent.model.content_id` again for
    each of a million rows would cost more than reading the file, so events
    are built directly, with the id from `trackconsent.model.content_ids`,
    which encodes the parts all import events share once. The constructor
    compares that shortcut with `ConsentEvent.new` on a probe and uses
    `ConsentEvent.new` for every row if they ever disagree.
    """

    def __init__(self, recorded_at: datetime, actor: str | None) -> None:
        """Check the run's constants once and pick the way events are built."""
        probe = ConsentEvent.new(
            contact_id='probe "\u00e9"',
            answer=Answer.GRANTED,
            occurred_at=recorded_at,
            recorded_at=recorded_at,
            source=Source.IMPORT,
            actor=actor,
        )
        self.recorded_at = probe.recorded_at
        self.actor = probe.actor
        self._evidence = probe.evidence
        self._id = content_ids(Source.IMPORT, probe.evidence, probe.actor)
        self.event = self._direct
        if self._direct(probe.contact_id, probe.answer, recorded_at) != probe:
            log.warning("event id shortcut disagrees with the model; not used")
            self.event = self._checked

    def changes(self, batch: list[Parsed], store: ConsentStore) -> list[ConsentEvent]:
        """The events of the rows that change the answer in force."""
        statuses = store.status_many(row[0] for row in batch)
        # The answer in force, as (moment, is refusal), updated as earlier
        # rows of the batch are turned into events.
        in_force: dict[str, tuple[datetime, bool] | None] = {}
        events = []
        event = self.event
        for contact_id, answer, moment in batch:
            refused = answer is Answer.REFUSED
            if contact_id in in_force:
                current = in_force[contact_id]
            else:
                current = _in_force(statuses, contact_id)
            if current == (moment, refused):
                continue
            events.append(event(contact_id, answer, moment))
            if current is None or (moment, refused) > current:
                in_force[contact_id] = (moment, refused)
            else:
                in_force[contact_id] = current
        return events

    def _checked(
        self, contact_id: str, answer: Answer, moment: datetime
    ) -> ConsentEvent:
        return ConsentEvent.new(
            contact_id=contact_id,
            answer=answer,
            occurred_at=moment,
            recorded_at=self.recorded_at,
            source=Source.IMPORT,
            actor=self.actor,
        )

    def _direct(
        self, contact_id: str, answer: Answer, moment: datetime
    ) -> ConsentEvent:
        event: ConsentEvent = _new(ConsentEvent)
        _set(event, "event_id", self._id(contact_id, answer, moment))
        _set(event, "contact_id", contact_id)
        _set(event, "answer", answer)
        _set(event, "occurred_at", moment)
        _set(event, "recorded_at", self.recorded_at)
        _set(event, "source", Source.IMPORT)
        _set(event, "evidence", self._evidence)
        _set(event, "actor", self.actor)
        return event


def _id_rule(contact_id: str) -> str | None:
    """The model's rule a contact id breaks (a control character...), if any."""
    try:
        require_text("id", contact_id)
    except InvalidValueError as error:
        return error.rule
    return None


def _in_force(statuses: StatusMap, contact_id: str) -> tuple[datetime, bool] | None:
    state = statuses.state(contact_id)
    if state is ConsentState.UNKNOWN:
        return None
    at = statuses[contact_id].at
    assert at is not None
    return at, state is ConsentState.REFUSED


def import_csv(
    source: str | os.PathLike[str] | BinaryIO,
    store: ConsentStore,
    *,
    recorded_at: datetime,
    actor: str | None = None,
    columns: ColumnMap | None = None,
    options: ImportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the consent columns of a CSV file into a store.

    Args:
        source: A path, or a seekable binary file open for reading.
        store: Where the events go.
        recorded_at: When the import records its events (aware); the caller
            reads the clock, the import never does. A row dated later is a
            bad row.
        actor: Who runs the import; part of each event and of its id.
        columns: Which columns hold the id, the answer and the date.
        options: Locale, zone, date order, marker, bad-row handling, batch size.
        progress: Called now and then with the phase and bytes read.

    Returns:
        What the import did.

    Raises:
        RejectedRowsError: some rows are bad and ``apply_good_rows`` is off;
            nothing was applied, every error is listed.
        InvalidValueError: the file cannot be read as CSV (such as a cell
            over 16 MiB), or its header lacks a mapped column, or an
            argument is wrong.
        StorageError: the store failed; whole batches before it are applied.
    """
    columns = columns or ColumnMap()
    options = options or ImportOptions()
    events = _EventMaker(recorded_at, actor)
    _allow_long_cells()
    with _opened(source) as csvfile, ExitStack() as stack:
        run = _Import(csvfile, store, events, columns, options, progress)
        rejects = _Rejects(options.rejects, stack, csvfile)
        if options.apply_good_rows:
            run.check("checking", None, surveying=True)
            return _report(run.apply(rejects), run.used_order, applied=True)
        has_file = options.rejects is not None
        return _checked_then_applied(run, rejects, has_rejects_file=has_file)


def _checked_then_applied(
    run: _Import, rejects: _Rejects, *, has_rejects_file: bool
) -> ImportReport:
    tally = run.check("checking", None, surveying=True)
    if run.survey.numeric or (tally.rejected and has_rejects_file):
        # Numeric dates were only counted during the survey: read them again
        # in the order now decided (and write the bad rows if asked).
        tally = run.check("checking again", rejects, surveying=False)
    if tally.rejected:
        report = _report(tally, run.used_order, applied=False)
        log.info("import refused: %d bad rows of %d", tally.rejected, tally.rows)
        raise RejectedRowsError(report, what=run.csvfile.name)

    # A clean file still gets its (empty) rejects file, so none is left over
    # from an earlier run.
    return _report(run.apply(rejects), run.used_order, applied=True)


def _report(tally: _Tally, order: DateOrder | None, *, applied: bool) -> ImportReport:
    added = tally.added if applied else 0
    report = ImportReport(
        rows_read=tally.rows,
        events_added=added,
        unchanged=tally.rows - tally.rejected - added,
        rejected=tally.rejected,
        errors=tuple(tally.errors),
        applied=applied,
        date_order=order,
    )
    log.info(
        "import: %d rows, %d events added, %d unchanged, %d rejected",
        report.rows_read,
        report.events_added,
        report.unchanged,
        report.rejected,
    )
    return report


# -- Export --------------------------------------------------------------------


def export_csv(
    store: ConsentStore,
    target: str | os.PathLike[str] | IO[str],
    *,
    columns: ColumnMap | None = None,
    contact_ids: Iterable[str] | None = None,
    delimiter: str = ",",
    batch_size: int = 10_000,
) -> int:
    """Write contacts' consent columns as CSV that `import_csv` reads back.

    ``hasTrackingConsent`` is ``true``, ``false`` or empty (never asked);
    ``dtTrackingConsent`` is ISO 8601 with its offset, or empty.

    Contact ids are written exactly as stored, so the file reads back to the
    same ids. The export does not neutralise spreadsheet formulas: an id
    such as ``=HYPERLINK(...)`` is written as it is, and a spreadsheet
    program opening the file may run it (see the Limitations page).

    Args:
        store: Where the consent comes from.
        target: A path, or a text file open for writing (opened with
            ``newline=""``).
        columns: The column names to write.
        contact_ids: The contacts to write; every contact of the store when
            None.
        delimiter: ``,``, ``;`` or tab.
        batch_size: Contacts looked up per `ConsentStore.status_many` call.

    Returns:
        How many contacts were written.

    Raises:
        InvalidValueError: a wrong delimiter, or a target path that cannot be
            opened for writing (no such folder, a folder, no permission).
        ExportError: writing failed part way (a full disk, a closed pipe);
            what was written before stays.
        StorageError: the store failed.
    """
    columns = columns or ColumnMap()
    if delimiter not in _DELIMITERS:
        raise InvalidValueError("delimiter", "not one of , ; or tab", delimiter)
    ids = store.contact_ids() if contact_ids is None else iter(contact_ids)
    with _writable(target) as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow([columns.id, columns.flag, columns.date])
        written = 0
        for chunk in _chunks(ids, batch_size):
            statuses = store.status_many(chunk)
            for contact_id in chunk:
                writer.writerow(_export_row(contact_id, statuses[contact_id]))
            written += len(chunk)
    log.info("exported %d contacts", written)

    return written


@contextmanager
def _writable(target: str | os.PathLike[str] | IO[str]) -> Iterator[IO[str]]:
    """The target open for writing; OS errors become trackconsent errors."""
    name = str(target) if isinstance(target, str | os.PathLike) else "the stream"
    try:
        with ExitStack() as stack:
            if isinstance(target, str | os.PathLike):
                target = stack.enter_context(_open_for_writing(Path(target)))
            yield target
    except TrackConsentError:
        raise
    except OSError as error:
        # Also a full disk found only when the file is flushed on closing.
        rule = f"cannot be written ({error.strerror or error})"
        raise ExportError(str(FieldError("target", rule, name))) from error


def _open_for_writing(path: Path) -> IO[str]:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        rule = f"cannot be written ({error.strerror})"
        raise InvalidValueError("target", rule, str(path)) from None


def _export_row(contact_id: str, consent: Consent) -> list[str]:
    flag, at = consent.has_tracking_consent, consent.at
    if flag is None or at is None:
        return [contact_id, "", ""]
    return [contact_id, "true" if flag else "false", at.isoformat()]


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
