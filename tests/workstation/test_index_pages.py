"""The static pages `open` writes: inert, escaped, complete, and in conversation order."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.workstation.conftest import ServerSide, WorkstationKey, open_export, write_zip

HOSTILE_MESSAGE = '<script>alert("x")</script><img src="https://evil.example/t.png">&amp;'
HOSTILE_NAME = "<img src=x onerror=alert(1)>.html"


class Page(HTMLParser):
    """Every tag, attribute and text run of a page."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def links(self) -> list[tuple[str, dict[str, str | None]]]:
        return [(attrs["href"] or "", attrs) for tag, attrs in self.tags if tag == "a"]


@pytest.fixture
def opened(workstation_key: WorkstationKey, server_side: ServerSide, workdir: Path) -> Path:
    """An export with a hostile message and file name, a reply, and a broken item, opened."""
    entries = {
        "wild_otter/1-wild_otter-msg.gpg": server_side.message(HOSTILE_MESSAGE),
        "wild_otter/2-wild_otter-doc.gz.gpg": server_side.document(b"<p>hi</p>", HOSTILE_NAME),
        "wild_otter/3-wild_otter-reply.gpg": server_side.message("First reply"),
        "wild_otter/4-wild_otter-msg.gpg": server_side.message("Thank you"),
        "wild_otter/5-wild_otter-msg.gpg": b"not openpgp at all",
        "calm_otter/1-calm_otter-msg.gpg": server_side.message("Another young person"),
    }
    export = write_zip(workdir / "export.zip", entries)
    assert open_export(workstation_key, export, workdir / "out") == 1
    return workdir / "out"


def test_pages_have_no_script_no_handlers_and_no_external_reference(opened: Path) -> None:
    pages = sorted(opened.rglob("*.html"))
    pages = [page for page in pages if page.parent.name != "documents"]
    assert [str(page.relative_to(opened)) for page in pages] == [
        "calm_otter/index.html",
        "index.html",
        "wild_otter/index.html",
    ]
    for path in pages:
        page = Page(path)
        tags = {tag for tag, _ in page.tags}
        assert not tags & {"script", "iframe", "object", "embed", "img", "link", "form", "base"}
        for _, attrs in page.tags:
            assert not [name for name in attrs if name.startswith("on")]
            assert "src" not in attrs
        csp = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv")]
        assert csp and "default-src 'none'" in (csp[0]["content"] or "")
        for href, _ in page.links():
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc and not href.startswith("/")
            target = (path.parent / unquote(href)).resolve()
            assert target.is_file() and opened.resolve() in target.parents


def test_the_conversation_page_shows_escaped_text_documents_and_replies_in_order(
    opened: Path,
) -> None:
    page = Page(opened / "wild_otter/index.html")
    text = "".join(page.text)
    assert HOSTILE_MESSAGE in text  # shown as text, because it was escaped
    order = [
        text.index(marker)
        for marker in (
            "1. Message",
            "2. Document",
            "3. Reply from staff",
            "4. Message",
            "5. Message",
        )
    ]
    assert order == sorted(order)
    assert text.index("First reply") < text.index("Thank you")
    assert "Not opened" in text and "not an OpenPGP message" in text
    documents = [(href, attrs) for href, attrs in page.links() if href.startswith("documents/")]
    assert len(documents) == 1
    href, attrs = documents[0]
    assert unquote(href) == f"documents/{HOSTILE_NAME}"
    assert "download" in attrs  # an .html document is saved, not rendered beside the index
    assert (opened / "wild_otter/documents" / HOSTILE_NAME).read_bytes() == b"<p>hi</p>"


def test_the_index_lists_each_designation_and_every_problem(opened: Path) -> None:
    page = Page(opened / "index.html")
    text = "".join(page.text)
    hrefs = [href for href, _ in page.links()]
    assert hrefs == ["calm_otter/index.html", "wild_otter/index.html"]
    assert "wild otter: 4 of 5 items opened (3 messages, 1 document, 1 reply)" in text
    assert "calm otter: 1 of 1 items opened (1 message, 0 documents, 0 replies)" in text
    assert "wild_otter/5-wild_otter-msg.gpg" in text
