"""The [brand] section: defaults carry LIGA Bank's, and every wrong value stops the
start with a message that names the key and says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.config.brand import contrast_with_white
from tests.brand_files import png_bytes, write_png, write_svg


def load(tmp_path: Path, text: str = "", environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "supportdesk.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ or {})


def refusal(tmp_path: Path, text: str = "", environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, text, environ)
    return str(error.value)


def test_defaults_are_liga_banks_and_pass_their_own_checks(tmp_path: Path) -> None:
    settings = load(tmp_path)
    brand = settings.brand
    assert settings.portal.bank_name == "LIGA Bank eG"
    assert (brand.primary_color, brand.accent_color) == ("#0066b3", "#004a80")
    assert brand.impressum_url.startswith("https://www.ligabank.de/")
    assert brand.privacy_url.startswith("https://www.ligabank.de/")
    assert brand.logo is None
    logo = brand.logo_image()
    assert logo.content_type == "image/svg+xml" and b"<svg" in logo.content


def test_contrast_follows_wcag() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    # The classic borderline greys: #767676 passes AA, #777777 does not.
    assert contrast_with_white("#767676") > 4.5 > contrast_with_white("#777777")


def test_a_bank_sets_its_own_look(tmp_path: Path) -> None:
    logo = write_png(tmp_path)
    settings = load(
        tmp_path,
        f"""
[brand]
logo = "{logo}"
primary_color = "#7A1F5C"
accent_color = "#0b6e4f"
impressum_url = "https://www.example-bank.de/impressum"
privacy_url = "https://www.example-bank.de/datenschutz"
""",
    )
    assert settings.brand.primary_color == "#7a1f5c"  # one spelling in the stylesheet
    assert settings.brand.logo_image().content_type == "image/png"
    assert settings.brand.logo_image().content == png_bytes()


def test_the_environment_sets_brand_keys(tmp_path: Path) -> None:
    logo = write_svg(tmp_path)
    settings = load(
        tmp_path,
        environ={"SUPPORTDESK_BRAND_LOGO": str(logo), "SUPPORTDESK_BRAND_ACCENT_COLOR": "#0b6e4f"},
    )
    assert settings.brand.logo == logo
    assert settings.brand.logo_image().content_type == "image/svg+xml"
    assert settings.brand.accent_color == "#0b6e4f"


@pytest.mark.parametrize("colour", ["0066b3", "#06b", "#0066b3ff", "blue", "#00gg00", ""])
def test_a_colour_not_written_rrggbb_is_refused(tmp_path: Path, colour: str) -> None:
    message = refusal(tmp_path, f'[brand]\nprimary_color = "{colour}"\n')
    assert "brand.primary_color: must be a colour written #rrggbb" in message


@pytest.mark.parametrize(
    ("key", "colour"), [("primary_color", "#ff6600"), ("accent_color", "#777777")]
)
def test_a_colour_too_light_for_white_text_is_refused(
    tmp_path: Path, key: str, colour: str
) -> None:
    message = refusal(tmp_path, f'[brand]\n{key} = "{colour}"\n')
    assert f"brand.{key}: contrast with white is" in message
    assert "below the 4.5:1 that WCAG AA asks for" in message


def test_a_missing_logo_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "logo.svg"
    message = refusal(tmp_path, f'[brand]\nlogo = "{missing}"\n')
    assert f"brand.logo: logo file '{missing}' not found" in message


@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        ("logo.svg", b"this is not an image", "is not an image (SVG or PNG)"),
        ("logo.png", b"GIF89a\x01\x00\x01\x00", "is not an image (SVG or PNG)"),
        ("logo.svg", b"<html><body>no svg</body></html>", "is not an image (SVG or PNG)"),
        ("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\0\0\0\0\0", "is a damaged PNG"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "contains a script",
        ),
    ],
)
def test_a_logo_that_is_no_usable_image_is_refused(
    tmp_path: Path, name: str, content: bytes, complaint: str
) -> None:
    logo = tmp_path / name
    logo.write_bytes(content)
    message = refusal(tmp_path, f'[brand]\nlogo = "{logo}"\n')
    assert "brand.logo: logo file" in message and complaint in message


def test_a_folder_or_huge_file_is_no_logo(tmp_path: Path) -> None:
    assert "not found" in refusal(tmp_path, f'[brand]\nlogo = "{tmp_path}"\n')
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_bytes() + b"\0" * 600_000)
    assert "more than 512 KiB" in refusal(tmp_path, f'[brand]\nlogo = "{huge}"\n')


@pytest.mark.parametrize(
    "url",
    [
        "http://www.ligabank.de/impressum.html",
        "www.ligabank.de/impressum",
        "https://",
        "ftp://x.de/",
    ],
)
def test_a_legal_link_that_is_not_https_is_refused(tmp_path: Path, url: str) -> None:
    for key in ("impressum_url", "privacy_url"):
        message = refusal(tmp_path, f'[brand]\n{key} = "{url}"\n')
        assert f"brand.{key}: must be an https:// address" in message


def test_an_unknown_brand_key_is_refused(tmp_path: Path) -> None:
    assert "brand.colour: unknown setting" in refusal(tmp_path, '[brand]\ncolour = "#000000"\n')
