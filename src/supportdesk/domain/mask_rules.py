"""The bank's window rules: which windows the support program masks whole, whatever they show.

A rule names a window by a piece of its title, by its application (the X11 ``WM_CLASS``
instance or class, the Windows process name, the macOS bundle name), or both (then both
must match). Matching ignores case and surrounding blanks: "SecureGo" masks "SecureGo
plus – TAN" and an application called "securego". The list carries a version chosen by
the bank (``supportdesk.toml`` ``[masking] rules_version``) so the audit at consent says
which rules were in force; it travels to the program as a plain JSON object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_RULES = 100
MAX_RULE_TEXT = 200


class InvalidMaskRules(ValueError):
    """A rule list that is malformed (from the configuration or over the link)."""


@dataclass(frozen=True, slots=True)
class WindowRule:
    """Mask windows whose title contains ``title`` and/or whose application is ``application``."""

    title: str = ""
    application: str = ""

    def __post_init__(self) -> None:
        if not (self.title.strip() or self.application.strip()):
            raise InvalidMaskRules("a window rule needs a title or an application")
        if len(self.title) > MAX_RULE_TEXT or len(self.application) > MAX_RULE_TEXT:
            raise InvalidMaskRules(f"a window rule is longer than {MAX_RULE_TEXT} characters")

    def matches(self, title: str, applications: Iterable[str] = ()) -> bool:
        """Whether a window with ``title`` of (any of) ``applications`` is masked by this rule."""
        want_title = self.title.strip().casefold()
        want_app = self.application.strip().casefold()
        if want_title and want_title not in title.casefold():
            return False
        return not want_app or any(want_app == a.strip().casefold() for a in applications)

    def as_json(self) -> dict[str, str]:
        """The rule as it travels: only the fields it has."""
        out = {}
        if self.title:
            out["title"] = self.title
        if self.application:
            out["application"] = self.application
        return out


@dataclass(frozen=True, slots=True)
class MaskRules:
    """A versioned list of window rules."""

    version: str = ""
    windows: tuple[WindowRule, ...] = ()

    def matches(self, title: str, applications: Iterable[str] = ()) -> bool:
        """Whether any rule masks this window."""
        apps = tuple(applications)
        return any(rule.matches(title, apps) for rule in self.windows)

    def as_json(self) -> dict[str, Any]:
        """The list as the server sends it and the audit records it."""
        return {"version": self.version, "windows": [r.as_json() for r in self.windows]}

    @classmethod
    def from_json(cls, data: Any) -> MaskRules:
        """Read :meth:`as_json` or the ``[masking]`` table; InvalidMaskRules if malformed."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidMaskRules("mask rules must be an object")
        version = data.get("version", data.get("rules_version", ""))
        windows = data.get("windows", [])
        if not isinstance(version, str) or len(version) > MAX_RULE_TEXT:
            raise InvalidMaskRules("the rules' version must be a short string")
        if not isinstance(windows, list) or len(windows) > MAX_RULES:
            raise InvalidMaskRules(f"windows must be a list of at most {MAX_RULES} rules")
        rules = []
        for item in windows:
            if not isinstance(item, Mapping) or set(item) - {"title", "application"}:
                raise InvalidMaskRules("a window rule has only 'title' and 'application'")
            title, app = item.get("title", ""), item.get("application", "")
            if not isinstance(title, str) or not isinstance(app, str):
                raise InvalidMaskRules("a window rule's fields are strings")
            rules.append(WindowRule(title, app))
        return cls(version, tuple(rules))
