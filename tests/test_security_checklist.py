"""docs/security.md, the ASVS 4.0.3 Level 2 checklist, stays true to the tests it cites.

The page lists 40 requirements, each under its chapter with a status and the tests that show
it (``tests/<file>.py::<test>``). This fails when a cited test is renamed or removed, when a
requirement is missing, listed twice or under the wrong chapter, or has no status; a
requirement MET or PARTLY MET must cite a test, PARTLY MET must say what is missing (``Gap``)
and NOT APPLICABLE why (``Reason``). No database: it reads files only.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKLIST = REPO / "docs" / "security.md"

REQUIREMENTS = {
    "2": ["2.1.1", "2.1.6", "2.1.7", "2.1.9", "2.2.1", "2.4.1", "2.5.5", "2.5.7", "2.6.1", "2.8.4", "2.10.4"],
    "3": ["3.2.1", "3.3.1", "3.3.2", "3.4.1", "3.7.1"],
    "4": ["4.1.1", "4.1.3", "4.1.5", "4.2.1", "4.2.2", "4.3.1"],
    "5": ["5.1.4", "5.3.3"],
    "7": ["7.1.1", "7.1.2", "7.2.2", "7.3.3", "7.4.1"],
    "8": ["8.1.4", "8.2.1", "8.3.5", "8.3.7"],
    "12": ["12.1.1", "12.1.2", "12.2.1", "12.4.1", "12.4.2"],
    "13": ["13.1.5", "13.2.2"],
}
STATUSES = ("MET", "PARTLY MET", "NOT APPLICABLE")

CHAPTER = re.compile(r"^## V(\d+)\b", re.MULTILINE)
REQUIREMENT = re.compile(r"^### (\d+\.\d+\.\d+)\b", re.MULTILINE)
STATUS = re.compile(r"^- \*\*Status:\*\* (.+?)\s*$", re.MULTILINE)
# tests/<path>.py::<name>, or ::<Class>::<name>; a [parameter] suffix is allowed and ignored.
CITATION = re.compile(r"(tests/[\w/]+\.py)::([A-Za-z_]\w*(?:::[A-Za-z_]\w*)?)(\[[^\]`\s]*\])?")


def _text() -> str:
    return CHECKLIST.read_text(encoding="utf-8")


def blocks(text: str) -> list[tuple[str, str, str]]:
    """``(chapter, requirement id, block text)`` for every ``###`` requirement, in page order."""
    found = []
    chapters = [(m.start(), m.group(1)) for m in CHAPTER.finditer(text)]
    heads = list(REQUIREMENT.finditer(text))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        next_chapter = next((start for start, _ in chapters if start > head.start()), len(text))
        chapter = next((number for start, number in reversed(chapters) if start < head.start()), "")
        found.append((chapter, head.group(1), text[head.start() : min(end, next_chapter)]))
    return found


def citations(text: str) -> list[tuple[str, str]]:
    """Every cited ``(file, name)``, once each, in page order (a parameter suffix dropped)."""
    return list(dict.fromkeys((m.group(1), m.group(2)) for m in CITATION.finditer(text)))


@cache
def defined_tests(path: str) -> frozenset[str]:
    """Names a test id may take in ``path``: module-level functions, and ``Class::method``
    and plain ``method`` for the methods of its classes."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"), filename=path)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names |= {item.name, f"{node.name}::{item.name}"}
    return frozenset(names)


def test_the_page_lists_exactly_the_forty_requirements_once_each_under_their_chapter():
    listed = blocks(_text())
    ids = [requirement for _, requirement, _ in listed]
    expected = [requirement for chapter in REQUIREMENTS.values() for requirement in chapter]
    assert len(expected) == 40
    assert sorted(ids) == sorted(expected), (set(expected) - set(ids), set(ids) - set(expected))
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for chapter, requirement, _ in listed:
        assert requirement.split(".")[0] == chapter, f"{requirement} is under V{chapter}"
        assert requirement in REQUIREMENTS[chapter]


@pytest.mark.parametrize(
    ("requirement", "block"), [(r, b) for _, r, b in blocks(_text())], ids=[r for _, r, _ in blocks(_text())]
)
def test_each_requirement_has_one_status_and_what_that_status_needs(requirement, block):
    statuses = STATUS.findall(block)
    assert len(statuses) == 1, f"{requirement}: {len(statuses)} status lines"
    (status,) = statuses
    assert status in STATUSES, f"{requirement}: {status!r} is not one of {STATUSES}"
    assert "- **Requirement:**" in block, requirement
    if status in ("MET", "PARTLY MET"):
        assert citations(block), f"{requirement} is {status} without a test"
        assert "- **Code:**" in block, requirement
    if status == "PARTLY MET":
        assert "- **Gap:**" in block, f"{requirement}: say what is missing"
    if status == "NOT APPLICABLE":
        assert "- **Reason:**" in block, f"{requirement}: say why"


def test_the_page_cites_tests_and_the_parser_reads_the_forms_a_citation_takes():
    assert len(citations(_text())) > 100
    sample = "`tests/a.py::test_x[2-b]`, tests/sub/b.py::TestThing::test_y and tests/c.py::test_z."
    assert citations(sample) == [
        ("tests/a.py", "test_x"),
        ("tests/sub/b.py", "TestThing::test_y"),
        ("tests/c.py", "test_z"),
    ]


def test_methods_of_classes_count_as_defined(tmp_path, monkeypatch):
    source = "def test_a():\n    pass\n\nclass TestB:\n    def test_c(self):\n        pass\n"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(source)
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    defined_tests.cache_clear()
    try:
        assert defined_tests("tests/test_sample.py") == {"test_a", "test_c", "TestB::test_c"}
    finally:
        defined_tests.cache_clear()


@pytest.mark.parametrize(("path", "name"), citations(_text()), ids=[f"{p}::{n}" for p, n in citations(_text())])
def test_every_cited_test_exists(path, name):
    assert (REPO / path).is_file(), f"{path} does not exist"
    assert name in defined_tests(path), f"{path} defines no test {name}"
