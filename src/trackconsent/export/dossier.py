"""Everything held on one contact, collected into one archive.

`export_contact` writes, for one contact:

- ``profile.json``: id, channels, the host's profile fields and the tracking
  consent in force;
- ``consent_history.json`` and its CSV twin: every consent event with its
  evidence, and the hash-chain digests when the store can give them;
- ``<provider>.json`` for each `DataProvider` the host passes (sending
  history, engagement, visits, form submissions, orders ...), and a CSV twin
  for each provider whose records are flat (see `trackconsent.export`'s
  README text in the archive);
- ``README.txt`` saying what each file holds, and ``manifest.json`` with each
  file's size and SHA-256.

Only the contact's own data is asked for: the store's history of that contact,
and each provider called with that contact's id. Records are streamed through
temporary files, so a history of a million events keeps memory flat. Every
export is recorded in an `ExportLog`, without the data. Nothing here reads the
clock: the caller passes ``now`` and ``actor``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import IO, Any, Final, Protocol, runtime_checkable

import attrs

from trackconsent.errors import (
    ExportError,
    FieldError,
    InvalidValueError,
    InvalidValuesError,
)
from trackconsent.export._names import visible_text
from trackconsent.export._records import (
    SpooledSource,
    digest_and_size,
    spool_object,
    spool_records,
)
from trackconsent.export.archives import (
    ArchiveFormat,
    ArchiveWriter,
    Target,
    archive_writer,
    safe_file_name,
)
from trackconsent.export.audit import ExportLog, ExportRecord
from trackconsent.ledger import ChainLink
from trackconsent.model import ConsentEvent, Contact, require_aware
from trackconsent.storage.base import ConsentStore

__all__ = [
    "RESERVED_NAMES",
    "DataProvider",
    "LinkedHistory",
    "ProviderFetch",
    "export_contact",
]

log = logging.getLogger(__name__)

ProviderFetch = Callable[[str], Iterable[Mapping[str, object]]]
"""A host's callable: given a contact id, yield that contact's records."""

RESERVED_NAMES: Final = frozenset({"profile", "consent_history", "readme", "manifest"})
"""File names trackconsent writes itself; no provider may take them."""

_PROFILE: Final = (
    "The contact's profile: id, channels (email, phone, device tokens), the "
    "platform's profile fields, and the tracking consent in force "
    "(hasTrackingConsent: true, false or null when never asked; "
    "dtTrackingConsent: the moment of that answer)."
)
_HISTORY_CHAINED: Final = (
    "Every tracking consent answer recorded for the contact, in the order it "
    "was recorded: what was answered, when it happened and was recorded, "
    "through what, by whom, the evidence kept (form, message, workflow, IP "
    "address, user agent, wording version), and the digests of the hash chain "
    "that proves the history has not been altered."
)
_HISTORY_LISTED: Final = (
    "Every tracking consent answer recorded for the contact, newest first: "
    "what was answered, when it happened and was recorded, through what, by "
    "whom, and the evidence kept (form, message, workflow, IP address, user "
    "agent, wording version)."
)
_NO_ANSWER: Final = (
    "No tracking consent answer is held for this contact: it was never asked, "
    "or its answers were never recorded here. consent_history.json is empty "
    "and the profile's hasTrackingConsent is null."
)
_CSV_TWIN: Final = "The same records as {name}, one row per record."
_README: Final = "This file."
_MANIFEST: Final = "The size and SHA-256 checksum of every other file."


def _name_rule(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(attribute.name, "must be non-empty text", value)
    if safe_file_name(value).casefold() in RESERVED_NAMES:
        raise InvalidValueError(
            attribute.name, "reserved for trackconsent's own files", value
        )


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValueError(attribute.name, "must be text", type(value).__name__)


def _callable(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not callable(value):
        raise InvalidValueError(attribute.name, "not callable", type(value).__name__)


@attrs.frozen
class DataProvider:
    """A source of the host's own records on a contact.

    Attributes:
        name: Names the source's files (``<name>.json``, ``<name>.csv``); any
            text, cleaned into one flat, safe file name by `safe_file_name`
            (``a/b`` gives ``a_b.json``: never a folder). ``profile``,
            ``consent_history``, ``README`` and ``manifest`` are taken.
        fetch: Called once with the contact id; yields mappings of that
            contact's records, text keys, values JSON can hold (dates, times,
            decimals, UUIDs and enums are turned into text). It may be a
            generator: records are read one at a time.
        description: What the records are, for the archive's README.txt, where
            it is one line: control characters and line breaks become spaces,
            invisible format characters (bidi overrides ...) too.
    """

    name: str = attrs.field(validator=_name_rule)
    fetch: ProviderFetch = attrs.field(validator=_callable)
    description: str = attrs.field(default="", validator=_text)


@runtime_checkable
class LinkedHistory(Protocol):
    """A store that streams a contact's hash-chain links in append order.

    `trackconsent.SQLiteStore` and `trackconsent.MemoryStore` do. For any other
    `ConsentStore`, the export falls back to `ConsentStore.history`, which
    lists the whole history at once and carries no digests.
    """

    def iter_links(self, contact_id: str) -> Iterator[ChainLink]:
        """Yield the contact's links, oldest recorded first."""
        ...


@attrs.frozen
class _File:
    """One file of the dossier, spooled, before it gets its member name."""

    name: str
    description: str
    stream: IO[bytes]
    records: int | None
    twin: bool = False


def export_contact(
    contact: Contact | str,
    out: Target,
    *,
    store: ConsentStore,
    log: ExportLog,
    actor: str,
    now: datetime,
    providers: Sequence[DataProvider] = (),
    fmt: ArchiveFormat | str = ArchiveFormat.RAR,
    password: str | None = None,
    compress: bool = False,
    writer: ArchiveWriter | None = None,
) -> ExportRecord:
    """Write an archive of everything held on one contact, and record it.

    Args:
        contact: The contact, or only its id (the profile then holds the id
            and the consent in force).
        out: A path (created or replaced) or a writable binary file.
        store: Where the contact's consent events are kept.
        log: Where the export is recorded.
        actor: Who asks for the export.
        now: The moment of the export (aware); also the members' time stamp.
        providers: The host's data providers, each with a distinct name.
        fmt: ``rar`` (the default), ``7z`` or ``zip``.
        password: Encrypt the archive (7z only).
        compress: For RAR, compress through the ``rar`` program.
        writer: A ready writer to use instead of ``fmt``, ``password`` and
            ``compress``.

    Returns:
        The entry recorded in ``log``.

    Raises:
        InvalidValueError: a bad argument, or provider records JSON cannot
            hold (`InvalidValuesError`, listing them).
        ToolMissingError: RAR compression asked for without ``rar`` on PATH.
        ExportError: the archive could not be written.
        StorageError: the store or the log failed.
    """
    person = contact if isinstance(contact, Contact) else Contact(id=contact)
    _check_arguments(actor, now, providers)
    archive = writer
    if archive is None:
        archive = archive_writer(fmt, mtime=now, password=password, compress=compress)
    with ExitStack() as stack:
        files = _collect(person, store, providers, stack)
        manifest = _archive(archive, files, person.id, now)
        archive.finish(out)
    record = ExportRecord(
        contact_id=person.id,
        actor=actor,
        at=now,
        format=archive.format,
        encrypted=archive.encrypted,
        files=len(manifest["files"]) + 1,
        size=sum(entry["size"] for entry in manifest["files"]) + manifest["size"],
        manifest_sha256=manifest["sha256"],
    )
    _record(log, record, out)

    return record


def _check_arguments(actor: str, now: datetime, providers: Sequence[object]) -> None:
    errors: list[FieldError] = []
    if not isinstance(actor, str) or not actor.strip():
        errors.append(FieldError("actor", "must be non-empty text", actor))
    try:
        require_aware("now", now)
    except InvalidValueError as error:
        errors.append(error.error)
    seen: set[str] = set()
    for n, provider in enumerate(providers):
        if not isinstance(provider, DataProvider):
            errors.append(FieldError(f"providers[{n}]", "not a DataProvider", provider))
            continue
        key = safe_file_name(provider.name).casefold()
        if key in seen:
            errors.append(
                FieldError(f"providers[{n}].name", "used twice", provider.name)
            )
        seen.add(key)
    if errors:
        raise InvalidValuesError(errors, what="export_contact arguments")


def _collect(
    person: Contact,
    store: ConsentStore,
    providers: Sequence[DataProvider],
    stack: ExitStack,
) -> list[_File]:
    """Spool every source of the dossier to temporary files."""
    consent = store.status(person.id)
    profile = {
        "id": person.id,
        "channels": attrs.asdict(person.channels),
        "fields": person.fields,
        **consent.as_fields(),
    }
    files = _files("profile", _PROFILE, spool_object(profile, "profile"), stack)
    chained = isinstance(store, LinkedHistory)
    history = spool_records(_history(store, person.id), "consent_history")
    description = _HISTORY_CHAINED if chained else _HISTORY_LISTED
    files += _files("consent_history", description, history, stack)
    for provider in providers:
        records = spool_records(provider.fetch(person.id), provider.name)
        text = provider.description or f"Records held under {provider.name!r}."
        files += _files(safe_file_name(provider.name), text, records, stack)

    return files


def _files(
    stem: str, description: str, spooled: SpooledSource, stack: ExitStack
) -> list[_File]:
    stack.callback(spooled.json_file.close)
    found = [_File(f"{stem}.json", description, spooled.json_file, spooled.records)]
    if spooled.csv_file is not None:
        stack.callback(spooled.csv_file.close)
        found.append(
            _File(f"{stem}.csv", _CSV_TWIN, spooled.csv_file, spooled.records, True)
        )
    return found


def _history(store: ConsentStore, contact_id: str) -> Iterator[dict[str, object]]:
    """Yield the contact's events as records, streaming when the store can."""
    if isinstance(store, LinkedHistory):
        for link in store.iter_links(contact_id):
            record = _event_record(link.event, contact_id)
            record["previous_digest"] = link.previous
            record["digest"] = link.digest
            yield record
    else:
        for event in store.history(contact_id):
            yield _event_record(event, contact_id)


def _event_record(event: ConsentEvent, contact_id: str) -> dict[str, object]:
    # A store bug must never put another contact's answer in this archive.
    if event.contact_id != contact_id:
        raise ExportError(
            f"consent_history: event of another contact: {event.event_id!r}"
        )
    return {
        "event_id": event.event_id,
        "answer": event.answer.value,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "source": event.source.value,
        "actor": event.actor,
        "evidence": attrs.asdict(event.evidence),
    }


def _archive(
    archive: ArchiveWriter, files: list[_File], contact_id: str, now: datetime
) -> dict[str, Any]:
    """Add every file, the README and the manifest; return the manifest."""
    entries: list[dict[str, Any]] = []
    for file in files:
        # A CSV twin follows its JSON file: name that file as it was stored.
        description = file.description
        if file.twin:
            description = _CSV_TWIN.format(name=entries[-1]["name"])
        entries.append(_add(archive, file, description))
    answers = next(f.records for f in files if f.name == "consent_history.json")
    readme = _readme(contact_id, now, archive.format, entries, answers)
    entries.append(_add(archive, _File("README.txt", _README, readme, None), _README))
    manifest: dict[str, Any] = {
        "contact_id": contact_id,
        "exported_at": now.isoformat(),
        "format": archive.format.value,
        "files": [
            {key: value for key, value in entry.items() if key != "description"}
            for entry in entries
        ],
    }
    body = io.BytesIO(
        (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    )
    archive.add("manifest.json", body)
    manifest["sha256"], manifest["size"] = digest_and_size(body)

    return manifest


def _add(archive: ArchiveWriter, file: _File, description: str) -> dict[str, Any]:
    digest, size = digest_and_size(file.stream)
    name = archive.add(file.name, file.stream)
    entry: dict[str, Any] = {"name": name, "size": size, "sha256": digest}
    if file.records is not None:
        entry["records"] = file.records
    entry["description"] = description

    return entry


def _readme(
    contact_id: str,
    now: datetime,
    fmt: ArchiveFormat,
    entries: list[dict[str, Any]],
    answers: int | None,
) -> io.BytesIO:
    # Text from data gets no control character into the README: a CR or an
    # ESC sequence could rewrite what a terminal shows of it.
    lines = [
        f"Data held on contact {visible_text(contact_id, ' ')}",
        f"Exported {now.isoformat()} as a {fmt.value} archive.",
        "",
        *([_NO_ANSWER, ""] if not answers else []),
        "Files:",
        "",
    ]
    described = [*entries, {"name": "README.txt", "description": _README}]
    described.append({"name": "manifest.json", "description": _MANIFEST})
    for entry in described:
        lines.append(f"- {entry['name']}: {visible_text(entry['description'], ' ')}")
    lines += [
        "",
        "JSON files are UTF-8; lists of records hold one record per line.",
        "CSV files are UTF-8, comma-separated, with a header row. A nested",
        "field is a column named parent.child; an empty cell means no value;",
        "text is written as it is, anything else as in JSON (true, 3.5).",
        "Each file's SHA-256 checksum is listed in manifest.json.",
        "",
    ]
    return io.BytesIO("\n".join(lines).encode("utf-8"))


def _record(log_: ExportLog, record: ExportRecord, out: Target) -> None:
    """Record the export; if that fails, remove a written archive file."""
    try:
        log_.record(record)
    except BaseException:
        # Only a regular file can be the archive just written: a device or
        # a pipe named as the output is never removed.
        if isinstance(out, str | PathLike) and Path(out).is_file():
            Path(out).unlink()
        raise
    log.info(
        "exported contact %s: %d files, %d bytes, %s",
        record.contact_id,
        record.files,
        record.size,
        record.format.value,
    )
