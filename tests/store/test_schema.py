"""What the store cannot hold: no time finer than a day, no device, no address."""

from __future__ import annotations

from sqlalchemy import Date, DateTime, Interval, Time

from offramp.store.tables import metadata, responses

# Words a column about a person's device, address or moment would carry.
FORBIDDEN = ("ip", "addr", "agent", "browser", "cookie", "referer", "referrer", "host", "time",
             "stamp", "created", "session", "user")


def test_no_column_can_hold_a_time_or_anything_about_a_device() -> None:
    for table in metadata.sorted_tables:
        for column in table.columns:
            assert not isinstance(column.type, DateTime | Time | Interval), column
            words = column.name.split("_")
            assert not any(w in FORBIDDEN for w in words), column


def test_a_response_row_is_context_in_clear_and_sealed_answers() -> None:
    assert [c.name for c in responses.columns] == [
        "response_id", "submission_id", "instrument_id", "instrument_version", "page_id", "arm",
        "language", "day", "seconds", "sealed", "exported_day",
    ]
    assert isinstance(responses.c.day.type, Date)
