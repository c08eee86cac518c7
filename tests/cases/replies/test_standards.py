"""Service figures and the quarterly tabulation, from hand-made rows with exact expected numbers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cases.errors import InvalidRequest
from cases.replies.standards import InquiryRow, UpdateRow, figures, quarter, tabulate

T0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
END = datetime(2027, 1, 1, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


ROWS = [
    InquiryRow("complaint", "email", "frozen_deposit", at(0), at(0), at(10)),
    InquiryRow("complaint", "email", "frozen_deposit", at(1), at(1 + 1 / 60), at(31)),
    InquiryRow("complaint", "email", "frozen_deposit", at(2), at(2.5), None),
    InquiryRow("inquiry", "chat", "fees", at(3), at(3), at(4)),
]


def test_quarters():
    assert quarter("2026q1") == (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))
    with pytest.raises(InvalidRequest):
        quarter("2026Q5")


def test_tabulation_by_kind_channel_and_topic():
    assert tabulate(ROWS, END) == [
        {"kind": "complaint", "channel": "email", "topic": "frozen_deposit", "received": 3, "resolved": 2,
         "open_at_end": 1, "avg_hours_to_resolve": 20.0},
        {"kind": "inquiry", "channel": "chat", "topic": "fees", "received": 1, "resolved": 1, "open_at_end": 0,
         "avg_hours_to_resolve": 1.0},
    ]
    # resolved after the quarter ended: still open at its end
    assert tabulate(ROWS[:1], at(5))[0]["open_at_end"] == 1


def test_first_response_and_updates_on_time():
    updates = [UpdateRow(at(100), at(90), "met"), UpdateRow(at(100), at(110), "met"),
               UpdateRow(at(50), None, "open"), UpdateRow(at(500), None, "open"), UpdateRow(at(60), at(40), "cancelled")]
    result = figures(ROWS, updates, at(200))
    complaints = result["groups"][0]
    assert (complaints["median_first_response_s"], complaints["first_response_within_target"]) == (60.0, 2)
    assert (result["updates_due"], result["updates_on_time"], result["updates_late_or_missed"]) == (3, 1, 2)
