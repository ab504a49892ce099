"""``redis+sentinel://`` addresses: every part read, every mistake named, no password
in an error or a log line."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.bus.redis_link import redacted
from supportdesk.bus.sentinel_url import SentinelAddress, parse_sentinel_url
from supportdesk.config import ConfigError, load_settings


def test_the_sentinels_the_master_and_the_logins_are_read() -> None:
    address = parse_sentinel_url(
        "redis+sentinel://app:s%40cret@10.0.0.31:26380,sentinel-2,[fd00::3]:26381"
        "/supportdesk/2?sentinel_password=other"
    )
    assert address == SentinelAddress(
        sentinels=(("10.0.0.31", 26380), ("sentinel-2", 26379), ("fd00::3", 26381)),
        master="supportdesk",
        db=2,
        username="app",
        password="s@cret",
        sentinel_password="other",
    )


def test_the_shortest_address_has_defaults() -> None:
    assert parse_sentinel_url("redis+sentinel://127.0.0.1/main") == SentinelAddress(
        (("127.0.0.1", 26379),), "main"
    )
    assert parse_sentinel_url("redis+sentinel://:pw@h/main/").password == "pw"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+sentinel://127.0.0.1", "names the master"),
        ("redis+sentinel://127.0.0.1/", "names the master"),
        ("redis+sentinel:///main", "host[:port]"),
        ("redis+sentinel://a,,b/main", "host[:port]"),
        ("redis+sentinel://h:0/main", "is not a port"),
        ("redis+sentinel://h:99999/main", "is not a port"),
        ("redis+sentinel://h/ma ster", "master name"),
        ("redis+sentinel://h/main/x", "database number"),
        ("redis+sentinel://h/main?password=x", "unknown option(s) password"),
    ],
)
def test_mistakes_are_named(url: str, says: str) -> None:
    with pytest.raises(ValueError) as wrong:
        parse_sentinel_url(url)
    assert says in str(wrong.value)


def test_the_configuration_takes_it_and_refuses_a_bad_one_without_its_password(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "supportdesk.toml"
    empty.write_text("")
    good = "redis+sentinel://:s3cret@10.0.0.31,10.0.0.32/supportdesk/0"
    assert load_settings(empty, {"SUPPORTDESK_BUS_REDIS_URL": good}).bus.redis_url == good
    with pytest.raises(ConfigError, match=r"bus\.redis_url: .*names the master") as bad:
        load_settings(empty, {"SUPPORTDESK_BUS_REDIS_URL": "redis+sentinel://:s3cret@h"})
    assert "s3cret" not in str(bad.value)


def test_logs_see_neither_password() -> None:
    url = "redis+sentinel://:s3cret@h1,h2/supportdesk/0?sentinel_password=other"
    assert redacted(url) == "redis+sentinel://***@h1,h2/supportdesk/0?***"
    assert redacted("redis://:s3cret@h:6379/0") == "redis://***@h:6379/0"
    assert redacted("redis://h:6379/0") == "redis://h:6379/0"
