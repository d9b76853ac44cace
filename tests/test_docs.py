"""Documentation hygiene: every relative link in README.md and docs/*.md resolves (file and
#anchor), every `docs/NAME.md` the code or docs cite exists, and every declared pytest marker is used."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
DOCS_MENTION = re.compile(r"\bdocs/[\w.-]+\.md\b")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _prose(page: Path) -> str:
    """The page without its fenced code blocks (a link-looking string in code is not a link)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def _slug(heading: str, seen: dict[str, int]) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, -N for repeats."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return f"{slug}-{count}" if count else slug


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    return {_slug(m.group(1), seen) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", _prose(page), re.MULTILINE)}


def _relative_links(page: Path) -> list[str]:
    text = _prose(page)
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]  # http:, mailto:, ...


def test_the_link_checker_sees_links_and_anchors():
    assert _slug("5. Presets (released configurations)", {}) == "5-presets-released-configurations"
    assert _slug("The `slow` tests", {}) == "the-slow-tests"
    assert INLINE_LINK.findall("see [a](docs/x.md#y), ![p](img.png) and [web](https://e.org)") == \
        ["docs/x.md#y", "img.png", "https://e.org"]
    assert sum(len(_relative_links(page)) for page in PAGES) > 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in _relative_links(page):
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no heading with anchor #{anchor})")
    assert not broken, f"{page.relative_to(REPO)}: broken links: {broken}"


def test_every_cited_docs_page_exists():
    """Plain-text citations too ("see docs/INFOBERT.md"), in the docs and in the code."""
    code = [p for folder in ("benchmark", "models", "attacks", "scripts", "tests")
            for p in sorted((REPO / folder).rglob("*.py")) if p != Path(__file__).resolve()]
    missing = sorted({f"{source.relative_to(REPO)}: {mention}" for source in PAGES + code
                      for mention in DOCS_MENTION.findall(source.read_text(encoding="utf-8"))
                      if not (REPO / mention).is_file()})
    assert not missing, f"cited documentation pages that do not exist: {missing}"


def test_every_declared_pytest_marker_is_used():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = [line.split(":")[0].strip() for line in config.get("markers", [])]
    tests = "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").glob("*.py")))
    unused = [m for m in declared if not re.search(rf"pytest\.mark\.{m}\b", tests)]
    assert not unused, f"markers declared in pyproject.toml but used by no test: {unused}"
