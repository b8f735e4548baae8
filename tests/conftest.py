"""Shared fixtures. ``gradcheck``: the real entry point run in-process (exit code, stdout,
stderr). ``parse_html``: a small DOM over the standard library's HTML parser, for tests that read
HTML as a browser would (by elements and attributes), never by searching its text.

Two system programs, not Python packages, are needed by some tests: bubblewrap (the tests of the
``bwrap`` confinement path) and Chromium (the class report in a real browser). On a machine
without them those tests are skipped, each saying which package to install; .ci/run installs
both and sets ``GRADCHECK_REQUIRE_SYSTEM_TOOLS=1``, under which a missing one fails instead."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from gradcheck_cli.cli import main

# program -> (the Debian package that has it, other names it goes by)
SYSTEM_TOOLS = {"bwrap": ("bubblewrap", ()), "chromium": ("chromium", ("chromium-browser",))}


def system_tool(name: str) -> str | None:
    """Where the system program ``name`` is installed, or None."""
    package, aliases = SYSTEM_TOOLS[name]
    return next(filter(None, map(shutil.which, (name, *aliases))), None)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(program): the test needs that system program")


def pytest_collection_modifyitems(config, items):
    """Skip, with the fix, the tests whose system program is missing (fail them in CI)."""
    if os.environ.get("GRADCHECK_REQUIRE_SYSTEM_TOOLS") == "1":
        return
    missing = {name for name in SYSTEM_TOOLS if system_tool(name) is None}
    for item in items if missing else ():
        needs = {m.args[0] for m in item.iter_markers("needs")}
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "bwrap" in (params.get("confinement"), params.get("path")):
            needs.add("bwrap")
        for name in sorted(needs & missing):
            item.add_marker(pytest.mark.skip(
                reason=f"{name} is not installed here (Debian: apt-get install "
                       f"{SYSTEM_TOOLS[name][0]}); .ci/run installs it and requires it"))


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def gradcheck(monkeypatch, capsys):
    """``gradcheck("validate", "x.yaml")`` runs ``main()`` as the console command would."""
    def run(*args) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["gradcheck", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)
    return run


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    """An element of a parsed HTML document: tag, attributes, children, text."""

    def __init__(self, tag: str, attrs: dict, parent: "Node | None" = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list = []          # Nodes and strings

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        """The text inside, whitespace collapsed (elements apart, as a browser lays them out)."""
        parts: list[str] = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style"):
                    walk(child)
        walk(self)
        return " ".join(" ".join(parts).split())

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["Node"]:
        """Elements by tag, class and attribute values (``data_id="x"`` is ``data-id``)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [n for n in self.iter()
                if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and all(n.attrs.get(k) == v for k, v in wanted.items())]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Node":
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no {tag or ''}.{cls or ''} {attrs} in the document"
        return found[0]

    def by_id(self, ident: str) -> "Node":
        return self.find(id=ident)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_document(text: str) -> Node:
    """``text`` parsed by the standard library's HTML parser into a tree of ``Node``."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


@pytest.fixture(scope="session")
def parse_html():
    """``parse_html(text)``: the document's root ``Node``."""
    return parse_document
