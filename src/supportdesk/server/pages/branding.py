"""The brand's two assets at fixed URLs: the generated stylesheet and the logo."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from supportdesk.server.brand_assets import LOGO_PATH, STYLESHEET_PATH
from supportdesk.server.state import desk_of

router = APIRouter(include_in_schema=False)

# Pages ask with ?v=<hash of the brand>, so a long cache never shows stale colours.
CACHE = "public, max-age=86400"
# An SVG opened on its own is a document: nothing in it may run or load.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.get(STYLESHEET_PATH)
async def brand_stylesheet(request: Request) -> Response:
    brand = desk_of(request).pages.brand
    return Response(
        brand.stylesheet,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": CACHE},
    )


@router.get(LOGO_PATH)
async def brand_logo(request: Request) -> Response:
    logo = desk_of(request).pages.brand.logo
    headers = {"Cache-Control": CACHE}
    if logo.content_type == "image/svg+xml":
        headers["Content-Security-Policy"] = SVG_POLICY
    return Response(logo.content, media_type=logo.content_type, headers=headers)
