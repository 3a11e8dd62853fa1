"""Markdown output shared by the benchmarks: tables, the machine, and one page of sections.

Each benchmark owns one section of docs/benchmarks.md, between the comments
`<!-- bench:NAME start -->` and `<!-- bench:NAME end -->`, and rewrites only that section.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
NEW_PAGE = "# Benchmarks\n"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def replace_section(page: str, name: str, section: str) -> str:
    """Return the page with the section called `name` replaced, or appended if it is new.

    Raises ValueError when only one of the two markers is present, or they are out of order.
    """
    start_marker = f"<!-- bench:{name} start -->"
    end_marker = f"<!-- bench:{name} end -->"
    block = f"{start_marker}\n{section.strip()}\n{end_marker}"
    start = page.find(start_marker)
    end = page.find(end_marker)
    if start == -1 and end == -1:
        return page.rstrip() + "\n\n" + block + "\n"
    if start == -1 or end == -1 or end < start:
        raise ValueError(
            f"the markers of section {name!r} are incomplete or out of order. "
            f"Expected {start_marker!r} before {end_marker!r}."
        )
    return page[:start] + block + page[end + len(end_marker) :]


def write_section(path: Path, name: str, section: str) -> None:
    """Rewrite one section of the page at `path`, creating the page if it does not exist."""
    page = path.read_text(encoding="utf-8") if path.exists() else NEW_PAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(page, name, section), encoding="utf-8")


def describe_machine() -> str:
    """Describe the CPU, Python and web stack in one line for a results section."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # uvicorn's "auto" settings pick httptools and uvloop when they are installed.
    http = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    packages = ", ".join(
        f"{name} {_version(name)}" for name in ("slack-bolt", "starlette", "uvicorn", "sqlalchemy")
    )
    return (
        f"{cpus} CPUs ({_cpu_model()}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {packages}; uvicorn with {http} and {loop}."
    )


def describe_revision() -> str:
    """Return the short commit of the repository, marked when the tree has changes."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def _git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
    )
    return completed.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
