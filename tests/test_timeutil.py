"""Dates as a Norwegian reads them, in Oslo time, from stored UTC: the filters every template uses."""

from datetime import UTC, date, datetime

from nettverk.timeutil import (
    format_date,
    format_datetime,
    format_month,
    format_short_date,
    format_span,
    iso,
    oslo_midnight,
)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_day_and_a_time_in_oslo_time_from_utc():
    assert format_date(date(2025, 3, 11)) == "tirsdag 11. mars 2025"
    assert format_datetime(utc(2025, 3, 11, 8, 0)) == "tirsdag 11. mars 2025 kl. 09.00"  # winter: UTC+1
    assert format_datetime(utc(2025, 6, 30, 22, 30)) == "tirsdag 1. juli 2025 kl. 00.30"  # summer: the next day
    assert format_short_date(utc(2025, 12, 31, 23, 30)) == "1. januar 2026"
    assert format_month(date(2025, 5, 17)) == "mai 2025"
    assert iso(utc(2025, 3, 11, 8, 0)) == "2025-03-11T09:00+01:00" and iso(date(2025, 3, 11)) == "2025-03-11"
    assert format_date(None) == format_datetime(None) == format_short_date(None) == iso(None) == ""


def test_spans_say_each_part_once():
    # one day: the end is only a time
    assert format_span(utc(2025, 3, 11, 8), utc(2025, 3, 11, 14, 30)) == "tirsdag 11. mars 2025 kl. 09.00–15.30"
    # several days with times: the year once, at the end
    assert (
        format_span(utc(2025, 3, 11, 8), utc(2025, 3, 12, 14))
        == "tirsdag 11. mars kl. 09.00 – onsdag 12. mars 2025 kl. 15.00"
    )
    # over new year: both years
    assert (
        format_span(utc(2025, 12, 31, 17), utc(2026, 1, 1, 1))
        == "onsdag 31. desember 2025 kl. 18.00 – torsdag 1. januar 2026 kl. 02.00"
    )


def test_all_day_spans_name_the_days_not_midnight():
    def all_day(first, after_last):  # stored as Oslo midnights in UTC; the end is the day after the last
        return format_span(oslo_midnight(date(*first)), oslo_midnight(date(*after_last)), all_day=True)

    assert all_day((2025, 3, 11), (2025, 3, 12)) == "tirsdag 11. mars 2025"
    assert all_day((2025, 3, 11), (2025, 3, 14)) == "tirsdag 11.–torsdag 13. mars 2025"
    assert all_day((2025, 3, 31), (2025, 4, 3)) == "mandag 31. mars – onsdag 2. april 2025"  # over the DST night
    assert all_day((2025, 12, 30), (2026, 1, 3)) == "tirsdag 30. desember 2025 – fredag 2. januar 2026"
