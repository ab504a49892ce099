"""A bank's built-in config: parsed and checked with clear errors, baked and read back, and
the TLS that refuses a server whose certificate is not valid for the bank's domain."""

from __future__ import annotations

import argparse
import ast
import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripts.build_applet import artifact_name, forbidden_in, platform_key, windows_version_info

from supportdesk.applet import program
from supportdesk.applet.bank_config import (
    BankConfig,
    BankConfigError,
    baked_toml,
    load_baked,
    load_bank_config,
    parse_bank_config,
)
from supportdesk.applet.bank_tls import BankTLSContext, DomainRefused, names_cover
from supportdesk.applet.link.client import LinkError
from tests.applet.bank_certs import certificate, tls_server

ROOT = Path(__file__).resolve().parents[2]
GOOD = 'server = "https://fernwartung.bank.example"\ndomain = "fernwartung.bank.example"\n'


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Path]]]:
    folder = tmp_path_factory.mktemp("certs")
    yield {
        "bank": certificate(folder, "bank", "DNS:localhost,IP:127.0.0.1"),
        "other": certificate(folder, "other", "IP:127.0.0.1"),
    }


def test_the_example_in_deploy_is_a_valid_config() -> None:
    config = load_bank_config(ROOT / "deploy" / "applet-bank.toml.example")
    assert config == BankConfig(
        server="https://fernwartung.volksbank-musterstadt.de",
        domain="fernwartung.volksbank-musterstadt.de",
        name="Volksbank Musterstadt eG",
    )


def test_server_and_domain_are_normalised() -> None:
    config = parse_bank_config(
        'server = "https://Fernwartung.Bank.example:8443/"\ndomain = "Bank.Example."\n'
    )
    assert (config.server, config.domain, config.server_host) == (
        "https://Fernwartung.Bank.example:8443",
        "bank.example",
        "fernwartung.bank.example",
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("server = ", "not valid TOML"),
        ('domain = "bank.example"\n', "server is required"),
        ('server = "https://bank.example"\n', "domain is required"),
        (GOOD + 'sever = "x"\n', "unknown key 'sever'"),
        (GOOD.replace("https://", "http://"), "must be an https:// address"),
        (GOOD.replace('.example"\ndomain', '.example/join"\ndomain'), "must have no path"),
        (GOOD.replace("https://", "https://user@"), "just https://host[:port]"),
        (GOOD.replace('.example"\ndomain', '.example:x"\ndomain'), "invalid port"),
        ('server = "https://127.0.0.1"\ndomain = "127.0.0.1"\n', "must be a DNS name"),
        (GOOD.replace('domain = "fernwartung', 'domain = "*'), "is not a host name"),
        (GOOD.replace('domain = "fernwartung', 'domain = "fernwärtung'), "xn-- form"),
        (GOOD.replace('domain = "fernwartung.', 'domain = "other.'), "is not at domain"),
        ('server = 443\ndomain = "bank.example"\n', "server must be a string"),
        (GOOD + 'name = "Bank\\neG"\n', "name must be at most 80 printable"),
        (GOOD + f'name = "{"x" * 81}"\n', "name must be at most 80"),
        (GOOD + 'ca_pem = "hello"\n', "not PEM"),
        (
            GOOD + 'ca_pem = "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"\n',
            "the CA certificate cannot be read",
        ),
        (GOOD + 'ca_file = "a.pem"\nca_pem = "b"\n', "either ca_file or ca_pem"),
        (GOOD + 'ca_file = "a.pem"\n', "ca_file cannot be read here"),
    ],
)
def test_every_mistake_is_named(text: str, says: str) -> None:
    with pytest.raises(BankConfigError, match=r"^bank\.toml: ") as raised:
        parse_bank_config(text, origin="bank.toml")
    assert says in str(raised.value)


def test_a_server_under_the_domain_is_accepted() -> None:
    config = parse_bank_config(
        'server = "https://fernwartung.bank.example"\ndomain = "bank.example"'
    )
    assert config.domain == "bank.example"


def test_a_missing_ca_file_is_named_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "bank.toml").write_text(GOOD + 'ca_file = "missing.pem"\n')
    with pytest.raises(BankConfigError, match=r"ca_file 'missing\.pem' cannot be read"):
        load_bank_config(tmp_path / "bank.toml")


def test_the_baked_form_reads_back_the_same_with_its_ca(
    tmp_path: Path, certs: dict[str, tuple[Path, Path]]
) -> None:
    ca = certs["bank"][0]
    (tmp_path / "ca.pem").write_bytes(ca.read_bytes())
    (tmp_path / "bank.toml").write_text(
        GOOD + 'name = "Raiffeisenbank „Süd“ eG \\"RB\\""\nca_file = "ca.pem"\n', encoding="utf-8"
    )
    config = load_bank_config(tmp_path / "bank.toml")
    assert config.name == 'Raiffeisenbank „Süd“ eG "RB"'
    assert config.ca_pem == ca.read_text().strip()
    baked = baked_toml(config)
    assert "ca_file" not in baked
    assert parse_bank_config(baked) == config


def test_a_checkout_has_no_baked_config() -> None:
    assert load_baked() is None


@pytest.mark.parametrize(
    ("names", "domain", "covered"),
    [
        (["fernwartung.bank.example"], "fernwartung.bank.example", True),
        (["FERNWARTUNG.bank.example."], "fernwartung.bank.example", True),
        (["www.bank.example", "fernwartung.bank.example"], "fernwartung.bank.example", True),
        (["*.bank.example"], "fernwartung.bank.example", True),
        (["*.bank.example"], "bank.example", False),
        (["*.bank.example"], "a.fernwartung.bank.example", False),
        (["*.example"], "bank.example", False),
        (["fernwartung.bank.example.evil"], "fernwartung.bank.example", False),
        (["evil-fernwartung.bank.example"], "fernwartung.bank.example", False),
        (["f*.bank.example"], "fernwartung.bank.example", False),
        ([], "fernwartung.bank.example", False),
    ],
)
def test_which_certificate_names_cover_the_domain(
    names: list[str], domain: str, covered: bool
) -> None:
    assert names_cover(names, domain) is covered


def test_the_join_request_reaches_the_banks_server(certs: dict[str, tuple[Path, Path]]) -> None:
    cert, key = certs["bank"]
    context = BankTLSContext("localhost", ca_pem=cert.read_text())
    with tls_server(cert, key) as port:
        answer = program._redeem(f"https://localhost:{port}", "Erika", "1", context, "de")
    assert answer == {"token": "t-1"}
    assert context.refused is None


def test_a_server_with_another_valid_certificate_is_refused_in_german(
    certs: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certs["other"]  # valid for 127.0.0.1, and trusted: but not the bank's
    context = BankTLSContext("localhost", ca_file=str(cert))
    with tls_server(cert, key) as port, pytest.raises(LinkError) as raised:
        program._redeem(f"https://127.0.0.1:{port}", "Erika", "1", context, "de")
    assert str(raised.value) == (
        "Der Server ist nicht localhost: Sein Zertifikat gilt für keinen Namen. Das Programm "
        "verbindet sich nicht mit ihm. Bitte rufen Sie Ihre Bank unter der Ihnen bekannten "
        "Nummer an."
    )


async def test_the_link_refuses_it_too_and_in_english_when_asked(
    certs: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certs["other"]
    context = BankTLSContext("localhost", ca_file=str(cert), language="en")
    with tls_server(cert, key) as port:
        with pytest.raises(DomainRefused) as raised:
            await asyncio.open_connection("127.0.0.1", port, ssl=context)
        # The check comes on top of the usual one: a certificate that does not verify
        # is refused by OpenSSL already, as before.
        plain = BankTLSContext("localhost")
        with pytest.raises(ssl.SSLCertVerificationError) as unverified:
            await asyncio.open_connection("127.0.0.1", port, ssl=plain)
    assert str(raised.value).startswith("The server is not localhost: its certificate is for")
    assert not isinstance(unverified.value, DomainRefused)


async def test_the_link_accepts_the_banks_server(certs: dict[str, tuple[Path, Path]]) -> None:
    cert, key = certs["bank"]
    context = BankTLSContext("localhost", ca_file=str(cert))
    with tls_server(cert, key) as port:
        reader, writer = await asyncio.open_connection("localhost", port, ssl=context)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 200 OK")
        writer.close()


def test_without_a_built_in_config_the_server_comes_from_the_command_line() -> None:
    bank = parse_bank_config(GOOD + 'name = "Testbank eG"\n')
    assert program.target(None, None, None) is None
    assert program.target("https://dev.example", None, None) == program.Target(
        "https://dev.example", None, None
    )
    built_in = program.target(None, None, bank)
    assert built_in == program.Target("https://fernwartung.bank.example", None, bank)
    overridden = program.target("https://other.bank.example", "ca.pem", bank)
    assert overridden == program.Target("https://other.bank.example", "ca.pem", bank)
    # With a built-in config the bank's domain is checked whichever server is dialled.
    context = built_in.tls("de")
    assert isinstance(context, BankTLSContext) and context.domain == "fernwartung.bank.example"
    assert not isinstance(
        program.Target("https://dev.example", None, None).tls("de"), BankTLSContext
    )


def test_no_server_at_all_is_said_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    program.add_arguments(parser)
    assert program.run(parser.parse_args(["--text"])) == 2
    assert capsys.readouterr().err == (
        "supportdesk-join: Dieses Programm kennt den Server der Bank nicht: Starten Sie es mit "
        "--server https://… (ein für eine Bank gebautes Programm kennt seinen Server).\n"
    )


def test_the_build_names_and_describes_the_program() -> None:
    assert platform_key("linux") == "linux" and platform_key("win32") == "windows"
    assert platform_key("darwin") == "macos"
    assert [artifact_name(k) for k in ("linux", "windows", "macos")] == [
        "supportdesk-join-linux",
        "supportdesk-join-windows.exe",
        "supportdesk-join-macos.zip",
    ]
    info = windows_version_info(parse_bank_config(GOOD + 'name = "Testbank eG"\n'), "0.1.0")
    ast.parse(info, mode="eval")  # PyInstaller evaluates it as one expression
    assert "StringStruct('FileDescription', 'Fernwartung – Support-Programm (Testbank eG)')" in info
    assert "filevers=(0, 1, 0, 0)" in info and "[0x0407, 1200]" in info  # German, Unicode
    assert forbidden_in(["numpy", "supportdesk.rfb.server", "fastapi.routing", "av", "avahi"]) == [
        "fastapi.routing",
        "av",
    ]
