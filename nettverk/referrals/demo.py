"""Demo referrals for `nettverk demo`: a few henvendelser in different states, so the pages are not empty.

They are made through the same operations as the pages (so they are audited and follow the workflow)
and hold no identifying text. A demo referral is found again by its case reference, so a second run
makes nothing new. Loaded by the demo command only, never by the test fixtures.
"""

from datetime import date, timedelta

from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.policy import PROVIDER, SENDER
from nettverk.referrals.models import Intervention, Referral, Urgency
from nettverk.referrals.operations import ReferralData, create_referral, take_action
from nettverk.registry.models import Municipality, Service

# (case reference, tiltak slug, sender e-mail, sending service slug, family municipality number,
#  birth years as ages, need, urgency, [(action, actor e-mail, extra)])
STAFF_FOSEN = "per.lysvold@indrefosen.kommune.example"
STAFF_NAMDAL = "ragnhild.bjorgan@namsos.kommune.example"
PROVIDER_INNHERRED = "eirik.skjelvik@levanger.kommune.example"
PROVIDER_FOSEN = "jorid.fevag@indrefosen.kommune.example"

DEMO_REFERRALS = [
    (
        "DEMO-2026-101",
        "pmto-foreldretrening",
        STAFF_FOSEN,
        "fosen-barnevern",
        "5054",
        [7],
        Urgency.NORMAL,
        "Foreldrene ønsker hjelp med grensesetting og faste rutiner. Barnet har utagerende atferd hjemme og på skolen. "
        "Skolen og PPT er kjent med saken.",
        [],
    ),
    (
        "DEMO-2026-087",
        "pmto-foreldretrening",
        STAFF_FOSEN,
        "fosen-barnevern",
        "5020",
        [5, 9],
        Urgency.NORMAL,
        "Familien trenger foreldretrening. Begge barna har konflikter med foreldrene i hverdagen.",
        [
            ("receive", PROVIDER_INNHERRED, {}),
            ("start", PROVIDER_INNHERRED, {"comment": "Oppstart i Rissa neste uke."}),
        ],
    ),
    (
        "DEMO-2026-112",
        "hjemmebasert-foreldreveiledning-namdalen",
        STAFF_NAMDAL,
        "barnevern-midtre-namdal",
        "5047",
        [2],
        Urgency.HIGH,
        "Ung mor med lite nettverk trenger veiledning i samspill og struktur i hverdagen.",
        [
            ("receive", PROVIDER_INNHERRED, {}),
            ("accept", PROVIDER_INNHERRED, {"comment": "Står først på ventelisten."}),
        ],
    ),
    (
        "DEMO-2026-115",
        "veiledning-av-fosterhjem-namdalen",
        STAFF_NAMDAL,
        "barnevern-midtre-namdal",
        "5007",
        [11],
        Urgency.NORMAL,
        "Nytt fosterhjem ønsker veiledning det første året.",
        None,
    ),  # None: a draft
    (
        "DEMO-2026-064",
        "familierad",
        STAFF_FOSEN,
        "fosen-barnevern",
        "5054",
        [13],
        Urgency.NORMAL,
        "Familien ønsker å prøve familieråd for å lage en plan sammen med nettverket.",
        [
            ("receive", PROVIDER_FOSEN, {}),
            (
                "decline",
                PROVIDER_FOSEN,
                {
                    "reason": "Familien har allerede et tilbud om samme type oppfølging. Ta kontakt "
                    "hvis situasjonen endrer seg."
                },
            ),
        ],
    ),
]


def create_demo_referrals(session: Session) -> int:
    """Create the demo referrals that do not exist yet. Returns how many were made."""
    made = 0
    today = date.today()
    users = {u.email: u for u in session.exec(select(User))}
    for reference, slug, sender, service_slug, number, ages, urgency, need, steps in DEMO_REFERRALS:
        if session.exec(select(Referral.id).where(Referral.case_reference == reference)).first() is not None:
            continue
        intervention = session.exec(select(Intervention).where(Intervention.slug == slug)).first()
        service = session.exec(select(Service).where(Service.slug == service_slug)).first()
        municipality = session.exec(select(Municipality).where(Municipality.number == number)).first()
        if None in (intervention, service, municipality) or sender not in users:
            continue
        referral = create_referral(
            session,
            users[sender].id,
            ReferralData(
                intervention_id=intervention.id,
                sending_service_id=service.id,
                family_municipality_id=municipality.id,
                case_reference=reference,
                children_count=len(ages),
                child_birth_years=[today.year - a for a in ages],
                need=need,
                urgency=urgency,
                preferred_start=today + timedelta(weeks=3),
                bti_level=intervention.bti_level,
                consent_given=steps is not None,
                consent_date=today - timedelta(days=10) if steps is not None else None,
                consent_form="skriftlig" if steps is not None else "",
            ),
            send=steps is not None,
        )
        for action, actor, extra in steps or []:
            side = SENDER if action in ("send", "withdraw") else PROVIDER
            take_action(session, users[actor].id, {side}, referral, action, **extra)
        made += 1
    session.flush()
    return made
