"""The contact data export: a contact's dossier, written as a RAR, 7z or ZIP archive."""

__all__: list[str] = []
