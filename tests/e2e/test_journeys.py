"""The main journeys, walked in chromium as a person would: finding the way by links, labels and buttons,
typing into the forms. Each journey runs three ways: on a desktop screen, on a phone (375 px, touch), and on
a desktop with the keyboard alone (Tab, typing, arrow keys, Space and Enter: no clicks at all). axe checks
every page the journey visits; screenshots of the key pages go to the run folder."""

import io
import re
from contextlib import nullcontext
from datetime import date, datetime, time, timedelta

import pytest
from conftest import USERS
from dateutil.rrule import rrulestr
from sqlmodel import select

from nettverk.events.models import Event, Registration
from nettverk.networks.models import Network
from nettverk.referrals.models import Referral
from nettverk.registry.models import Municipality, MunicipalityChange
from nettverk.timeutil import to_oslo

WAYS = ["desktop", "phone", "keyboard"]
MAX_TABS = 250
MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


def norwegian_date(day: date) -> str:
    """'9. mars 2027', the part of the app's dates («tirsdag 9. mars 2027») that does not depend on the weekday."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


class Person:
    """Someone using the app in a browser: with mouse (desktop), finger (phone) or keyboard alone.
    Every field is found by its label, every button and link by its name, as a screen reader would."""

    def __init__(self, page, way: str, check_axe, shot):
        self.page = page
        self.way = way
        self.keyboard = way == "keyboard"
        self._check_axe = check_axe
        self._shot = shot

    # -- looking
    def look(self, name: str, screenshot: bool = False):
        """The page as it is now passes axe (and is photographed when it is a key page). The keyboard way
        walks the same pages at the same desktop size, so axe and the camera have seen them already."""
        if self.keyboard:
            return
        self._check_axe(self.page, name)
        if screenshot:
            self._shot(self.page, name)

    def sees(self, text: str):
        main = self.page.get_by_role("main")
        assert text in main.inner_text(), f"{text!r} not on {self.page.url}:\n{main.inner_text()[:2000]}"

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    # -- moving about
    def open(self, path: str):
        """Typing an address (or following a link from an e-mail)."""
        self.page.goto(path)

    def _focus(self, target):
        """Tab until `target` has the focus (the keyboard user's way to a field, link or button). On a fresh
        page, a target in the main content is reached past the menu through the skip link, as people do."""
        at_top = self.page.evaluate("document.activeElement === document.body")
        if at_top and target.evaluate("element => element.closest('main') !== null"):
            self.page.keyboard.press("Tab")
            skip = self.page.get_by_role("link", name="Hopp til hovedinnhold")
            if skip.count() and skip.evaluate("element => element === document.activeElement"):
                self.page.keyboard.press("Enter")
        for _ in range(MAX_TABS):
            if target.evaluate("element => element === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {target} on {self.page.url}")

    def _activate(self, target, navigates: bool = False):
        """Click, tap or (keyboard) Tab to it and press Enter; with navigates, wait for the next page and return
        its response. The Tab walk comes first: the skip link on the way is a navigation of its own."""
        if self.keyboard:
            self._focus(target)
        with self.page.expect_navigation() if navigates else nullcontext() as navigation:
            if self.keyboard:
                self.page.keyboard.press("Enter")
            elif self.way == "phone":
                target.tap()
            else:
                target.click()
        return navigation.value if navigates else None

    def follow(self, name: str, within=None, exact: bool = True):
        """Follow a link, and wait for the next page."""
        scope = within if within is not None else self.page
        self._activate(scope.get_by_role("link", name=name, exact=exact).first, navigates=True)

    def menu(self, name: str):
        """A link in the main menu (opening the menu first where a narrow screen folds it away)."""
        nav = self.page.get_by_role("navigation", name="Hovedmeny")
        link = nav.get_by_role("link", name=name, exact=True)
        if not link.is_visible():
            toggle = self.page.get_by_role("button", name=re.compile("^Meny"))
            self._activate(toggle)
        self._activate(link, navigates=True)

    def press(self, name: str, within=None):
        """Press a button that sends a form; returns the HTTP status of the answer."""
        scope = within if within is not None else self.page
        response = self._activate(scope.get_by_role("button", name=name, exact=True), navigates=True)
        return response.status if response is not None else None

    def open_details(self, summary: str):
        """Open a <details> by its summary (a disclosure button)."""
        self._activate(self.page.locator("summary", has_text=summary).first)

    # -- filling in
    def field(self, label: str):
        """The form field with this label (an optional field's label ends in «(valgfritt)»)."""
        return self.page.get_by_label(re.compile(rf"^{re.escape(label)}( \(valgfritt\))?$"))

    def fill(self, label: str, text: str):
        target = self.field(label)
        if self.keyboard:
            self._focus(target)
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Delete")
            self.page.keyboard.type(text)
        else:
            target.fill(text)
        assert target.input_value() == text

    def fill_date(self, label: str, day: date):
        target = self.field(label)
        if self.keyboard:  # chromium's Norwegian date field: dd.mm.åååå, typed as digits
            self._focus(target)
            self.page.keyboard.type(day.strftime("%d%m%Y"))
        else:
            target.fill(day.isoformat())
        assert target.input_value() == day.isoformat()

    def fill_time(self, label: str, hours: int, minutes: int = 0):
        target = self.field(label)
        if self.keyboard:
            self._focus(target)
            self.page.keyboard.type(f"{hours:02d}{minutes:02d}")
        else:
            target.fill(f"{hours:02d}:{minutes:02d}")
        assert target.input_value() == f"{hours:02d}:{minutes:02d}"

    def choose(self, label: str, option: str):
        """Choose an option of a select by its text (or a part of it)."""
        target = self.field(label)
        texts = target.locator("option").all_inner_texts()
        wanted = next((i for i, text in enumerate(texts) if text.strip() == option), None)
        if wanted is None:
            wanted = next((i for i, text in enumerate(texts) if option in text), None)
        assert wanted is not None, f"no option {option!r} in {label!r}: {texts}"
        if self.keyboard:
            self._focus(target)
            current = target.evaluate("select => select.selectedIndex")
            key = "ArrowDown" if wanted > current else "ArrowUp"
            for _ in range(abs(wanted - current)):
                self.page.keyboard.press(key)
        else:
            target.select_option(index=wanted)
        assert target.evaluate("select => select.selectedIndex") == wanted

    def tick(self, label: str):
        target = self.field(label)
        if self.keyboard:
            self._focus(target)
            self.page.keyboard.press("Space")
        elif self.way == "phone":
            target.tap()
        else:
            target.check()
        assert target.is_checked()


@pytest.fixture
def person(page_for, check_axe, shot):
    """person(way) -> a new Person in a browser of their own (own cookies); person(way, role) logs in first."""

    def make(way: str, role: str | None = None) -> Person:
        page = page_for("phone" if way == "phone" else "desktop")
        someone = Person(page, way, check_axe, shot)
        if role is not None:
            log_in(someone, role)
        return someone

    return make


def log_in(someone: Person, role: str):
    someone.open("/")
    someone.menu("Logg inn")
    someone.fill("E-post", USERS[role])
    someone.fill("Passord", "demo-passord-2026")
    assert someone.press("Logg inn") == 200
    assert "/logg-inn" not in someone.page.url


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


# 1 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_coordinator_plans_and_publishes_a_fagdag(way, person, live_server):
    coordinator = person(way, "coordinator")
    title = f"Fagdag Namdalen: Traumebevisst omsorg ({way})"
    day = next_weekday(date.today() + timedelta(days=40), 3)  # a Thursday some weeks ahead

    coordinator.menu("Kompetansebaser")
    coordinator.look("kompetansebaser")
    coordinator.follow("Namdalen")
    coordinator.look("kompetansebase")
    coordinator.follow("Planlegg arrangement")
    coordinator.look("nytt-arrangement", screenshot=True)
    assert coordinator.field("Kompetansebase").evaluate("s => s.selectedOptions[0].text") == "Namdalen"
    coordinator.choose("Type", "Fagdag")
    coordinator.fill("Tittel", title)
    coordinator.fill("Beskrivelse", "Hvordan møter vi barn som har opplevd vold og omsorgssvikt?")
    coordinator.fill_date("Startdato", day)
    coordinator.fill_time("Starter kl.", 9)
    coordinator.fill_date("Sluttdato", day)
    coordinator.fill_time("Slutter kl.", 15, 30)
    coordinator.fill("Sted", "Namsos kulturhus")
    coordinator.choose("Kommunen stedet ligger i", "Namsos")
    coordinator.fill("Antall plasser", "80")
    assert coordinator.press("Lagre utkast") == 200

    assert title in coordinator.heading()
    coordinator.sees("Utkastet er lagret")
    coordinator.look("arrangement-utkast")
    assert coordinator.press("Publiser") == 200
    coordinator.sees("publisert")
    coordinator.look("arrangement-publisert", screenshot=True)
    event = live_server.db.exec(select(Event).where(Event.title == title)).one()
    assert event.status == "published" and event.kind == "fagdag"
    assert to_oslo(event.starts_at).replace(tzinfo=None) == datetime.combine(day, datetime.min.time()).replace(hour=9)

    coordinator.menu("Kalender")
    coordinator.follow("Liste over kommende arrangementer")
    coordinator.look("kalender-liste", screenshot=True)
    coordinator.follow(title)
    assert title in coordinator.heading()

    anyone = person(way)  # the region calendar is public: not logged in, the fagdag is there too
    anyone.open("/")
    anyone.menu("Kalender")
    anyone.follow("Liste over kommende arrangementer")
    assert anyone.page.get_by_role("link", name=title).count() == 1


# 2 -------------------------------------------------------------------------------------------------

COURSE = "Kurs: ICDP veilederopplæring"


def _register_others(live_server, names: list[str]) -> list[Registration]:
    """Colleagues the coordinator registers (the journey is the guest's, so this is done directly)."""
    from nettverk.accounts.models import User
    from nettverk.events.operations import Registrant, register

    db = live_server.db
    db.expire_all()
    event = db.exec(select(Event).where(Event.title == COURSE)).one()
    coordinator = db.exec(select(User).where(User.email == USERS["admin"])).one()
    made = []
    with live_server.app.app_context():  # the mail and calendar invitation need the app's settings
        for name in names:
            email = name.lower().replace(" ", ".") + "@verdal.kommune.example"
            made.append(register(db, event.id, Registrant(name=name, email=email), by=coordinator)[0])
        db.commit()
    return made


def _unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "").replace("\n ", "")


@pytest.mark.parametrize("way", WAYS)
def test_guest_registers_confirms_subscribes_and_cancels(way, person, live_server):
    _register_others(live_server, [f"Kollega {n}" for n in range(1, 12)])  # 11 of the 12 seats are taken
    guest = person(way)
    email = USERS["participant"]  # Hanne has an account, but registers from the link without logging in

    guest.open("/")
    guest.menu("Kalender")
    guest.follow("Liste over kommende arrangementer")
    guest.follow(COURSE)
    guest.look("kurs")
    guest.follow("Meld deg på")
    guest.look("gjest-pamelding", screenshot=True)
    guest.fill("Fullt navn", "Hanne Vikstrand")
    guest.fill("E-post", email)
    guest.choose("Kommunen du jobber i", "Namsos")
    guest.fill("Stilling", "Helsesykepleier")
    assert guest.press("Meld meg på") == 200
    guest.sees(email)
    guest.look("sjekk-eposten")

    confirm_link = live_server.link_in_mail(email, "/pamelding/bekreft/")
    guest.open(confirm_link)
    guest.look("bekreft-pamelding")
    assert guest.press("Bekreft påmeldingen") == 200
    assert guest.heading() == "Du er påmeldt"
    guest.look("pamelding-bekreftet", screenshot=True)

    feed_url = guest.page.get_by_label("Kalenderadresse", exact=True).input_value()
    assert "/kalender/personlig/" in feed_url
    feed = guest.page.request.get(feed_url)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert f"SUMMARY:{COURSE}" in _unfolded(feed.text())

    first, second = _register_others(live_server, ["Vera Ventesen", "Ola Ventelid"])
    assert (first.status, second.status) == ("waitlisted", "waitlisted")

    log_in(guest, "participant")
    guest.menu("Mine påmeldinger")
    row = guest.page.get_by_role("row").filter(has=guest.page.get_by_role("link", name=COURSE))
    assert "Påmeldt" in row.inner_text()
    guest.look("mine-pameldinger", screenshot=True)
    assert guest.press("Meld av", within=row) == 200
    guest.sees("Du er meldt av")
    row = guest.page.get_by_role("row").filter(has=guest.page.get_by_role("link", name=COURSE))
    assert "Avmeldt" in row.inner_text()
    guest.look("mine-pameldinger-avmeldt")

    db = live_server.db
    db.expire_all()
    assert db.get(Registration, first.id).status == "confirmed"  # the first on the waitlist got the seat
    assert db.get(Registration, second.id).status == "waitlisted"
    assert any(COURSE in m.subject for m in live_server.outbox(first.email)[1:])  # and was told so
    assert f"SUMMARY:{COURSE}" not in _unfolded(guest.page.request.get(feed_url).text())


# 3 -------------------------------------------------------------------------------------------------

NETWORK = "BTI-nettverk Namdalen"


@pytest.mark.parametrize("way", WAYS)
def test_coordinator_plans_next_years_bti_meetings_and_moves_one(way, person, live_server):
    network = live_server.db.exec(select(Network).where(Network.name == NETWORK)).one()
    next_year = date.today().year + 1
    rule = rrulestr(network.cadence, dtstart=datetime.combine(network.cadence_start, datetime.min.time()))
    expected = [d.date() for d in rule.between(datetime(next_year, 1, 1), datetime(next_year, 12, 31), inc=True)]
    assert len(expected) == 2  # twice a year

    coordinator = person(way, "coordinator")
    coordinator.menu("Nettverk")
    coordinator.look("nettverk")
    coordinator.follow(NETWORK)
    coordinator.look("bti-nettverk")
    coordinator.fill_date("Planlegg til og med", date(next_year, 12, 31))
    assert coordinator.press("Lag møtene") == 200
    coordinator.sees("er laget som utkast")
    coordinator.look("bti-nettverk-planlagt", screenshot=True)

    meetings = coordinator.page.get_by_role("table").filter(has_text="Dato i rytmen")
    for day in expected:
        assert norwegian_date(day) in meetings.inner_text()
    moved_from = expected[0]
    row = meetings.get_by_role("row").filter(has_text=norwegian_date(moved_from))
    coordinator.follow(re.compile("^Endre eller flytt"), within=row, exact=False)
    coordinator.look("flytt-mote")
    moved_to = moved_from + timedelta(days=1)
    coordinator.fill_date("Startdato", moved_to)
    coordinator.fill_date("Sluttdato", moved_to)
    assert coordinator.press("Lagre endringene") == 200
    coordinator.sees("Arrangementet er lagret")

    coordinator.menu("Nettverk")
    coordinator.follow(NETWORK)
    meetings = coordinator.page.get_by_role("table").filter(has_text="Dato i rytmen")
    row = meetings.get_by_role("row").filter(has_text=norwegian_date(moved_to))
    assert norwegian_date(moved_from) in row.inner_text() and "(flyttet)" in row.inner_text()
    coordinator.look("bti-nettverk-flyttet", screenshot=True)

    db = live_server.db
    db.expire_all()
    made = db.exec(
        select(Event).where(Event.network_id == network.id, Event.status == "draft").order_by(Event.starts_at)
    ).all()
    in_next_year = [e for e in made if e.series_date and e.series_date.year == next_year]
    assert [e.series_date for e in in_next_year] == expected
    assert to_oslo(in_next_year[0].starts_at).date() == moved_to


# 4 -------------------------------------------------------------------------------------------------


def fodselsnummer(born: date, individual: int) -> str:
    """A fødselsnummer with both modulus-11 check digits right (individual chosen so none is 10)."""
    for number in range(individual, individual + 50):
        digits = [int(c) for c in born.strftime("%d%m%y") + f"{number:03d}"]
        k1 = 11 - sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        k2 = 11 - sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), [*digits, k1], strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k1 < 10 and k2 < 10:
            return "".join(map(str, digits)) + f"{k1}{k2}"
    raise AssertionError("no valid number")


TILTAK = "PMTO"  # PMTO-foreldretrening in Fosen, given by the team in Innherred barnevern


@pytest.mark.parametrize("way", WAYS)
def test_referral_with_consent_refused_with_fodselsnummer_then_received_accepted_closed(way, person, live_server):
    staff = person(way, "service_staff")  # Indre Fosen barnevern (Fosen barneverntjeneste)
    staff.menu("Henvendelser")
    staff.look("henvendelser")
    staff.follow("Ny henvendelse")
    staff.look("velg-tiltak")
    staff.follow(re.compile(f"^{TILTAK}"), exact=False)
    staff.look("ny-henvendelse", screenshot=True)
    staff.fill("Deres saksreferanse", f"BV-2026-117-{way}")
    staff.choose("Familiens kommune", "Indre Fosen")
    staff.fill("Antall barn", "2")
    staff.fill("Barnas fødselsår", "2015, 2018")
    number = fodselsnummer(date(1988, 7, 15), 123)
    staff.fill("Behovet", f"Mor ({number}) ønsker hjelp med grensesetting og rutiner for to barn i skolealder.")
    staff.tick("Foreldrene har samtykket")
    staff.fill_date("Dato for samtykket", date.today())
    staff.choose("Hvordan samtykket er gitt", "Skriftlig")
    count_before = len(live_server.db.exec(select(Referral.id)).all())
    assert staff.press("Send") == 422

    summary = staff.page.locator(".error-summary")
    assert "fødselsnummer" in summary.inner_text()
    assert summary.get_by_role("link").first.get_attribute("href") == "#need"
    message = staff.page.locator("#need-error").inner_text()  # the message at the field
    assert "fødselsnummer" in message and number not in message and number not in summary.inner_text()
    assert number in staff.field("Behovet").input_value()  # the text is kept, so it can be corrected
    staff.look("henvendelse-avvist-fodselsnummer", screenshot=True)
    live_server.db.expire_all()
    assert len(live_server.db.exec(select(Referral.id)).all()) == count_before  # nothing saved

    staff.fill("Behovet", "Mor ønsker hjelp med grensesetting og rutiner for to barn i skolealder.")
    assert staff.field("Foreldrene har samtykket").is_checked()  # the refused form kept what was typed
    assert staff.press("Send") == 200
    staff.sees("Henvendelsen er sendt")
    staff.look("henvendelse-sendt", screenshot=True)
    referral_url = staff.page.url.split("#")[0]  # (the keyboard way went through the skip link: #hovedinnhold)
    public_id = referral_url.rstrip("/").rsplit("/", 1)[1]

    team = person(way, "provider")  # Eirik in the team of Innherred barnevern
    team.menu("Henvendelser")
    team.look("henvendelser-tiltaksteam")
    row = team.page.get_by_role("row").filter(has_text=f"BV-2026-117-{way}")  # the sender's case reference
    team.follow(re.compile(TILTAK), within=row, exact=False)
    assert team.page.url.split("#")[0].endswith(public_id)
    for action, status in (
        ("Bekreft mottatt", "Mottatt"),
        ("Godta, sett på venteliste", "Godtatt"),
        ("Start tiltaket", "I gang"),
    ):
        team.open_details(action)
        assert team.press(action, within=team.page.locator("details", has_text=action)) == 200
        team.sees(f"Henvendelsen er nå: {status.lower()}")
        team.look(f"henvendelse-{status.lower().replace(' ', '-')}")
    team.open_details("Avslutt")
    closing = team.page.locator("details", has_text="Avslutt")
    team.choose("Utfall", "Gjennomført")
    assert team.press("Avslutt", within=closing) == 200
    team.sees("Henvendelsen er nå: avsluttet")
    team.look("henvendelse-avsluttet", screenshot=True)
    live_server.db.expire_all()
    assert live_server.db.exec(select(Referral).where(Referral.public_id == public_id)).one().status == "closed"

    other = person(way, "service_staff_namdal")  # another barneverntjeneste
    response = other.page.goto(referral_url)
    assert response.status == 404
    other.sees("finnes ikke")
    other.look("henvendelse-annen-tjeneste-404")


# 5 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_admin_merges_two_municipalities_and_the_history_shows(way, person, live_server):
    """A merger dated next New Year: previewed, confirmed, planned (nothing moves yet, both pages say it is
    coming), then carried out on the day by the scheduler's job, and the history shows."""
    from nettverk.scheduler.runner import run_job
    from nettverk.timeutil import OSLO

    successor_number = "5062"
    effective = date(date.today().year + 1, 1, 1)

    admin = person(way, "admin")
    admin.menu("Administrasjon")
    admin.look("administrasjon")
    admin.follow("Ny kommune")
    admin.look("ny-kommune")
    admin.fill("Kommunenummer", successor_number)
    admin.fill("Navn", "Indre Namdal")
    admin.choose("Fylke", "Trøndelag")
    assert admin.press("Lagre") == 200
    admin.sees("Indre Namdal er opprettet")

    admin.menu("Administrasjon")
    admin.follow("Registrer sammenslåing")
    admin.look("sammenslaing", screenshot=True)
    admin.tick("5043 Røyrvik (Raarvihke)")
    admin.tick("5044 Namsskogan")
    admin.choose("Ny eller videreført kommune", f"{successor_number} Indre Namdal")
    admin.fill_date("Gjelder fra", effective)
    assert admin.press("Se hva som flyttes") == 200

    assert admin.heading() == "Se over sammenslåingen"  # the preview: what moves, nothing written yet
    admin.sees("Dette flyttes til Indre Namdal")
    admin.sees(f"gjennomføres automatisk {norwegian_date(effective)}")
    admin.look("sammenslaing-forhandsvisning", screenshot=True)
    assert admin.press("Bekreft") == 200

    admin.sees(f"Sammenslåingen er planlagt og gjennomføres {norwegian_date(effective)}")
    planned = admin.page.get_by_role("heading", name="Planlagte sammenslåinger").locator(
        "xpath=following-sibling::ul[1]"
    )
    admin.follow("5043 Røyrvik", within=planned)
    admin.sees(f"Slås sammen med Indre Namdal fra {norwegian_date(effective)}")
    admin.look("kommune-planlagt-sammenslaing")
    db = live_server.db
    db.expire_all()
    assert db.exec(select(Municipality).where(Municipality.number == "5043")).one().valid_to is None

    # New Year's night: the scheduler's job carries it out.
    on_the_day = datetime.combine(effective, time(0, 10), tzinfo=OSLO)
    assert run_job("mergers", now=on_the_day, app=live_server.app).sent == 1
    admin.page.reload()
    admin.sees("Røyrvik ble en del av 5062 Indre Namdal")
    admin.look("kommune-avviklet")
    history = admin.page.get_by_role("heading", name="Historikk").locator("xpath=following-sibling::ul[1]")
    admin.follow("5062 Indre Namdal", within=history)

    assert admin.heading() == "Indre Namdal"
    history = admin.page.get_by_role("heading", name="Historikk").locator("xpath=following-sibling::ul[1]")
    for old in ("5043 Røyrvik", "5044 Namsskogan"):
        line = history.get_by_role("listitem").filter(has_text=old)
        assert f"{norwegian_date(effective)}: {old} ble en del av Indre Namdal" in line.inner_text()
    admin.look("kommune-etter-sammenslaing", screenshot=True)

    db.expire_all()
    successor = db.exec(select(Municipality).where(Municipality.number == successor_number)).one()
    changes = db.exec(select(MunicipalityChange).where(MunicipalityChange.successor_id == successor.id)).all()
    assert sorted(db.get(Municipality, c.predecessor_id).number for c in changes) == ["5043", "5044"]
    assert all(c.effective_date == effective for c in changes)


# 6 -------------------------------------------------------------------------------------------------

PAST_FAGDAG = "Fagdag Namdalen: Traumebevisst omsorg i praksis"
SLIDES = "Lysark: Traumebevisst omsorg i praksis"
TEMPLATE = "Mal for samarbeidsmøte med foreldre"


def _past_fagdag_with_materials(live_server, folder) -> None:
    """A fagdag in Namdalen half a year ago (held) with the speakers' slides, and a template from no gathering:
    what the coordinator looks for in the library (made directly, the journey is the finding)."""
    from nettverk.accounts.models import User
    from nettverk.events.operations import EventData, mark_held, publish_event, save_event
    from nettverk.materials.demo import docx_document, pdf_document
    from nettverk.materials.operations import MaterialData, Upload, create_material
    from nettverk.registry.models import CompetenceBase

    live_server.app.config["MATERIALS_DIR"] = str(folder)  # the test's own folder, not the instance folder
    db = live_server.db
    base = db.exec(select(CompetenceBase).where(CompetenceBase.slug == "namdalen")).one()
    coordinator = db.exec(select(User).where(User.email == USERS["coordinator"])).one()
    day = date.today() - timedelta(days=180)
    with live_server.app.app_context():
        fagdag = save_event(
            db,
            coordinator.id,
            EventData(
                kind="fagdag",
                title=PAST_FAGDAG,
                start_date=day,
                end_date=day,
                start_time=time(9),
                end_time=time(15),
                base_id=base.id,
                venue_name="Namsos kulturhus",
            ),
        )
        publish_event(db, coordinator.id, fagdag)
        mark_held(db, coordinator.id, fagdag)
        for title, name, content, events in (
            (
                SLIDES,
                "Traumebevisst omsorg.pdf",
                pdf_document(SLIDES, ["1. Hva er traumebevisst omsorg?"]),
                [fagdag.id],
            ),
            (TEMPLATE, "Samarbeidsmøte.docx", docx_document(TEMPLATE, ["Dagsorden", "Hvem gjør hva"]), []),
        ):
            create_material(
                db,
                coordinator.id,
                base,
                MaterialData(title=title, published_on=day, event_ids=events),
                Upload(io.BytesIO(content), name, "Første versjon."),
            )
        db.commit()


def _cell(table, row_header: str, column: str) -> str:
    """The text of a matrix cell, found by its row and column headers."""
    columns = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    row = table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=row_header, exact=True))
    return row.locator("td").nth(columns.index(column) - 1).inner_text().strip()


@pytest.mark.parametrize("way", ["desktop", "phone"])
def test_course_attendance_becomes_competence_and_the_base_sees_it(way, person, live_server, tmp_path):
    """Desktop and phone only: the keyboard way through the event form is walked in journey 1."""
    from nettverk.accounts.models import User
    from nettverk.competence.models import CompetenceRecord

    _past_fagdag_with_materials(live_server, tmp_path / "materials")
    course = f"Kurs: Marte Meo grunnkurs ({way})"
    held_on = date.today() - timedelta(days=7)

    # The coordinator plans last week's kurs, linked to Marte Meo, and marks who came.
    coordinator = person(way, "coordinator")
    coordinator.menu("Kompetansebaser")
    coordinator.look("kompetansebaser")
    coordinator.follow("Namdalen")
    coordinator.look("kompetansebase")
    coordinator.follow("Planlegg arrangement")
    coordinator.look("nytt-kurs")
    coordinator.choose("Type", "Kurs/opplæring")
    coordinator.fill("Tittel", course)
    coordinator.choose("Kompetanseområde", "Marte Meo")
    coordinator.fill_date("Startdato", held_on)
    coordinator.fill_time("Starter kl.", 9)
    coordinator.fill_date("Sluttdato", held_on)
    coordinator.fill_time("Slutter kl.", 15)
    coordinator.fill("Sted", "Namsos rådhus")
    assert coordinator.press("Lagre utkast") == 200
    coordinator.look("kurs-utkast")
    assert coordinator.press("Publiser") == 200
    coordinator.sees("publisert")
    coordinator.look("kurs-publisert")
    coordinator.follow(re.compile("^Deltakere"), within=coordinator.page.get_by_role("main"), exact=False)
    coordinator.look("kurs-deltakere")
    coordinator.fill("Fullt navn", "Hanne Vikstrand")
    coordinator.fill("E-post", USERS["participant"])
    coordinator.choose("Kommunen du jobber i", "Namsos")
    assert coordinator.press("Meld på") == 200
    coordinator.sees("Hanne Vikstrand er påmeldt")
    coordinator.look("kurs-deltaker-pameldt")
    coordinator.tick("Hanne Vikstrand møtte")
    assert coordinator.press("Lagre oppmøte") == 200
    coordinator.sees("Oppmøtet er lagret")
    assert coordinator.field("Hanne Vikstrand møtte").is_checked()
    coordinator.look("kurs-oppmote", screenshot=True)

    # Hanne finds the course under her competence without typing it.
    participant = person(way, "participant")
    participant.menu("Kompetanse")
    assert participant.heading() == "Min kompetanse"
    records = participant.page.get_by_role("region", name="Din kompetanse")
    marte_meo = participant.page.get_by_role("rowheader", name=re.compile("^Marte Meo"))
    row = records.get_by_role("row").filter(has=marte_meo)
    assert "Opplært" in row.inner_text() and f"Fra kursdeltakelse: {course}" in row.inner_text()
    assert norwegian_date(held_on) in row.inner_text()
    participant.look("min-kompetanse-fra-kurs", screenshot=True)
    db = live_server.db
    db.expire_all()
    hanne = db.exec(select(User).where(User.email == USERS["participant"])).one()
    made = db.exec(
        select(CompetenceRecord).where(CompetenceRecord.user_id == hanne.id, CompetenceRecord.source == "attendance")
    ).all()
    assert len(made) == 1 and made[0].achieved_on == held_on

    # The coordinator sees where Namdalen is thin: Marte Meo rests on Hanne alone, nobody knows EPDS.
    coordinator.menu("Kompetansebaser")
    coordinator.follow("Namdalen")
    coordinator.follow("Kompetanse: hvem kan hva i kommunene")
    coordinator.look("kompetansematrise", screenshot=True)
    matrix = coordinator.page.get_by_role("table")
    assert _cell(matrix, "Namsos", "Marte Meo") == "1 (sårbar)"
    assert _cell(matrix, "Namsos", "EPDS") == "0 (ingen)"
    assert _cell(matrix, "Namsos", "ASQ/ASQ-SE") == "2"  # Hanne and Solveig; Solveig is never named
    assert _cell(matrix, "Hele Namdalen", "Marte Meo") == "1 (sårbar)"

    # Who in the region can guide in Familieråd? Svein said yes to being contacted, Jorid did not.
    coordinator.follow("Finn noen som kan veilede i en metode")
    coordinator.look("finn-veileder-skjema")
    coordinator.choose("Kompetanseområde", "Familieråd")
    coordinator.choose("Hvor", "Hele regionen")
    assert coordinator.press("Søk") == 200
    found = coordinator.page.get_by_role("region", name="Personer som kan kontaktes om Familieråd")
    assert "Svein Otterstad" in found.inner_text()
    main = coordinator.page.get_by_role("main").inner_text()
    assert "Jorid" not in main and "fevag" not in main
    coordinator.sees("1 person til har kompetansen")
    coordinator.look("finn-veileder", screenshot=True)

    # And the slides from the fagdag half a year ago are in the library, found by the gathering.
    coordinator.menu("Kompetansebaser")
    coordinator.follow("Namdalen")
    coordinator.follow("Materiell: presentasjoner, handlingsveiledere og maler")
    coordinator.sees(TEMPLATE)
    coordinator.look("materiell")
    coordinator.choose("Samling", PAST_FAGDAG)
    assert coordinator.press("Søk") == 200
    coordinator.sees("1 materiell funnet")
    coordinator.sees(SLIDES)
    assert TEMPLATE not in coordinator.page.get_by_role("main").inner_text()
    coordinator.look("materiell-fra-samling", screenshot=True)
    coordinator.follow(PAST_FAGDAG, within=coordinator.page.get_by_role("main"))
    materials = coordinator.page.get_by_role("region", name="Materiell fra samlingen")
    assert materials.get_by_role("link", name=SLIDES, exact=True).count() == 1
    coordinator.look("samling-med-materiell")
