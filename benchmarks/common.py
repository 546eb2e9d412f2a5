"""Shared helpers: paths, the benchmark database, timing and printing."""

from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOT = ROOT / "platform"
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/concord"
FULL_SETTINGS = "concord.settings.bench"
PLAIN_SETTINGS = "concord.settings.bench_plain"
BENCH_SCHEMA = "suffolk"


def python_path() -> str:
    """PYTHONPATH for child processes: the repository root and the ``platform`` source root."""
    parts = [str(ROOT), str(SOURCE_ROOT)]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


def child_env(settings_module: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env["PYTHONPATH"] = python_path()
    return env


# --- The benchmark database -------------------------------------------------------


@dataclass(frozen=True)
class BenchDatabase:
    dev_url: str
    name: str

    @property
    def dev_name(self) -> str:
        return unquote(urlsplit(self.dev_url).path.lstrip("/"))

    def url(self, name: str) -> str:
        return urlsplit(self.dev_url)._replace(path=f"/{name}").geturl()

    @property
    def bench_url(self) -> str:
        return self.url(self.name)

    @property
    def admin_url(self) -> str:
        return self.url("postgres")


def bench_database() -> BenchDatabase:
    """The dev URL from ``DATABASE_URL`` and the benchmarks' database name derived from it."""
    dev_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    dev_name = unquote(urlsplit(dev_url).path.lstrip("/")) or "concord"
    name = os.environ.get("BENCH_DATABASE_NAME") or (dev_name if dev_name.endswith("_bench") else f"{dev_name}_bench")
    if name == dev_name and not name.endswith("_bench"):
        raise SystemExit("benchmarks: refusing to use the development database")
    if not name.endswith("_bench") or name.startswith("test_"):
        raise SystemExit(f"benchmarks: the benchmark database must be named *_bench, not {name!r}")
    return BenchDatabase(dev_url=dev_url, name=name)


def create_database(db: BenchDatabase) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))


def drop_database(db: BenchDatabase) -> bool:
    import psycopg
    from psycopg import sql

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db.name]).fetchone() is None


# --- Timing and printing -------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextmanager
def stopwatch(into: list[float]):
    started = time.perf_counter()
    try:
        yield
    finally:
        into.append(time.perf_counter() - started)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_samples(values: list[float]) -> str:
    return "[" + ", ".join(f"{v * 1000:.0f}" for v in values) + "] ms"


def say(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class Goal:
    name: str
    ratio: float
    target: float
    at_most: bool  # True: ratio <= target is met; False: ratio >= target is met

    @property
    def met(self) -> bool:
        return self.ratio <= self.target if self.at_most else self.ratio >= self.target

    def line(self) -> str:
        sign = "<=" if self.at_most else ">="
        verdict = "met" if self.met else "NOT MET"
        return f"{self.name}: {self.ratio:.2f}x (goal {sign} {self.target:g}x) {verdict}"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
