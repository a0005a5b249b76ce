"""Every task of the project runs through one of these sessions."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).parent
TEST_EXTRAS = ".[test]"


def _install_built_package(session: nox.Session, *extra: str) -> None:
    """Build a wheel and install it, so tests see what users get, not src/."""
    dist = session.create_tmp()
    session.install("build")
    session.run("python", "-m", "build", "--wheel", "--outdir", dist, str(ROOT))
    wheel = next(Path(dist).glob("trackconsent-*.whl"))
    session.install("--force-reinstall", "--no-deps", str(wheel))
    session.install(str(wheel), *extra)
    for old in Path(dist).glob("*.whl"):
        old.unlink()


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite against the installed wheel."""
    _install_built_package(session, "pytest>=8", "hypothesis>=6.100")
    requirements = _test_requirements()
    if requirements:
        session.install(*requirements)
    session.run("pytest", *session.posargs, env={"PYTHONHASHSEED": "0"})


def _test_requirements() -> list[str]:
    path = ROOT / "tests" / "requirements.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Run mypy in strict mode on the package."""
    session.install("mypy>=1.10", "-e", ".[test]", *_test_requirements())
    session.install(*_typing_requirements())
    session.run("mypy")


def _typing_requirements() -> list[str]:
    return ["types-python-dateutil"]


@nox.session
def example(session: nox.Session) -> None:
    """Import the bundled example contacts into a fresh SQLite file and report."""
    session.install(".")
    db = Path(session.create_tmp()) / "example.db"
    if db.exists():
        db.unlink()
    rejects = db.with_suffix(".rejected.csv")
    session.run(
        "trackconsent",
        "import",
        str(ROOT / "examples" / "contacts.csv"),
        "--db",
        str(db),
        "--apply-good-rows",
        "--rejects",
        str(rejects),
        "--column",
        "id=Email Address",
        "--column",
        "hasTrackingConsent=Tracking OK",
        "--column",
        "dtTrackingConsent=LAST_CHANGED",
        "--timezone",
        "UTC",
        "--locale",
        "fr",
        "--no-progress",
        success_codes=[0, 1],
    )
    session.run("python", str(ROOT / "examples" / "show_contacts.py"), str(db))


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks; each figure is printed beside its baseline."""
    session.install(".[test]", *_test_requirements())
    env = {"PYTHONHASHSEED": "0"}
    scale = os.environ.get("TRACKCONSENT_BENCH_SCALE", "1")
    env["TRACKCONSENT_BENCH_SCALE"] = scale
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs, env=env)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning fails the build."""
    session.install("-r", str(ROOT / "docs" / "requirements.txt"), str(ROOT))
    site = Path(session.create_tmp()) / "site"
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(ROOT / "mkdocs.yml"),
        "--site-dir",
        str(site),
        *session.posargs,
        # Material prints a banner about its successor on every build.
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
