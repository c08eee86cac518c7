"""Deadline rules as data, each with its source (docs/cases.md), and the calendars counting them.

A rule has a trigger (an event on the case), a clock (calendar days, business days of its
jurisdiction's calendar, months, minutes, or a yearly date), a duration and a warning
point. A deadline falls at the end of its last day in the jurisdiction's time zone.

>>> from datetime import datetime, timezone
>>> due, warn = compute(RULES_BY_ID["US-OFAC-BLOCK"], datetime(2026, 12, 18, 15, 0, tzinfo=timezone.utc))
>>> due.isoformat()  # 10 US business days, skipping Christmas and New Year's Day
'2027-01-06T04:59:59.999999+00:00'
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

CALENDARS = {
    "US": ("America/New_York", ("country", "US", None)),
    "NY": ("America/New_York", ("country", "US", "NY")),
    "UK": ("Europe/London", ("country", "GB", "ENG")),
    "EU": ("Europe/Brussels", ("financial", "ECB", None)),
}
"""jurisdiction -> (time zone, holiday calendar): US federal, New York State, England, TARGET2."""


@dataclass(frozen=True)
class DeadlineRule:
    """One deadline: when it starts, how it is counted, when it is at risk, and where it comes from."""

    id: str
    trigger: str
    clock: str
    """calendar | business | months | minutes | yearly"""
    duration: int
    warn_after: int
    """At risk from this many units of the same clock after the trigger."""
    jurisdiction: str
    source: str
    description: str
    month_day: tuple[int, int] | None = None
    """For the yearly clock: the (month, day) it falls on."""
    holding_day: tuple[int, int] | None = None
    """For the yearly clock: the (month, day) whose holdings the report covers."""
    ends_with_case: bool = False
    """Cancelled when the case closes (a service target); legal obligations outlive the case."""


RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule("US-SAR-30", "suspicion_determined", "calendar", 30, 20, "US",
                 "31 CFR 1022.320(b)(3)", "File the SAR with FinCEN within 30 days of determining suspicion."),
    DeadlineRule("US-SAR-CONT-REVIEW", "report_filed", "calendar", 90, 80, "US",
                 "FinCEN SAR FAQ (continuing activity)", "Review the activity 90 days after the SAR was filed."),
    DeadlineRule("US-SAR-CONT-FILE", "report_filed", "calendar", 120, 100, "US",
                 "FinCEN SAR FAQ (continuing activity)", "File a continuing-activity SAR within 120 days of the last."),
    DeadlineRule("US-OFAC-BLOCK", "sanctions_freeze", "business", 10, 8, "US",
                 "31 CFR 501.603", "Report the blocked property to OFAC within 10 business days."),
    DeadlineRule("US-OFAC-ANNUAL", "sanctions_freeze", "yearly", 1, 0, "US",
                 "31 CFR 501.603(b)(2)", "Annual report of blocked property held on 30 June, due 30 September.",
                 month_day=(9, 30), holding_day=(6, 30)),
    DeadlineRule("UK-DAML-NOTICE", "daml_submitted", "business", 7, 5, "UK",
                 "POCA 2002 s.335", "Keep the hold for 7 working days after a DAML; silence is deemed consent."),
    DeadlineRule("UK-DAML-MORATORIUM", "consent_refused", "calendar", 31, 25, "UK",
                 "POCA 2002 s.335(6)", "Keep the hold through the 31-day moratorium after consent is refused."),
    DeadlineRule("EU-FIU-RFI", "fiu_request", "business", 5, 3, "EU",
                 "Directive (EU) 2015/849 Art. 33", "Answer the FIU's request for information."),
    DeadlineRule("EU-MICA-DECIDE", "complaint_received", "months", 2, 1, "EU",
                 "Regulation (EU) 2023/1114 Art. 71; ESMA RTS on complaints",
                 "Decide the complaint, or send a delay notice with reasons and a date, within 2 months."),
    DeadlineRule("NY-ACK", "inquiry_received", "minutes", 5, 3, "NY",
                 "NYDFS guidance for virtual currency entities (May 2024); service standard",
                 "Acknowledge each customer inquiry with a tracking number at once (target: 5 minutes).",
                 ends_with_case=True),
    DeadlineRule("NY-STATUS", "customer_waiting", "business", 5, 4, "NY",
                 "NYDFS guidance for virtual currency entities (May 2024)",
                 "Send the waiting customer a status update with an estimated timeframe every 5 business days.",
                 ends_with_case=True),
    DeadlineRule("INT-REVIEW", "case_opened", "business", 3, 2, "US",
                 "platform policy", "Decide release or escalation within 3 business days of the freeze.",
                 ends_with_case=True),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
FIXED_DEADLINES = ("REQUEST-RESPONSE",)
"""Deadlines whose date comes from outside (a freeze request's requester), never recomputed (cases.freeze_requests)."""
CASE_BOUND = tuple(rule.id for rule in RULES if rule.ends_with_case)
"""The deadlines that end when their case closes."""
DEFAULT_JURISDICTIONS = ("US", "NY")
"""Where new cases fall unless the batch says otherwise (New York cases follow US rules too)."""
VERSION = "2026.11.1"
"""Changes whenever RULES do, so that open deadlines can be recomputed."""

END_OF_DAY = time(23, 59, 59, 999_999)


@lru_cache(maxsize=64)
def _holidays(jurisdiction: str, year: int) -> frozenset[date]:
    kind, code, subdiv = CALENDARS[jurisdiction][1]
    found = (holidays.country_holidays(code, subdiv=subdiv, years=year) if kind == "country"
             else holidays.financial_holidays(code, years=year))
    return frozenset(found)


def load_calendars(jurisdictions: tuple[str, ...] | list[str], years: tuple[int, ...]) -> None:
    """Load the holiday calendars of these jurisdictions for these years now (the first load imports
    every country's calendar), so that a later deadline is computed at once."""
    for jurisdiction in jurisdictions:
        for year in years:
            if jurisdiction in CALENDARS:  # an unknown one is refused where a deadline is computed, not here
                _holidays(jurisdiction, year)


def is_business_day(jurisdiction: str, day: date) -> bool:
    """Not a weekend, not a holiday of the jurisdiction's calendar."""
    return day.weekday() < 5 and day not in _holidays(jurisdiction, day.year)


def add_business_days(jurisdiction: str, start: date, count: int) -> date:
    """The `count`-th business day after `start` (start itself does not count)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(jurisdiction, day):
            count -= 1
    return day


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return date(year, month, min(start.day, month_calendar.monthrange(year, month)[1]))


def _local_day_end(jurisdiction: str, day: date) -> datetime:
    zone = ZoneInfo(CALENDARS[jurisdiction][0])
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(timezone.utc)


def _local_day_start(jurisdiction: str, day: date) -> datetime:
    zone = ZoneInfo(CALENDARS[jurisdiction][0])
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _count(rule: DeadlineRule, start: date, units: int) -> date:
    if rule.clock == "calendar":
        return start + timedelta(days=units)
    if rule.clock == "business":
        return add_business_days(rule.jurisdiction, start, units)
    if rule.clock == "months":
        return _add_months(start, units)
    raise ValueError(rule.clock)


def compute(rule: DeadlineRule, triggered_at: datetime) -> tuple[datetime, datetime]:
    """(due, at risk from) in UTC for a trigger at `triggered_at` (timezone-aware)."""
    if triggered_at.tzinfo is None:
        raise ValueError("triggered_at must be timezone-aware")
    if rule.clock == "minutes":
        return (triggered_at + timedelta(minutes=rule.duration),
                triggered_at + timedelta(minutes=rule.warn_after))
    local = triggered_at.astimezone(ZoneInfo(CALENDARS[rule.jurisdiction][0])).date()
    if rule.clock == "yearly":
        month, day = rule.month_day or (12, 31)
        held_month, held_day = rule.holding_day or (month, day)
        year = local.year if local <= date(local.year, held_month, held_day) else local.year + 1
        due_day = date(year, month, day)  # the report on the first holding date the property is held
        return _local_day_end(rule.jurisdiction, due_day), _local_day_start(rule.jurisdiction, due_day - timedelta(days=30))
    due_day = _count(rule, local, rule.duration)
    warn_day = _count(rule, local, rule.warn_after)
    return _local_day_end(rule.jurisdiction, due_day), _local_day_start(rule.jurisdiction, warn_day)


def applicable(trigger: str, jurisdictions: list[str], rules: tuple[DeadlineRule, ...] = RULES) -> list[DeadlineRule]:
    """The rules a trigger starts for a case under these jurisdictions (NY cases follow US rules too)."""
    reach = set(jurisdictions) | ({"US"} if "NY" in jurisdictions else set())
    return [rule for rule in rules if rule.trigger == trigger and rule.jurisdiction in reach]
