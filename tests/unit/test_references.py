"""Every document a docstring or comment cites exists, down to the section it names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    path
    for folder in ("common", "ingest", "matcher", "notifier", "revotp", "tests")
    for path in (ROOT / folder).rglob("*.py")
]
# "docs/api.md, Event streams" and "README, Configuration": a document, then one of its headings.
CITATION = re.compile(r"(docs/[a-z_]+\.md|README), ([A-Z][A-Za-z]+(?: [A-Za-z]+)*)")


def headings(document: Path) -> set[str]:
    return {line.lstrip("#").strip() for line in document.read_text().splitlines() if line.startswith("#")}


def test_every_cited_section_exists():
    cited = {(match[1], match[2]) for path in SOURCES for match in CITATION.finditer(path.read_text())}
    assert cited, "no citation found: the pattern no longer matches how the code cites"
    missing = {
        (document, section)
        for document, section in cited
        if not any(
            heading.startswith(section)
            for heading in headings(ROOT / ("README.md" if document == "README" else document))
        )
    }
    assert not missing


def test_no_file_cites_the_contract_by_a_path_outside_the_repository():
    assert not [path.name for path in SOURCES if re.search(r"(?<!docs/)\bAPI\.md\b", path.read_text())]
