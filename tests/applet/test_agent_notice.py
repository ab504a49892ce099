"""The customer's notice of another agent: the relay's message is checked, and the
words say who took over or joined, in the customer's language."""

from __future__ import annotations

import pytest

from supportdesk.applet.agent_notice import notice_text
from supportdesk.applet.link.relay_messages import check_relay_message
from supportdesk.applet.texts import gettext_for
from supportdesk.domain.consent import Language
from supportdesk.link.frames import LinkProtocolError

DE = gettext_for(Language.DE)
EN = gettext_for(Language.EN)


def notice(**fields: object) -> dict[str, object]:
    return {"type": "agent_notice", "notice": "n1", "change": "took_over", "agent_name": "Bernd",
            "refusable": True, **fields}  # fmt: skip


def test_a_notice_is_checked_before_it_is_shown() -> None:
    check_relay_message(notice())
    for bad in (notice(agent_name=None), notice(refusable="yes"), notice(notice=7)):
        with pytest.raises(LinkProtocolError):
            check_relay_message(bad)


def test_the_customer_reads_who_took_over_or_joined() -> None:
    assert notice_text(notice(), DE) == "Bernd hat Ihre Fernwartung übernommen."
    assert notice_text(notice(), EN) == "Bernd has taken over your support session."
    joined = notice(change="joined", agent_name="Carla")
    assert notice_text(joined, DE) == (
        "Carla ist Ihrer Fernwartung beigetreten und darf Ihren Computer steuern."
    )
    assert (
        notice_text({**joined, "refusable": False}, DE)
        == "Carla ist Ihrer Fernwartung beigetreten."
    )
    assert notice_text(joined, DE, refused=True) == "Carla darf Ihren Computer nicht steuern."
    assert notice_text(notice(change="left"), DE) == "Bernd hat Ihre Fernwartung verlassen."
