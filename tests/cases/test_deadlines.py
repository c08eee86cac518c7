"""Deadline calendars: weekends, holidays, year ends, time zones, months and minutes."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cases.deadlines import RULES, RULES_BY_ID, add_business_days, applicable, compute, is_business_day

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def local_due(rule_id, when):
    due, warn = compute(RULES_BY_ID[rule_id], when)
    zone = {"US": NEW_YORK, "NY": NEW_YORK, "UK": LONDON, "EU": ZoneInfo("Europe/Brussels")}[
        RULES_BY_ID[rule_id].jurisdiction]
    return due.astimezone(zone), warn.astimezone(zone)


def test_business_days_skip_weekends():
    # Friday 6 March 2026 + 10 US business days = Friday 20 March
    due, _ = local_due("US-OFAC-BLOCK", datetime(2026, 3, 6, 15, tzinfo=UTC))
    assert due.date() == date(2026, 3, 20) and (due.hour, due.minute) == (23, 59)


def test_business_days_skip_holidays_across_the_year_end():
    # 18 Dec 2026: Christmas (Fri 25) and New Year's Day (Fri 1 Jan) do not count
    due, warn = local_due("US-OFAC-BLOCK", datetime(2026, 12, 18, 15, tzinfo=UTC))
    assert due.date() == date(2027, 1, 5)
    assert warn.date() == date(2026, 12, 31) and (warn.hour, warn.minute) == (0, 0)


def test_holidays_observed_on_a_weekday_do_not_count():
    # 4 July 2026 is a Saturday: Independence Day is observed on Friday 3 July
    assert not is_business_day("US", date(2026, 7, 3))
    assert add_business_days("US", date(2026, 7, 2), 1) == date(2026, 7, 6)


def test_new_york_state_holidays_count_for_ny_but_not_federal_deadlines():
    # Lincoln's Birthday (12 Feb) is a New York State holiday, not a federal one
    assert not is_business_day("NY", date(2026, 2, 12)) and is_business_day("US", date(2026, 2, 12))


def test_uk_and_eu_calendars():
    # England: Boxing Day 2026 falls on Saturday, observed Monday 28 December
    assert not is_business_day("UK", date(2026, 12, 28))
    # TARGET2 (EU): Good Friday and Easter Monday 2027 (26 and 29 March) are closed
    assert not is_business_day("EU", date(2027, 3, 26)) and not is_business_day("EU", date(2027, 3, 29))
    due, _ = local_due("EU-FIU-RFI", datetime(2027, 3, 24, 10, tzinfo=UTC))
    assert due.date() == date(2027, 4, 2)  # Thu 25, [Fri 26, Mon 29 closed], Tue 30, Wed 31, Thu 1, Fri 2


def test_the_local_date_decides_not_the_utc_one():
    # 03:30 UTC on Wednesday is still Tuesday evening in New York
    late = datetime(2026, 11, 11, 3, 30, tzinfo=UTC)
    assert late.astimezone(NEW_YORK).date() == date(2026, 11, 10)
    due, _ = local_due("US-SAR-30", late)
    assert due.date() == date(2026, 12, 10)  # 30 calendar days after 10 November, not 11
    assert due == datetime(2026, 12, 10, 23, 59, 59, 999999, tzinfo=NEW_YORK)


def test_end_of_day_follows_daylight_saving_time():
    summer, _ = compute(RULES_BY_ID["US-SAR-30"], datetime(2026, 6, 1, 12, tzinfo=UTC))
    winter, _ = compute(RULES_BY_ID["US-SAR-30"], datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert (summer.hour, winter.hour) == (3, 4)  # 23:59 EDT is 03:59 UTC, 23:59 EST is 04:59 UTC


def test_sar_warns_at_day_20():
    due, warn = local_due("US-SAR-30", datetime(2026, 1, 5, 15, tzinfo=UTC))
    assert (due.date(), warn.date()) == (date(2026, 2, 4), date(2026, 1, 25))


def test_months_clamp_to_the_end_of_a_short_month():
    due, _ = local_due("EU-MICA-DECIDE", datetime(2026, 12, 31, 10, tzinfo=UTC))
    assert due.date() == date(2027, 2, 28)


def test_minutes_and_the_yearly_date():
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert compute(RULES_BY_ID["NY-ACK"], start)[0] == start + timedelta(minutes=5)
    # the annual report covers property held on 30 June: a later freeze waits for next year's
    for frozen, report in (((2026, 6, 30), (2026, 9, 30)), ((2026, 7, 1), (2027, 9, 30)),
                           ((2026, 9, 29), (2027, 9, 30)), ((2026, 1, 2), (2026, 9, 30))):
        due, _ = local_due("US-OFAC-ANNUAL", datetime(*frozen, 16, tzinfo=UTC))
        assert due.date() == date(*report), frozen


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        compute(RULES_BY_ID["US-SAR-30"], datetime(2026, 1, 1))


def test_rules_apply_by_jurisdiction_and_new_york_includes_us():
    assert [r.id for r in applicable("sanctions_freeze", ["NY"])] == ["US-OFAC-BLOCK", "US-OFAC-ANNUAL"]
    assert applicable("sanctions_freeze", ["UK"]) == []
    assert [r.id for r in applicable("daml_submitted", ["UK", "US"])] == ["UK-DAML-NOTICE"]


def test_every_rule_is_documented_with_a_source():
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.source and rule.description.endswith(".")
        assert 0 <= rule.warn_after <= rule.duration
