"""Reading parts of a rendered page in tests: the text and links inside the element
that carries a given attribute (the standard library's HTML parser, no guessing by regex)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Part:
    """One element: its attributes, its text (whitespace folded) and its links."""

    attributes: dict[str, str | None]
    text: str = ""
    links: list[dict[str, str | None]] = field(default_factory=list)


class _Collector(HTMLParser):
    def __init__(self, tag: str | None, attribute: str, value: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.attribute, self.value = tag, attribute, value
        self.parts: list[Part] = []
        self._open: list[tuple[Part, int]] = []  # a matched element and its nesting depth
        self._depth = 0
        self._words: dict[int, list[str]] = {}

    def _matches(self, tag: str, attributes: dict[str, str | None]) -> bool:
        if self.tag is not None and tag != self.tag:
            return False
        if self.attribute not in attributes:
            return False
        return self.value is None or attributes[self.attribute] == self.value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self._matches(tag, attributes):
            part = Part(attributes)
            self.parts.append(part)
            self._open.append((part, self._depth))
            self._words[id(part)] = []
        if tag == "a":
            for part, _depth in self._open:
                part.links.append(attributes)
        if tag not in VOID:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        self._depth -= 1
        while self._open and self._open[-1][1] >= self._depth:
            part, _depth = self._open.pop()
            part.text = " ".join(" ".join(self._words.pop(id(part))).split())

    def handle_data(self, data: str) -> None:
        for part, _depth in self._open:
            self._words[id(part)].append(data)


def parts(
    html: str, attribute: str, value: str | None = None, tag: str | None = None
) -> list[Part]:
    """Every element with ``attribute`` (equal to ``value`` when given), in page order."""
    collector = _Collector(tag, attribute, value)
    collector.feed(html)
    collector.close()
    return collector.parts


def part(html: str, attribute: str, value: str | None = None, tag: str | None = None) -> Part:
    """The one element with ``attribute``; fails when there is none or more than one."""
    found = parts(html, attribute, value, tag)
    assert len(found) == 1, f"expected one element [{attribute}={value}], found {len(found)}"
    return found[0]
