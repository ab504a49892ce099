"""The bank's look as the server hands it out: a small stylesheet of CSS custom
properties generated from ``[brand]``, the logo's bytes, and the URLs pages use.

Generated once at start-up; the URLs carry a hash of both, so a browser that cached
last week's colours fetches the new ones after a change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from supportdesk.config import Settings
from supportdesk.config.brand import LogoImage

STYLESHEET_PATH = "/branding/brand.css"
LOGO_PATH = "/branding/logo"


@dataclass(frozen=True)
class BrandAssets:
    """What templates and the two asset routes need of the brand."""

    bank_name: str
    stylesheet: str
    logo: LogoImage
    impressum_url: str
    privacy_url: str
    version: str

    @classmethod
    def from_settings(cls, settings: Settings) -> BrandAssets:
        brand = settings.brand
        # The colours were checked at start-up (#rrggbb only): nothing else can reach
        # this text, so it cannot smuggle a rule in.
        stylesheet = (
            "/* Generated from [brand] in the configuration (server/brand_assets.py). */\n"
            ":root {\n"
            f"  --brand-primary: {brand.primary_color};\n"
            f"  --brand-accent: {brand.accent_color};\n"
            "}\n"
        )
        logo = brand.logo_image()
        digest = hashlib.sha256(stylesheet.encode() + b"\0" + logo.content).hexdigest()
        return cls(
            bank_name=settings.portal.bank_name,
            stylesheet=stylesheet,
            logo=logo,
            impressum_url=brand.impressum_url,
            privacy_url=brand.privacy_url,
            version=digest[:12],
        )

    @property
    def stylesheet_url(self) -> str:
        return f"{STYLESHEET_PATH}?v={self.version}"

    @property
    def logo_url(self) -> str:
        return f"{LOGO_PATH}?v={self.version}"
