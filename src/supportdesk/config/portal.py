"""The public portal's bank and hotlines: ``[portal]`` and ``[[hotlines]]``."""

from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from supportdesk.domain.hotlines import Hotline, LocalizedText, PhoneLine
from supportdesk.domain.service_hours import ServiceHours, ServiceHoursError

from .section import Section, Text


class PortalConfig(Section):
    bank_name: str = "LIGA Bank eG"
    team_name: str = "LIGA direkt Serviceteam"
    default_language: Literal["de", "en"] = "de"
    email: str | None = None
    timezone: str = "Europe/Berlin"
    holiday_subdivision: str = "BY"
    holiday_categories: tuple[str, ...] = ("public",)
    extra_holidays: tuple[str, ...] = ()
    # The customer's contact detail and description of a service request (and the
    # agents' notes on it) are erased this many days after it was closed ("done");
    # reference, topic, dates and status stay. Run by the daily purge.
    request_retention_days: int = Field(90, ge=1, le=36500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("extra_holidays")
    @classmethod
    def _month_day(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                month, day = (int(part) for part in item.split("-"))
                date(2024, month, day)  # a leap year admits 02-29
            except ValueError:
                raise ValueError(f"{item!r} is not a month-day like 12-24") from None
        return value


class PhoneConfig(Section):
    number: str = Field(min_length=3)
    menu_choice: int | None = Field(None, ge=0, le=9)
    label: Text | None = None


class HotlineConfig(Section):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    name: Text
    topics: tuple[Text, ...] = ()
    phones: tuple[PhoneConfig, ...] = Field(min_length=1)
    hours: dict[str, str] | None = None
    round_the_clock: tuple[Text, ...] = ()
    email: str | None = None
    accepts_service_requests: bool = True

    def to_domain(self) -> Hotline:
        hours = None
        if self.hours is not None:
            days = dict(self.hours)
            holiday_rule = days.pop("holidays", "closed")
            try:
                hours = ServiceHours.from_mapping(days, holiday_rule)
            except ServiceHoursError as exc:
                raise ValueError(str(exc)) from None
        return Hotline(
            id=self.id,
            name=LocalizedText.of(self.name),
            topics=tuple(LocalizedText.of(t) for t in self.topics),
            phones=tuple(
                PhoneLine(p.number, p.menu_choice, LocalizedText.of(p.label) if p.label else None)
                for p in self.phones
            ),
            hours=hours,
            round_the_clock=tuple(LocalizedText.of(t) for t in self.round_the_clock),
            email=self.email,
            accepts_service_requests=self.accepts_service_requests,
        )
