"""The hotline directory: which lines the bank runs, their numbers, topics and hours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from supportdesk.domain.service_hours import ServiceHours

DEFAULT_LANGUAGE = "de"


@dataclass(frozen=True)
class LocalizedText:
    """A piece of customer-facing configuration text in several languages.

    German is the reference; a missing translation falls back to it.
    """

    texts: Mapping[str, str]

    def __post_init__(self) -> None:
        if DEFAULT_LANGUAGE not in self.texts:
            raise ValueError("localized text needs a German version")

    @classmethod
    def of(cls, value: str | Mapping[str, str]) -> LocalizedText:
        if isinstance(value, str):
            return cls({DEFAULT_LANGUAGE: value})
        return cls(dict(value))

    def in_language(self, language: str) -> str:
        return self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class PhoneLine:
    """A telephone number, optionally with the menu choice that reaches the line."""

    number: str
    menu_choice: int | None = None
    label: LocalizedText | None = None

    @property
    def tel_uri(self) -> str:
        """``tel:`` link in international form (German numbers assumed)."""
        digits = "".join(ch for ch in self.number if ch.isdigit())
        if self.number.strip().startswith("+"):
            return "tel:+" + digits
        return "tel:+49" + digits.removeprefix("0")

    @property
    def international(self) -> str:
        """The number as a caller abroad dials it: ``0941 4095-387`` becomes
        ``+49 941 4095-387`` (German numbers assumed, as in :attr:`tel_uri`); a number
        given with ``+`` stays as it is."""
        number = self.number.strip()
        if number.startswith("+"):
            return number
        return "+49 " + number.removeprefix("0").lstrip()


@dataclass(frozen=True)
class Hotline:
    """One line of the directory."""

    id: str
    name: LocalizedText
    topics: tuple[LocalizedText, ...]
    phones: tuple[PhoneLine, ...]
    hours: ServiceHours | None = None
    round_the_clock: tuple[LocalizedText, ...] = ()
    email: str | None = None
    accepts_service_requests: bool = True


@dataclass(frozen=True)
class HotlineDirectory:
    """All lines, in the order the bank lists them, plus the general e-mail address."""

    hotlines: tuple[Hotline, ...]
    email: str | None = None
    _by_id: Mapping[str, Hotline] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {line.id: line for line in self.hotlines}
        if len(by_id) != len(self.hotlines):
            raise ValueError("hotline ids must be unique")
        object.__setattr__(self, "_by_id", by_id)

    def get(self, hotline_id: str) -> Hotline | None:
        return self._by_id.get(hotline_id)

    @property
    def request_topics(self) -> tuple[Hotline, ...]:
        return tuple(line for line in self.hotlines if line.accepts_service_requests)
