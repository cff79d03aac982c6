"""The scheduler job for competence (registered in scheduler/runner.py JOBS): certifications about to expire.

Once a month each coordinator of a base gets the base's records that expire within six months (names
only of people who opted in to be found, as on the page), and each person whose own record expires
within six months is told once per record and expiry date. Sent through notify_once, so a second run,
or a second scheduler, sends nothing twice.
"""

from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.accounts.queries import coordinators_by_base
from nettverk.competence import queries
from nettverk.competence.models import LEVELS, CompetenceArea, CompetenceRecord
from nettverk.registry.models import CompetenceBase
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import to_oslo

KIND = "competence_expiry"


def competence_expiry(session: Session, now: datetime) -> Counts:
    counts = Counts()
    local = to_oslo(now)
    today, month = local.date(), f"{local:%Y-%m}"
    coordinators = coordinators_by_base(session)
    bases = session.exec(
        select(CompetenceBase).where(CompetenceBase.id.in_(coordinators or {-1})).order_by(CompetenceBase.id)
    ).all()
    for base in bases:
        rows = queries.expiring(session, base, today)
        if not rows:
            continue
        for user in coordinators[base.id]:
            notify_once(
                session,
                counts,
                job=KIND,
                key=f"{KIND}:{base.id}:{user.id}:{month}",
                email=user.email,
                user_id=user.id,
                kind=KIND,
                subject=f"Kompetanse som utløper i {base.name}: {len(rows)} de neste "
                f"{queries.EXPIRY_WINDOW_MONTHS} månedene",
                template="competence_expiring",
                base=base,
                user=user,
                rows=rows,
                LEVELS=LEVELS,
                months=queries.EXPIRY_WINDOW_MONTHS,
            )
    last = today + relativedelta(months=queries.EXPIRY_WINDOW_MONTHS)
    own = session.exec(
        select(CompetenceRecord, CompetenceArea, User)
        .join(CompetenceArea, CompetenceArea.id == CompetenceRecord.area_id)
        .join(User, User.id == CompetenceRecord.user_id)
        .where(User.is_active, CompetenceRecord.expires_on >= today, CompetenceRecord.expires_on <= last)
        .order_by(CompetenceRecord.expires_on, CompetenceRecord.id)
    ).all()
    for record, area, user in own:
        notify_once(
            session,
            counts,
            job=KIND,
            key=f"{KIND}:own:{record.id}:{record.expires_on.isoformat()}",
            email=user.email,
            user_id=user.id,
            kind=KIND,
            subject=f"{area.name}: kompetansen din utløper {record.expires_on.strftime('%d.%m.%Y')}",
            template="competence_expiring_own",
            user=user,
            record=record,
            area=area,
            LEVELS=LEVELS,
        )
    return counts
