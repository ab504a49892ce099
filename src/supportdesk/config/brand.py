"""The ``[brand]`` configuration section: the bank's logo, two colours and legal links,
each checked at start-up (a readable SVG or PNG, colours that white text can sit on,
https links) so a wrong value stops the server with a message instead of a page."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import field_validator

from .section import Section

# WCAG 2.2 AA for normal text: white text on the colour, and the colour as text or
# link on the white page, both need this much contrast.
MIN_CONTRAST = 4.5
# A logo is shown in a header: anything bigger than this is a mistake, not a logo.
MAX_LOGO_BYTES = 512 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# LIGA Bank's blues (as the portal has always shown them); the reference page shows no
# colours, so these stay until the bank names its own.
DEFAULT_PRIMARY = "#0066b3"
DEFAULT_ACCENT = "#004a80"


def builtin_logo() -> Path:
    """The default logo, drawn for supportdesk (a plain mark, no bank's artwork)."""
    folder = resources.files("supportdesk.server").joinpath("static", "brand")
    return Path(str(folder.joinpath("liga-bank-logo.svg")))


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio between ``#rrggbb`` and white, 1 to 21."""
    return 1.05 / (relative_luminance(colour) + 0.05)


@dataclass(frozen=True)
class LogoImage:
    """A logo file's bytes and the content type they were recognised as."""

    content: bytes
    content_type: str

    @classmethod
    def read(cls, path: Path) -> LogoImage:
        """Read and recognise ``path``; ValueError says what is wrong with it."""
        if not path.is_file():
            raise ValueError(f"logo file {str(path)!r} not found")
        try:
            size = path.stat().st_size
            if size > MAX_LOGO_BYTES:
                raise ValueError(f"logo file {str(path)!r} is {size} bytes, more than 512 KiB")
            content = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"logo file {str(path)!r} cannot be read: {exc.strerror}") from None
        return cls(content, image_type(content, str(path)))


def image_type(content: bytes, name: str) -> str:
    """``image/png`` or ``image/svg+xml`` by the content itself, never the file name."""
    if content.startswith(PNG_SIGNATURE):
        # The first chunk of a PNG is IHDR with a non-zero width and height.
        if len(content) >= 24 and content[12:16] == b"IHDR":
            width, height = struct.unpack(">II", content[16:24])
            if width and height:
                return "image/png"
        raise ValueError(f"logo file {name!r} is a damaged PNG")
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 - the operator's own file
    except ElementTree.ParseError:
        raise ValueError(f"logo file {name!r} is not an image (SVG or PNG)") from None
    if root.tag != SVG_NAMESPACE + "svg":
        raise ValueError(f"logo file {name!r} is not an image (SVG or PNG)")
    # Shown by <img> a script never runs, but opened on its own it would: none allowed.
    if any(element.tag in (SVG_NAMESPACE + "script", "script") for element in root.iter()):
        raise ValueError(f"logo file {name!r} contains a script")
    return "image/svg+xml"


class BrandConfig(Section):
    """How the portal and the console look for this bank (the name is
    ``[portal] bank_name``)."""

    # An SVG or PNG file on this machine. Unset: supportdesk's plain default mark.
    logo: Path | None = None
    # The header and the main buttons (white text on it); the accent marks links,
    # headings and the line under the header (on white). Both #rrggbb, both at least
    # 4.5:1 against white.
    primary_color: str = DEFAULT_PRIMARY
    accent_color: str = DEFAULT_ACCENT
    # The bank's legal pages, linked in the footer of every customer page.
    impressum_url: str = "https://www.ligabank.de/impressum.html"
    privacy_url: str = "https://www.ligabank.de/datenschutz.html"

    @field_validator("logo")
    @classmethod
    def _readable_image(cls, value: Path | None) -> Path | None:
        if value is not None:
            LogoImage.read(value)
        return value

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _readable_colour(cls, value: str) -> str:
        value = value.strip()
        if not COLOUR.match(value):
            raise ValueError("must be a colour written #rrggbb, e.g. #0066b3")
        ratio = contrast_with_white(value)
        if ratio < MIN_CONTRAST:
            raise ValueError(
                f"contrast with white is {ratio:.2f}:1, below the {MIN_CONTRAST}:1 that"
                " WCAG AA asks for text; choose a darker colour"
            )
        return value.lower()

    @field_validator("impressum_url", "privacy_url")
    @classmethod
    def _https_link(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// address")
        return value

    def logo_image(self) -> LogoImage:
        """The configured logo, else the built-in one."""
        return LogoImage.read(self.logo if self.logo is not None else builtin_logo())
