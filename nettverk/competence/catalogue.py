"""The competence areas named in the source material (docs/ARCHITECTURE.md §1), seeded as reference data.

Seeding only creates areas that are missing (found by slug or name) and never changes one that exists:
coordinators keep the catalogue. Expiry is set where a programme certifies its practitioners for a
limited time and asks them to renew (PMTO, Marte Meo); the months are a common practice, not a fact
from the material, and coordinators can change them.
"""

from sqlmodel import Session, select

from nettverk.competence.models import AREA_KINDS, AreaKind, CompetenceArea

# (slug, name, kind, description, target group, expires after months)
AREAS = [
    (
        "bti-handlingsveileder",
        "BTI handlingsveileder",
        AreaKind.COOPERATION,
        "Bedre tverrfaglig innsats: felles handlingsveileder med nivå 0–3 for hvordan tjenestene avklarer en "
        "bekymring og samarbeider om barn, unge og familier.",
        "Alle ansatte som møter barn, unge og foreldre",
        None,
    ),
    (
        "stafettlogg",
        "Stafettlogg",
        AreaKind.COOPERATION,
        "Verktøy for å dokumentere og følge opp tiltak rundt et barn, der stafettholderen har ansvaret til en annen "
        "tjeneste uttrykkelig har tatt over.",
        "Stafettholdere og ressurspersoner i tjenestene",
        None,
    ),
    (
        "kvello-tidlig-inn",
        "Kvello/Tidlig inn",
        AreaKind.SCREENING,
        "Kvellomodellen og «Tidlig inn»: systematisk observasjon og kartlegging for å oppdage barn i risiko tidlig, "
        "med kompetanseheving om rus, psykisk helse og vold.",
        "Barnehage, helsestasjon, skole og barnevern",
        None,
    ),
    (
        "asq-asq-se",
        "ASQ/ASQ-SE",
        AreaKind.SCREENING,
        "Ages and Stages Questionnaires: foreldreutfylte skjema for utvikling (ASQ) og sosioemosjonell utvikling "
        "(ASQ-SE), blant annet ved 4 måneder og i barnehagen.",
        "Barn 0–5 år; helsestasjon og barnehage",
        None,
    ),
    (
        "epds",
        "EPDS",
        AreaKind.SCREENING,
        "Edinburgh postnatal depresjonsskala: kartlegging av depresjon hos mor etter fødsel, blant annet ved "
        "6-ukerskontrollen.",
        "Nybakte foreldre; jordmor og helsestasjon",
        None,
    ),
    (
        "tras",
        "TRAS",
        AreaKind.SCREENING,
        "Tidlig registrering av språkutvikling: observasjon av språk hos barn i barnehagen.",
        "Barn 2–5 år; barnehage",
        None,
    ),
    (
        "nbo",
        "NBO",
        AreaKind.SCREENING,
        "Newborn Behavioral Observations: observasjon av spedbarnets signaler sammen med foreldrene for å styrke "
        "samspill og tilknytning.",
        "Spedbarn og foreldre; helsestasjon",
        None,
    ),
    (
        "pmto",
        "PMTO",
        AreaKind.PARENT_PROGRAMME,
        "Parent Management Training – Oregon: foreldretrening for familier med barn med atferdsvansker. "
        "Sertifiserte PMTO-terapeuter må fornye sertifiseringen.",
        "Foreldre til barn 3–12 år med atferdsvansker",
        24,
    ),
    (
        "icdp",
        "ICDP",
        AreaKind.PARENT_PROGRAMME,
        "International Child Development Programme: foreldreveiledning i grupper om samspill og omsorg.",
        "Foreldre og omsorgspersoner",
        None,
    ),
    (
        "marte-meo",
        "Marte Meo",
        AreaKind.GUIDANCE,
        "Videobasert samspillsveiledning som tar utgangspunkt i det som fungerer i samspillet. Sertifiserte "
        "terapeuter og veiledere må fornye sertifiseringen.",
        "Foreldre, barnehage og fosterhjem",
        36,
    ),
    (
        "circle-of-security",
        "Circle of Security",
        AreaKind.PARENT_PROGRAMME,
        "Trygghetssirkelen (COS): foreldreveiledning om tilknytning, individuelt eller i grupper.",
        "Foreldre til barn 0–6 år",
        None,
    ),
    (
        "familierad",
        "Familieråd",
        AreaKind.COOPERATION,
        "Beslutningsmodell der familien og nettverket selv lager en plan for barnet sammen med tjenestene.",
        "Familier i kontakt med barnevernet og andre tjenester",
        None,
    ),
    (
        "dua",
        "DUÅ",
        AreaKind.PARENT_PROGRAMME,
        "De utrolige årene: programmer for foreldre, barnehage og skole for å forebygge og behandle atferdsvansker.",
        "Foreldre og ansatte rundt barn 3–8 år",
        None,
    ),
    (
        "motiverende-intervju",
        "MI (motiverende intervju)",
        AreaKind.GUIDANCE,
        "Samtalemetode som styrker motivasjon for endring, blant annet ved rus og livsstil.",
        "Ansatte i helse, NAV, barnevern og rus",
        None,
    ),
    (
        "kor",
        "KOR",
        AreaKind.GUIDANCE,
        "Klient- og resultatstyrt praksis: brukerens tilbakemelding på hver samtale styrer hjelpen.",
        "Ansatte i barnevern, psykisk helse og familietjenester",
        None,
    ),
    (
        "zippys-venner",
        "Zippys venner",
        AreaKind.COURSE,
        "Skoleprogram som lærer barn å mestre følelser og vanskelige situasjoner.",
        "Elever på 1.–4. trinn",
        None,
    ),
    (
        "bryt-voldsarven",
        "Bryt voldsarven",
        AreaKind.COURSE,
        "Kompetanseheving om vold i nære relasjoner og hvordan tjenestene kan bryte mønsteret mellom generasjoner.",
        "Ansatte i alle tjenester for barn og familier",
        None,
    ),
]


def seed_areas(session: Session) -> int:
    """Create the missing areas of the catalogue; returns how many were created (0 on a second run)."""
    existing = session.exec(select(CompetenceArea.slug, CompetenceArea.name)).all()
    taken = {slug for slug, _ in existing} | {name for _, name in existing}
    created = 0
    for slug, name, kind, description, target_group, months in AREAS:
        assert kind in AREA_KINDS, slug
        if slug in taken or name in taken:
            continue
        session.add(
            CompetenceArea(
                slug=slug,
                name=name,
                kind=kind,
                description=description,
                target_group=target_group,
                expires_after_months=months,
            )
        )
        taken |= {slug, name}
        created += 1
    session.flush()
    return created
