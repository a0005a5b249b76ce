"""``python -m trackconsent``: the same command as ``trackconsent``."""

from trackconsent.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main(prog_name="trackconsent")
