"""Demo competence for `nettverk demo`: records for the demo users (some opted in to be found, some not), so
the base matrix, the search and the expiring list show something. Made through the same operation as the
form. A person who already has a record is left alone, so a second run makes nothing new. Loaded by the
demo command only, never by the test fixtures."""

from datetime import date

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.competence.models import CompetenceArea, CompetenceLevel, CompetenceRecord
from nettverk.competence.operations import RecordData, add_record, ensure_profile
from nettverk.registry.models import Municipality, Service

# e-mail -> (municipality number, service slug, contactable, [(area slug, level, months ago, issued by)])
DEMO = {
    "hanne.vikstrand@namsos.kommune.example": (
        "5007",
        "barnehagene-namsos",
        True,
        [
            ("asq-asq-se", CompetenceLevel.TRAINED, 30, "Helsestasjonen i Namsos"),
            ("tras", CompetenceLevel.TRAINED, 40, "Statped"),
            ("icdp", CompetenceLevel.CERTIFIED, 18, "Bufdir"),
        ],
    ),
    "solveig.brattli@namsos.kommune.example": (
        "5007",
        "barnehagene-namsos",
        False,
        [
            ("asq-asq-se", CompetenceLevel.TRAINED, 30, "Helsestasjonen i Namsos"),
            ("tras", CompetenceLevel.TRAINED, 12, "Statped"),
        ],
    ),
    "jon.ekker@namsos.kommune.example": (
        "5007",
        "barnehagene-namsos",
        False,
        [("zippys-venner", CompetenceLevel.TRAINED, 8, "Voksne for Barn")],
    ),
    "ragnhild.bjorgan@namsos.kommune.example": (
        "5007",
        "barnevern-midtre-namdal",
        False,
        [
            ("motiverende-intervju", CompetenceLevel.CERTIFIED, 26, "KoRus Midt"),
            ("kor", CompetenceLevel.TRAINED, 14, ""),
        ],
    ),
    "svein.otterstad@namsos.kommune.example": (
        "5007",
        "barnevern-midtre-namdal",
        True,
        [
            ("familierad", CompetenceLevel.INSTRUCTOR, 50, "Bufetat"),
            ("bti-handlingsveileder", CompetenceLevel.TRAINED, 20, "KS Trøndelag"),
        ],
    ),
    "per.lysvold@indrefosen.kommune.example": (
        "5054",
        "fosen-barnevern",
        False,
        [
            ("pmto", CompetenceLevel.CERTIFIED, 20, "Atferdssenteret"),
            ("marte-meo", CompetenceLevel.TRAINED, 10, "Marte Meo Norge"),
        ],
    ),
    "marit.hovdan@indrefosen.kommune.example": (
        "5054",
        "fosen-barnevern",
        True,
        [
            ("marte-meo", CompetenceLevel.INSTRUCTOR, 22, "Marte Meo Norge"),
            ("circle-of-security", CompetenceLevel.CERTIFIED, 16, "RBUP Midt-Norge"),
            ("bryt-voldsarven", CompetenceLevel.TRAINED, 6, "RVTS Midt"),
        ],
    ),
    "ingrid.aunoien@indrefosen.kommune.example": (
        "5054",
        None,
        True,
        [
            ("bti-handlingsveileder", CompetenceLevel.INSTRUCTOR, 24, "KoRus Midt"),
            ("stafettlogg", CompetenceLevel.TRAINED, 24, "KoRus Midt"),
        ],
    ),
    "jorid.fevag@indrefosen.kommune.example": (
        "5054",
        "fosen-barnevern",
        False,
        [("familierad", CompetenceLevel.CERTIFIED, 36, "Bufetat")],
    ),
    "eirik.skjelvik@levanger.kommune.example": (
        "5037",
        "innherred-barnevern",
        True,
        [
            ("pmto", CompetenceLevel.INSTRUCTOR, 12, "Atferdssenteret"),
            ("dua", CompetenceLevel.CERTIFIED, 30, "RBUP Midt-Norge"),
        ],
    ),
}


def create_demo_competence(session: Session) -> int:
    """Create the demo records of people who have none yet. Returns how many records were made."""
    made = 0
    today = date.today()
    users = {u.email: u for u in session.exec(select(User).where(User.email.in_(DEMO)))}
    areas = {a.slug: a for a in session.exec(select(CompetenceArea))}
    municipalities = {m.number: m for m in session.exec(select(Municipality))}
    services = {s.slug: s for s in session.exec(select(Service))}
    for email, (number, service_slug, contactable, rows) in DEMO.items():
        user = users.get(email)
        if user is None or session.exec(select(CompetenceRecord.id).where(CompetenceRecord.user_id == user.id)).first():
            continue
        profile = ensure_profile(session, user.id)
        profile.municipality_id = municipalities[number].id
        profile.service_id = services[service_slug].id if service_slug in services else None
        profile.contactable = contactable
        session.add(profile)
        for slug, level, months_ago, issued_by in rows:
            if slug not in areas:
                continue
            add_record(
                session,
                None,
                user.id,
                RecordData(
                    area_id=areas[slug].id,
                    level=level,
                    achieved_on=today - relativedelta(months=months_ago),
                    issued_by=issued_by,
                ),
            )
            made += 1
    session.flush()
    return made
