"""Demo materials for `nettverk demo`: small real files made in code (a PDF and a Word document), uploaded
through the same operations as the pages. A demo material is found again by its title, so a second run makes
nothing new. The file builders are also used by the tests.
"""

import io
import zipfile
from datetime import date, timedelta

from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.competence.models import CompetenceArea
from nettverk.events.models import Event
from nettverk.materials.models import Material, MaterialAudience
from nettverk.materials.operations import MaterialData, Upload, add_version, create_material
from nettverk.networks.models import Network
from nettverk.registry.models import CompetenceBase

# Files ------------------------------------------------------------------------------------------


def _pdf_text(text: str) -> bytes:
    encoded = text.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF with a title and lines of text (Helvetica, WinAnsi: Norwegian letters work)."""
    content = [b"BT /F1 18 Tf 56 780 Td (" + _pdf_text(title) + b") Tj ET"]
    y = 750
    for line in lines:
        content.append(b"BT /F1 11 Tf 56 %d Td (" % y + _pdf_text(line) + b") Tj ET")
        y -= 16
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (" + _pdf_text(title) + b") /Producer (nettverk) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe6\xf8\xe5\xc6\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx_document(title: str, paragraphs: list[str]) -> bytes:
    """A Word document (OOXML) with a heading and paragraphs: the three parts every DOCX needs."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{_xml(p)}</w:t></w:r></w:p>' for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        f'<w:p><w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t>{_xml(title)}</w:t></w:r></w:p>{body}'
        "</w:body></w:document>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


# Demo materials ---------------------------------------------------------------------------------

CONSENT_FORM = [
    "Samtykke til samarbeid mellom tjenester (mal)",
    "Vi samtykker til at tjenestene nedenfor kan snakke sammen og utveksle nødvendige opplysninger",
    "for å gi barnet vårt best mulig hjelp. Samtykket gjelder til det trekkes tilbake, og høyst ett år.",
    "Tjenester samtykket gjelder: [barnehage/skole] [helsestasjon] [PPT] [barnevern] [annet]",
    "Formål: [skriv hva samarbeidet skal avklare]",
    "Samtykket kan trekkes tilbake når som helst ved å si ifra til en av tjenestene.",
    "Sted og dato: ______________   Underskrift foresatte: ______________",
]
GUIDE = [
    "Handlingsveilederen beskriver hvordan tjenestene handler ved bekymring for et barn.",
    "Nivå 0: Avklare bekymringen (med foreldre og barnet, i egen tjeneste).",
    "Nivå 1: Tiltak i egen tjeneste; stafettholder og stafettlogg.",
    "Nivå 2: Samarbeid mellom to tjenester.",
    "Nivå 3: Samarbeid mellom flere tjenester; koordinering og felles plan.",
    "Kontaktpersoner i kommunene står i nettverk under Kommuner.",
]
SLIDES = [
    "Fagdag: Bedre tverrfaglig innsats",
    "1. Hvorfor BTI: tidlig innsats og samordnet hjelp",
    "2. Stafettloggen i praksis: hvem eier bekymringen?",
    "3. Gruppearbeid: fra bekymring til tiltak",
    "4. Oppsummering og veien videre",
]

# (title, base slug, audience, network slug, file name, builder, areas, event title, author, description,
#  builder of a second version or None)
DEMO_MATERIALS = [
    (
        "Samtykkeskjema for samarbeid mellom tjenester",
        "fosen",
        MaterialAudience.EVERYONE,
        None,
        "Samtykkeskjema BTI.docx",
        lambda: docx_document(CONSENT_FORM[0], CONSENT_FORM[1:]),
        ["bti-handlingsveileder"],
        None,
        "Prosjektgruppa i Fosen",
        "Felles mal for samtykke fra foreldre, til bruk i alle kommunene.",
        lambda: docx_document(CONSENT_FORM[0], [*CONSENT_FORM[1:], "Oppdatert: samtykket gjelder høyst ett år."]),
    ),
    (
        "BTI handlingsveileder for Fosen",
        "fosen",
        MaterialAudience.BASE,
        None,
        "Handlingsveileder BTI Fosen.pdf",
        lambda: pdf_document("BTI handlingsveileder – Fosen", GUIDE),
        ["bti-handlingsveileder", "stafettlogg"],
        None,
        "Fosen kompetansebase",
        "Handlingsveilederen med nivå 0–3 og lenker til rutinene i kommunene.",
        None,
    ),
    (
        "Presentasjon: BTI i praksis",
        "fosen",
        MaterialAudience.EVERYONE,
        None,
        "Fagdag BTI presentasjon.pdf",
        lambda: pdf_document(SLIDES[0], SLIDES[1:]),
        ["bti-handlingsveileder"],
        "Fagdag: Bedre tverrfaglig innsats i Fosen",
        "Foredragsholderne på fagdagen",
        "Lysarkene fra fagdagen.",
        None,
    ),
    (
        "Referat og lysark fra BTI-nettverket",
        "namdalen",
        MaterialAudience.NETWORK,
        "bti-nettverk-namdalen",
        "Referat BTI-nettverk Namdalen.pdf",
        lambda: pdf_document(
            "BTI-nettverket i Namdalen: referat",
            ["Ressurspersonene delte erfaringer fra egen enhet.", "Neste møte: stafettlogg og overganger."],
        ),
        ["stafettlogg"],
        None,
        "BTI-nettverket i Namdalen",
        "Bare for medlemmene i nettverket.",
        None,
    ),
]


def create_demo_materials(session: Session) -> int:
    """Create the demo materials that do not exist yet (by title). Returns how many were made."""
    made = 0
    for (
        title,
        slug,
        audience,
        network_slug,
        filename,
        build,
        area_slugs,
        event_title,
        author,
        description,
        second_version,
    ) in DEMO_MATERIALS:
        if session.exec(select(Material.id).where(Material.title == title)).first() is not None:
            continue
        base = session.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first()
        if base is None:
            continue
        coordinator = session.exec(select(User).where(User.email == f"koordinator.{slug}@nettverk.example")).first()
        network = session.exec(select(Network).where(Network.slug == network_slug)).first() if network_slug else None
        areas = list(session.exec(select(CompetenceArea.id).where(CompetenceArea.slug.in_(area_slugs))))
        events = list(session.exec(select(Event.id).where(Event.title == event_title))) if event_title else []
        actor = coordinator.id if coordinator else None
        material = create_material(
            session,
            actor,
            base,
            MaterialData(
                title=title,
                published_on=date.today() - timedelta(days=30),
                description=description,
                author=author,
                audience=audience if network or audience != MaterialAudience.NETWORK else MaterialAudience.BASE,
                network_id=network.id if network else None,
                area_ids=areas,
                event_ids=events,
            ),
            Upload(io.BytesIO(build()), filename, "Første versjon."),
        )
        if second_version is not None:
            add_version(
                session,
                actor,
                material,
                Upload(io.BytesIO(second_version()), filename, "La til hvor lenge samtykket gjelder."),
            )
        made += 1
    session.flush()
    return made
