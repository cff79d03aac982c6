"""The scheduler's jobs, each through a real run (`runner.run_job` with the clock set by the test) against the
test database, checked by what lands in the outbox and by the job's run row: reminders before an event (with
the invitation attached, once per reminder, the nearest only, on both DST nights, off when the person turned
them off), the summary when registration closes, network planning, referral follow-up in working days, the
monthly coverage and the weekly digest (counts only, masked). Then exactly once: every job run twice, two
runs at once (two sessions racing for one key, on SQLite and PostgreSQL), and a run that fails half-way.

Dates are in the coming year (or later), so the tests do not age: registrations made today are older than
every reminder moment."""

import calendar
import threading
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from types import SimpleNamespace

import icalendar
import pytest
from conftest import USERS, outbox
from dateutil.easter import easter
from factories import base, make_event, make_referral, network, referral_action, register, user
from sqlalchemy import text
from sqlmodel import Session, delete, func, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.events import jobs as event_jobs
from nettverk.events.models import Event
from nettverk.mail.models import OutboxMessage
from nettverk.networks import jobs as network_jobs
from nettverk.networks import queries as network_queries
from nettverk.networks.models import Network
from nettverk.referrals import jobs as referral_jobs
from nettverk.scheduler.models import JobRun, Notification, NotificationSetting
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.scheduler.runner import JOBS, run_job
from nettverk.timeutil import OSLO, format_date

YEAR = date.today().year + 1
SETTINGS_LINE = "Du kan slå av slike e-poster under Varsler på kontoen din."
SETTINGS_URL = "http://nettverk.test/konto/varsler"
COORDINATOR, COORDINATOR_FOSEN, ADMIN = USERS["coordinator"], USERS["coordinator_fosen"], USERS["admin"]
PARTICIPANT = USERS["participant"]
NEED = "Foreldrene trenger hjelp med faste rutiner og grensesetting i hverdagen"
REFERENCE = "VAAR-REF-ABC"


@pytest.fixture(autouse=True)
def app_context(app):
    """The set-up calls the operations directly (as the jobs do), which render mail and build links."""
    with app.app_context():
        yield


# Clock and runs ----------------------------------------------------------------------------------


def oslo(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """An Oslo wall time as an aware UTC instant (fold=1: the second 02:xx of the October night)."""
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO).replace(fold=fold).astimezone(UTC)


def last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 6) % 7)


def run(app, name: str, now: datetime) -> JobRun:
    result = run_job(name, now=now, app=app)
    assert result.status == "ok", result.message
    return result


def sent(app, name: str, now: datetime) -> tuple[int, int]:
    result = run(app, name, now)
    return result.sent, result.skipped


def notices(db, template_subject: str, to: str | None = None) -> list[OutboxMessage]:
    return [m for m in outbox(db, to) if m.subject.startswith(template_subject)]


def clear_outbox(db) -> None:
    """Forget the mail the set-up made (confirmations, referral notices), so only the jobs' mail is left."""
    db.exec(
        delete(OutboxMessage).where(
            OutboxMessage.id.not_in(
                select(Notification.outbox_message_id).where(Notification.outbox_message_id.is_not(None))
            )
        )
    )
    db.commit()


def assert_footer(message: OutboxMessage) -> None:
    lines = message.body_text.rstrip().splitlines()
    assert lines[-2:] == [SETTINGS_LINE, SETTINGS_URL]
    assert f'<a href="{SETTINGS_URL}">{SETTINGS_LINE}</a></p>\n</body></html>' in message.body_html


# Set-up -------------------------------------------------------------------------------------------


def event_at(db, start: datetime, minutes: int = 180, **overrides) -> Event:
    """A published fagdag in Fosen starting at `start` (an instant that is a valid Oslo wall time)."""
    local, end = start.astimezone(OSLO), (start + timedelta(minutes=minutes)).astimezone(OSLO)
    times = {"start_time": local.time().replace(tzinfo=None), "end_time": end.time().replace(tzinfo=None)}
    return make_event(db, day=local.date(), end_date=end.date(), venue_name="Rissa kulturhus", **times | overrides)


send_referral = partial(make_referral, need=NEED, case_reference=REFERENCE)  # what the mail must never tell


# Reminders ----------------------------------------------------------------------------------------


def test_reminders_go_to_the_confirmed_once_each_with_the_event_as_an_invitation(app, db):
    start = oslo(date(YEAR, 5, 11), 9)
    event = event_at(db, start, capacity=2)
    register(db, event, PARTICIPANT)
    register(db, event, "kari.gjest@example.no", "Kari Gjest", by=COORDINATOR_FOSEN)
    register(db, event, USERS["service_staff"])  # full: waitlisted, gets no reminder
    clear_outbox(db)

    assert sent(app, "reminders", start - timedelta(days=8)) == (0, 0)
    assert sent(app, "reminders", start - timedelta(days=7) + timedelta(minutes=5)) == (2, 0)
    assert sent(app, "reminders", start - timedelta(days=7) + timedelta(minutes=5)) == (0, 2)  # the same run again
    assert sent(app, "reminders", start - timedelta(days=6, hours=12)) == (0, 2)
    assert sent(app, "reminders", start - timedelta(days=3)) == (0, 0)  # the 7-day one is past, the 1-day one to come
    assert sent(app, "reminders", start - timedelta(days=1) + timedelta(minutes=5)) == (2, 0)
    assert sent(app, "reminders", start - timedelta(hours=2)) == (0, 2)
    assert sent(app, "reminders", start + timedelta(hours=1)) == (0, 0)  # started: nothing more

    mails = notices(db, "Påminnelse")
    assert sorted((m.to_address, m.subject) for m in mails) == sorted(
        (to, f"Påminnelse: Fagdag om BTI {when}")
        for to in (PARTICIPANT, "kari.gjest@example.no")
        for when in ("om 7 dager", "i morgen")
    )
    assert not notices(db, "", USERS["service_staff"])
    mail = next(m for m in mails if m.to_address == PARTICIPANT and m.subject.endswith("i morgen"))
    assert "du er påmeldt et arrangement som starter i morgen" in mail.body_text
    assert f"Når: {format_date(start)} kl. 09.00–12.00" in mail.body_text
    assert "http://nettverk.test/mine-pameldinger" in mail.body_text
    assert "Legg arrangementet i kalenderen din" in mail.body_text
    assert_footer(mail)
    # The invitation the registrant already has, again: same UID and SEQUENCE, so it updates that entry.
    assert mail.calendar_method == "REQUEST"
    [vevent] = icalendar.Calendar.from_ical(mail.calendar_ics).walk("VEVENT")
    assert str(vevent["UID"]) == event.uid and int(vevent["SEQUENCE"]) == event.sequence
    assert vevent.decoded("DTSTART") == start
    assert str(vevent["ATTENDEE"]) == f"mailto:{PARTICIPANT}"

    db.expire_all()
    runs = db.exec(select(JobRun).where(JobRun.job == "reminders").order_by(JobRun.id)).all()
    assert [(r.status, r.sent, r.skipped) for r in runs] == [
        ("ok", 0, 0),
        ("ok", 2, 0),
        ("ok", 0, 2),
        ("ok", 0, 2),
        ("ok", 0, 0),
        ("ok", 2, 0),
        ("ok", 0, 2),
        ("ok", 0, 0),
    ]
    assert all(r.finished_at is not None for r in runs)


def test_only_the_nearest_reminder_is_sent_and_never_a_stale_one(app, db):
    start = oslo(date(YEAR, 6, 8), 10)
    event = event_at(db, start)
    register(db, event, PARTICIPANT)
    late = register(db, event, "sen.gjest@example.no", "Sen Gjest", by=COORDINATOR_FOSEN)
    late.confirmed_at = start - timedelta(days=2)  # registered two days before: the 7-day moment is long gone
    db.add(late)
    db.commit()
    clear_outbox(db)

    # The scheduler was down for the week: its first run, 12 hours before the start, sends the 1-day
    # reminder to both, never the 7-day one.
    assert sent(app, "reminders", start - timedelta(hours=12)) == (2, 0)
    mails = notices(db, "Påminnelse")
    assert sorted(m.to_address for m in mails) == [PARTICIPANT, "sen.gjest@example.no"]
    assert all(m.subject == "Påminnelse: Fagdag om BTI i morgen" for m in mails)
    assert sent(app, "reminders", start - timedelta(hours=11)) == (0, 2)


def test_a_registration_after_the_moment_waits_for_the_next_reminder_and_a_late_one_is_dropped(app, db):
    start = oslo(date(YEAR, 6, 15), 10)
    event = event_at(db, start)
    late = register(db, event, "sen.gjest@example.no", "Sen Gjest", by=COORDINATOR_FOSEN)
    late.confirmed_at = start - timedelta(days=2)
    db.add(late)
    db.commit()
    register(db, event, PARTICIPANT)
    clear_outbox(db)

    # The 7-day reminder is more than a day late (the scheduler was down): dropped for everyone.
    assert sent(app, "reminders", start - timedelta(days=5)) == (0, 0)
    # Half a day after the 7-day moment it is due, but not for the late registrant: their seat came later.
    assert sent(app, "reminders", start - timedelta(days=6, hours=12)) == (1, 0)
    assert [m.to_address for m in notices(db, "Påminnelse")] == [PARTICIPANT]
    assert sent(app, "reminders", start - timedelta(days=1, hours=-1)) == (2, 0)
    assert sorted(m.to_address for m in notices(db, "Påminnelse")) == [PARTICIPANT, PARTICIPANT, "sen.gjest@example.no"]


def test_a_reminder_turned_off_is_skipped_and_nothing_is_queued(app, db):
    start = oslo(date(YEAR, 9, 14), 9)
    own, by_address = event_at(db, start), event_at(db, start + timedelta(days=1), title="Fagdag to")
    register(db, own, PARTICIPANT)
    # Registered by a coordinator with the same address: the account's setting applies too.
    register(db, by_address, PARTICIPANT, "Hanne", by=COORDINATOR_FOSEN, user=None)
    register(db, own, "kari.gjest@example.no", "Kari Gjest", by=COORDINATOR_FOSEN)
    db.add(NotificationSetting(user_id=user(db, PARTICIPANT).id, kind="reminder", enabled=False))
    db.commit()
    clear_outbox(db)

    assert sent(app, "reminders", start - timedelta(days=7) + timedelta(minutes=5)) == (1, 1)
    # A day later the second event's reminder is due: off for the address's account too. (The first one's
    # is more than a day old by now and no longer looked at.)
    assert sent(app, "reminders", start - timedelta(days=6) + timedelta(minutes=5)) == (0, 1)
    assert [m.to_address for m in outbox(db)] == ["kari.gjest@example.no"]
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Notification)).one() == 1


@pytest.mark.parametrize("fold, expected", [(0, [0, 1, 0]), (1, [0, 0, 1])], ids=["first-0230", "second-0230"])
def test_dst_october_a_reminder_due_in_the_doubled_hour_is_sent_once(app, db, fold, expected):
    """The last Sunday of October, 03:00 CEST becomes 02:00 CET: 02:05 comes twice, and the hourly job
    runs at both. The 1-day reminder's moment is 02:30 in the first or the second pass of the hour."""
    night = last_sunday(YEAR, 10)
    moment = oslo(night, 2, 30, fold=fold)
    start = moment + timedelta(days=1)  # Monday 01:30 or 02:30 CET, a time that exists once
    event = event_at(db, start, minutes=120, reminder_days="1")
    register(db, event, PARTICIPANT)
    clear_outbox(db)

    runs = [oslo(night, 2, 5, fold=0), oslo(night, 2, 5, fold=1), oslo(night, 3, 5)]
    assert runs[1] - runs[0] == timedelta(hours=1) and runs[2] - runs[1] == timedelta(hours=1)
    assert [sent(app, "reminders", now)[0] for now in runs] == expected
    [mail] = notices(db, "Påminnelse")
    assert mail.to_address == PARTICIPANT and mail.calendar_method == "REQUEST"


def test_dst_march_a_reminder_due_in_the_missing_hour_is_sent_once_at_0305(app, db):
    """The last Sunday of March, 02:00 CET becomes 03:00 CEST: there is no 02:05 run. An event on Monday
    at 02:30 has its 1-day reminder at 02:30 the day before by the clock, which does not exist (01:30 CET
    as an instant); the run at 03:05 sends it, and the next run does not send it again."""
    night = last_sunday(YEAR, 3)
    start = oslo(night + timedelta(days=1), 2, 30)
    event = event_at(db, start, minutes=120, reminder_days="1")
    register(db, event, PARTICIPANT)
    clear_outbox(db)

    runs = [oslo(night, 1, 5), oslo(night, 3, 5), oslo(night, 4, 5)]
    assert runs[1] - runs[0] == timedelta(hours=1)  # the hourly job's next run after 01:05 is 03:05
    assert [sent(app, "reminders", now) for now in runs] == [(0, 0), (1, 0), (0, 1)]
    assert len(notices(db, "Påminnelse")) == 1


# Registration closed ------------------------------------------------------------------------------


def test_when_registration_closes_the_coordinators_get_the_numbers(app, db):
    day = date(YEAR, 5, 3)
    deadline = oslo(day, 12)
    fagdag = event_at(db, oslo(date(YEAR, 5, 11), 9), capacity=2, registration_closes_at=deadline)
    for address in (PARTICIPANT, USERS["service_staff"], USERS["service_leader"]):
        register(db, fagdag, address)
    leaders = network(db, "barnevernledernettverket-i-trondelag")  # Namdalen, Innherred, Fosen, Trondheimsregionen
    meeting = event_at(
        db,
        oslo(date(YEAR, 5, 12), 10),
        kind="nettverksmote",
        title="Ledermøte",
        base_id=None,
        network_id=leaders.id,
        registration_closes_at=deadline - timedelta(hours=1),
    )
    clear_outbox(db)

    assert sent(app, "registration_closed", oslo(day, 6, 30)) == (0, 0)  # not yet closed
    assert sent(app, "registration_closed", oslo(day + timedelta(days=1), 6, 30)) == (3, 0)
    assert sent(app, "registration_closed", oslo(day + timedelta(days=1), 6, 30)) == (0, 3)

    [mail] = notices(db, "Påmeldingen er stengt: Fagdag om BTI")
    assert mail.to_address == COORDINATOR_FOSEN
    assert "Påmeldte: 2 av 2 plasser\nPå venteliste: 1\n" in mail.body_text
    assert f"gikk ut {format_date(deadline)} kl. 12.00" in mail.body_text
    assert f"http://nettverk.test/arrangementer/{fagdag.id}/deltakere" in mail.body_text
    assert_footer(mail)
    assert PARTICIPANT not in mail.body_text and PARTICIPANT not in mail.body_html  # numbers, not names
    assert sorted(m.to_address for m in notices(db, "Påmeldingen er stengt: Ledermøte")) == sorted(
        [COORDINATOR, COORDINATOR_FOSEN]
    )
    assert not outbox(db, ADMIN)
    assert meeting.id


def test_a_deadline_missed_while_the_scheduler_was_down_is_reported_within_a_week(app, db):
    now = oslo(date(YEAR, 5, 10), 6, 30)
    start = oslo(date(YEAR, 5, 20), 9)
    event_at(db, start, title="Fagdag seks dager", registration_closes_at=now - timedelta(days=6))
    event_at(db, start, title="Fagdag åtte dager", registration_closes_at=now - timedelta(days=8))
    clear_outbox(db)

    assert sent(app, "registration_closed", now) == (1, 0)
    assert [m.subject for m in outbox(db)] == ["Påmeldingen er stengt: Fagdag seks dager"]


# Network planning ---------------------------------------------------------------------------------


def planned(db) -> list[Event]:
    db.expire_all()
    return list(db.exec(select(Event).where(Event.series_date.is_not(None)).order_by(Event.id)))


def test_network_planning_makes_drafts_once_and_tells_the_coordinators_once(app, db):
    now = oslo(date(YEAR, 1, 10), 5)
    first = run(app, "network_planning", now)
    made = planned(db)
    assert made and all(e.status == "draft" for e in made)
    horizon = date(YEAR, 7, 10)  # six months
    assert all(date(YEAR, 1, 10) <= e.series_date <= horizon for e in made)
    by_network = {n.id: n for n in db.exec(select(Network))}
    expected = []
    for network_id in sorted({e.network_id for e in made}):
        bases = network_queries.base_ids(db, network_id)
        coordinators = db.exec(
            select(User.email)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == "coordinator", RoleAssignment.base_id.in_(bases))
        ).all()
        expected += [(email, f"Nye møteutkast: {by_network[network_id].name}") for email in set(coordinators)]
    mails = notices(db, "Nye møteutkast")
    assert sorted((m.to_address, m.subject) for m in mails) == sorted(expected)
    assert (first.sent, first.skipped, first.failed) == (len(expected), 0, 0)
    assert {m.to_address for m in mails} == {COORDINATOR, COORDINATOR_FOSEN}

    fosen_bti = network(db, "bti-nettverk-fosen")
    [mail] = [m for m in mails if m.to_address == COORDINATOR_FOSEN and fosen_bti.name in m.subject]
    for meeting in (e for e in made if e.network_id == fosen_bti.id):
        assert format_date(meeting.starts_at) in mail.body_text
    assert f"http://nettverk.test/nettverk/{fosen_bti.slug}" in mail.body_text
    assert_footer(mail)

    # Again the same night, and the next night: nothing new, nobody told again.
    assert sent(app, "network_planning", now) == (0, 0)
    assert sent(app, "network_planning", now + timedelta(days=1)) == (0, 0)
    assert planned(db) == made
    assert len(notices(db, "Nye møteutkast")) == len(expected)

    # Two months later the horizon has moved: only the new meetings are made, and told about.
    later = run(app, "network_planning", oslo(date(YEAR, 3, 10), 5))
    new = [e for e in planned(db) if e.id not in {m.id for m in made}]
    assert new and all(date(YEAR, 7, 10) < e.series_date <= date(YEAR, 9, 10) for e in new)
    assert later.sent == len(notices(db, "Nye møteutkast")) - len(expected) > 0


# Referral follow-up -------------------------------------------------------------------------------


def easter_year() -> int:
    """A year from next on whose Easter leaves the fortnight after it free of other holidays (1 May)."""
    year = YEAR
    while easter(year) + timedelta(days=10) >= date(year, 5, 1):
        year += 1
    return year


def test_referral_follow_up_counts_working_days_and_tells_the_leader_after_twice_as_many(app, db):
    """Sent on the Wednesday before Easter: Maundy Thursday, Good Friday, Easter Monday and the weekend are no
    working days. With 3 days the team is reminded on the Friday after Easter (Tuesday, Wednesday and
    Thursday have passed), the leader after 6 (the Wednesday after)."""
    sunday = easter(easter_year())
    wednesday = sunday - timedelta(days=4)
    referral = send_referral(db, tiltak="familierad", sent_at=oslo(wednesday, 14))
    clear_outbox(db)
    team, leader = USERS["provider_fosen"], USERS["service_leader"]

    def morning(days_after_easter: int) -> datetime:
        return oslo(sunday + timedelta(days=days_after_easter), 8)

    assert referral_jobs.working_days_between(wednesday, sunday + timedelta(days=1)) == 0  # Easter Monday
    for day in (1, 2, 3, 4):  # Easter Monday, Tuesday, Wednesday, Thursday: not late
        assert sent(app, "referral_follow_up", morning(day)) == (0, 0), day
    assert sent(app, "referral_follow_up", morning(5)) == (1, 0)  # Friday: three working days have passed
    assert sent(app, "referral_follow_up", morning(5)) == (0, 1)
    [mail] = outbox(db)
    assert mail.to_address == team
    assert mail.subject == "Henvendelse til Familieråd er ikke bekreftet mottatt"
    assert "sendt for 3 arbeidsdager siden" in mail.body_text
    assert f"http://nettverk.test/henvendelser/{referral.public_id}" in mail.body_text
    assert_footer(mail)

    assert sent(app, "referral_follow_up", morning(8)) == (0, 1)  # Monday: 4
    assert sent(app, "referral_follow_up", morning(9)) == (0, 1)  # Tuesday: 5, the leader not yet
    assert not outbox(db, leader)
    assert sent(app, "referral_follow_up", morning(10)) == (2, 0)  # Wednesday: 6 = 2N
    [to_leader] = outbox(db, leader)
    assert "sendt for 6 arbeidsdager siden" in to_leader.body_text and "leder for tjenesten" in to_leader.body_text
    assert [m.body_text.count("andre påminnelse") for m in outbox(db, team)] == [0, 1]
    for message in outbox(db):  # never any content
        for secret in (NEED, REFERENCE, "Indre Fosen", "Fosen barneverntjeneste"):
            assert secret not in message.body_text and secret not in message.body_html

    referral_action(db, referral, "receive", by="provider_fosen")
    clear_outbox(db)
    assert sent(app, "referral_follow_up", morning(11)) == (0, 0)


def test_working_days_skip_weekends_and_norwegian_holidays():
    assert referral_jobs.working_days_between(date(2027, 3, 24), date(2027, 3, 30)) == 0  # Easter
    assert referral_jobs.working_days_between(date(2027, 3, 24), date(2027, 4, 2)) == 3
    assert referral_jobs.working_days_between(date(2027, 5, 14), date(2027, 5, 19)) == 1  # 17 May and Whit Monday
    # Christmas Eve is a working day; Christmas Day and Boxing Day fall on the weekend in 2027.
    assert referral_jobs.working_days_between(date(2027, 12, 23), date(2027, 12, 29)) == 3
    assert not referral_jobs.is_working_day(date(2027, 5, 1)) and referral_jobs.is_working_day(date(2027, 12, 24))


# Coverage -----------------------------------------------------------------------------------------


def test_coverage_goes_to_each_base_coordinator_once_a_month(app, db):
    first = oslo(date(YEAR, 2, 1), 7)
    assert sent(app, "coverage", first)[0] == 2
    for email, slug in ((COORDINATOR, "namdalen"), (COORDINATOR_FOSEN, "fosen")):
        [mail] = outbox(db, email)
        missing = network_queries.coverage(db, base(db, slug), today=date(YEAR, 2, 1)).units_missing
        assert missing
        assert mail.subject.startswith(f"Dekning i {base(db, slug).name}: {len(missing)} enheter")
        for row in missing:
            assert f"- {row.unit.name} ({row.service.name}" in mail.body_text
            assert row.unit.name in mail.body_html
        assert f"http://nettverk.test/kompetansebaser/{slug}/dekning" in mail.body_text
        assert_footer(mail)
    assert not outbox(db, ADMIN)
    assert sent(app, "coverage", first) == (0, 2)
    assert sent(app, "coverage", first + timedelta(days=10)) == (0, 2)  # the same month
    assert sent(app, "coverage", oslo(date(YEAR, 3, 1), 7)) == (2, 0)  # the next month


# Weekly digest ------------------------------------------------------------------------------------


def a_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def test_the_weekly_digest_counts_only_and_masks_small_numbers(app, db):
    monday = a_monday(YEAR, 9)
    now = oslo(monday, 7)
    soon = event_at(db, oslo(monday + timedelta(days=9), 9), capacity=2, title="Fagdag snart")
    for address in (PARTICIPANT, USERS["service_staff"], USERS["service_leader"]):
        register(db, soon, address)
    event_at(db, oslo(monday + timedelta(weeks=5), 9), title="Fagdag senere")  # beyond four weeks
    send_referral(db, tiltak="familierad")  # 1 sent: "<3"
    for n in range(3):  # 3 sent: shown
        send_referral(
            db,
            tiltak="pmto-foreldretrening",
            need=f"{NEED} nummer {'abc'[n]}",
            case_reference=f"{REFERENCE}-{'abc'[n]}",
        )
    receive_pmto = send_referral(db, tiltak="pmto-foreldretrening", case_reference="ANNEN-REF")
    referral_action(db, receive_pmto, "receive", by="provider")  # the team of PMTO (Innherred barnevern)
    clear_outbox(db)

    assert sent(app, "weekly_digest", now) == (1, 0)  # Namdalen has nothing this week: no mail
    assert sent(app, "weekly_digest", now + timedelta(days=2)) == (0, 1)  # the same ISO week
    [mail] = outbox(db)
    assert mail.to_address == COORDINATOR_FOSEN
    _, week, _ = monday.isocalendar()
    assert mail.subject == f"Ukeoversikt for uke {week}"
    body = mail.body_text
    assert "Fagdag snart" in body and "Påmeldte: 2 av 2, på venteliste: 1" in body
    assert "Fagdag senere" not in body
    assert "- Familieråd (Fosen): Sendt <3, Mottatt 0, Venter på oppstart 0, I gang 0" in body
    assert "- PMTO foreldretrening (Fosen): Sendt 3, Mottatt <3, Venter på oppstart 0, I gang 0" in body
    assert "&lt;3" in mail.body_html
    for secret in (NEED, REFERENCE, "ANNEN-REF", PARTICIPANT, "/henvendelser/"):
        assert secret not in body and secret not in mail.body_html
    assert_footer(mail)
    assert sent(app, "weekly_digest", now + timedelta(weeks=1)) == (1, 0)  # a new week


# Exactly once -------------------------------------------------------------------------------------


def a_first_monday() -> date:
    """The first day of a month that is a Monday, from next year: coverage and the digest both run then."""
    year, month = YEAR, 1
    while date(year, month, 1).weekday() != 0:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, 1)


def test_every_job_run_twice_sends_each_message_once(app, db):
    day = a_first_monday()
    now = oslo(day, 8, 5)
    event = event_at(db, now + timedelta(days=1), registration_closes_at=now - timedelta(hours=3))
    register(db, event, PARTICIPANT)
    send_referral(db, tiltak="familierad", sent_at=now - timedelta(days=21))
    clear_outbox(db)

    first = {spec.name: run(app, spec.name, now) for spec in JOBS}
    mails = outbox(db)
    for name in (
        "reminders",
        "registration_closed",
        "network_planning",
        "referral_follow_up",
        "coverage",
        "weekly_digest",
    ):
        assert first[name].sent > 0, name
    assert len(mails) == sum(r.sent for r in first.values())
    drafts = len(planned(db))

    second = {spec.name: run(app, spec.name, now) for spec in JOBS}
    for name, result in second.items():
        assert result.sent == 0, name
        # Network planning finds nothing left to plan, so it has nothing to skip either.
        assert result.skipped == (0 if name == "network_planning" else first[name].sent), name
    assert len(outbox(db)) == len(mails)
    assert len({(m.to_address, m.subject) for m in outbox(db)}) == len(mails)
    assert len(planned(db)) == drafts


def test_two_runs_at_once_send_a_notice_once(app):
    """Two sessions (two schedulers) race for the same key. On PostgreSQL the second one's insert waits for
    the first's uncommitted row and then meets the unique rule; on SQLite its transaction (BEGIN IMMEDIATE, as
    run_job begins it) waits for the first's commit and then finds the key. Either way it skips, and no
    IntegrityError escapes."""
    engine = app.extensions["nettverk.engine"]
    sqlite = engine.dialect.name == "sqlite"
    person = SimpleNamespace(name="Kari", email="kari@example.no")

    def begin(session):
        if sqlite:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})

    def notify(session, counts):
        return notify_once(
            session,
            counts,
            job="test",
            key="test:once",
            email=person.email,
            user_id=None,
            kind="reminder",
            subject="Én gang",
            template="role_granted",
            user=person,
            actor=person,
            role="Deltaker",
        )

    second: dict = {}
    started = threading.Event()

    def other_scheduler():
        try:
            with app.app_context(), Session(engine, expire_on_commit=False) as session:
                started.set()
                begin(session)
                counts = Counts()
                second["result"] = notify(session, counts)
                session.commit()
                second["counts"] = counts
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            second["error"] = error

    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        begin(session)
        counts = Counts()
        assert notify(session, counts) is True  # the key is taken, not yet committed
        thread = threading.Thread(target=other_scheduler)
        thread.start()
        started.wait(5)
        if sqlite:
            clock.sleep(0.5)  # the other one waits for the write lock
        else:
            with engine.connect() as watcher:  # until the other one's insert waits for our row
                for _ in range(200):
                    waiting = watcher.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database()"
                        )
                    ).scalar()
                    watcher.rollback()  # a transaction sees pg_stat_activity as it was at its first read
                    if waiting:
                        break
                    clock.sleep(0.05)
                assert waiting, "the second session never waited for the first one's row"
        session.commit()
    thread.join(20)
    assert "error" not in second, repr(second.get("error"))
    assert second["result"] is False and (second["counts"].sent, second["counts"].skipped) == (0, 1)
    with Session(engine) as check:
        assert check.exec(select(func.count()).select_from(Notification)).one() == 1
        assert check.exec(select(func.count()).select_from(OutboxMessage)).one() == 1


def test_two_schedulers_running_a_job_at_once_send_each_reminder_once(app, db):
    start = oslo(date(YEAR, 10, 5), 9)
    event = event_at(db, start)
    for address in (PARTICIPANT, USERS["service_staff"], USERS["service_leader"], USERS["provider"]):
        register(db, event, address)
    clear_outbox(db)
    now = start - timedelta(days=1) + timedelta(minutes=5)
    results, errors = [], []

    def scheduler():
        try:
            results.append(run_job("reminders", now=now, app=app))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert [r.status for r in results] == ["ok", "ok"]
    assert sum(r.sent for r in results) == 4 and sum(r.skipped for r in results) == 4
    assert len(notices(db, "Påminnelse")) == 4


def test_a_job_that_fails_half_way_sends_nothing_and_the_rerun_sends_each_notice_once(app, db, monkeypatch):
    start = oslo(date(YEAR, 4, 20), 9)
    event = event_at(db, start)
    for address in (PARTICIPANT, USERS["service_staff"], USERS["service_leader"]):
        register(db, event, address)
    clear_outbox(db)
    now = start - timedelta(days=7) + timedelta(minutes=5)

    real, calls = event_jobs.notify_once, []

    def flaky(*args, **kwargs):
        calls.append(kwargs["key"])
        if len(calls) == 2:  # the first notice is queued; the second send fails
            raise RuntimeError("the mail server's template cache fell over")
        return real(*args, **kwargs)

    monkeypatch.setattr(event_jobs, "notify_once", flaky)
    failed = run_job("reminders", now=now, app=app)
    assert (failed.status, failed.message) == ("failed", "RuntimeError")
    assert failed.finished_at is not None
    assert outbox(db) == []
    assert db.exec(select(func.count()).select_from(Notification)).one() == 0

    monkeypatch.setattr(event_jobs, "notify_once", real)
    assert sent(app, "reminders", now) == (3, 0)
    assert sent(app, "reminders", now) == (0, 3)
    assert sorted(m.to_address for m in outbox(db)) == sorted(
        [PARTICIPANT, USERS["service_staff"], USERS["service_leader"]]
    )
    db.expire_all()
    statuses = db.exec(select(JobRun.status).where(JobRun.job == "reminders").order_by(JobRun.id)).all()
    assert statuses == ["failed", "ok", "ok"]


def test_network_planning_that_fails_half_way_leaves_no_drafts_and_the_rerun_tells_once(app, db, monkeypatch):
    now = oslo(date(YEAR, 1, 10), 5)
    real, calls = network_jobs.notify_once, []

    def flaky(*args, **kwargs):
        calls.append(kwargs["key"])
        if len(calls) == 2:
            raise RuntimeError("down")
        return real(*args, **kwargs)

    monkeypatch.setattr(network_jobs, "notify_once", flaky)
    assert run_job("network_planning", now=now, app=app).status == "failed"
    assert planned(db) == [] and outbox(db) == []

    monkeypatch.setattr(network_jobs, "notify_once", real)
    first = run(app, "network_planning", now)
    assert first.sent == len(outbox(db)) > 1
    assert len({(m.to_address, m.subject) for m in outbox(db)}) == first.sent
    assert sent(app, "network_planning", now) == (0, 0)


def test_jobs_read_the_settings(app):
    assert app.config["PLANNING_HORIZON_MONTHS"] == 6
    assert app.config["REFERRAL_FOLLOW_UP_DAYS"] == 3


def test_a_guest_without_an_account_is_not_sent_to_account_settings(app, db):
    start = oslo(date(YEAR, 5, 11), 9)
    event = event_at(db, start)
    register(db, event, "kari.gjest@example.no", "Kari Gjest", by=COORDINATOR_FOSEN)
    register(db, event, PARTICIPANT)
    clear_outbox(db)
    assert sent(app, "reminders", start - timedelta(days=1) + timedelta(minutes=5)) == (2, 0)
    [guest_mail] = notices(db, "Påminnelse", "kari.gjest@example.no")
    assert "/konto/varsler" not in guest_mail.body_text and "/konto/varsler" not in guest_mail.body_html
    assert guest_mail.body_text.rstrip().endswith(
        "Du får denne e-posten fordi du er påmeldt med denne adressen. Melder du deg av, får du ingen flere."
    )
    assert_footer(notices(db, "Påminnelse", PARTICIPANT)[0])  # an account holder still gets the settings link
