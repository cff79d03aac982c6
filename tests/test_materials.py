"""The materials library through HTTP: real files of every allowed type are accepted and served back as
attachments with their detected type; hostile files (HTML renamed .pdf, a zip renamed .docx, a macro document,
a lying extension, files over the limit) are refused with a Norwegian message and leave no row and no file;
a new version keeps the old file; the audience decides who sees a material (pages, search, API, the
gathering's page)."""

import io
import random
import struct
import zipfile
import zlib
from datetime import date
from pathlib import Path

import pytest
from factories import make_event, make_material
from openpyxl import Workbook
from sqlmodel import select
from test_api import assert_matches, assert_problem, openapi_document

from nettverk.accounts.models import User
from nettverk.materials import operations, storage
from nettverk.materials.demo import docx_document, pdf_document
from nettverk.materials.models import Material, MaterialVersion
from nettverk.networks.models import Network
from nettverk.registry.models import CompetenceBase

# Files, built as the programs that make them would ----------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{type}"/></Types>'
)


def _zip(members: list[tuple[str, bytes | str]], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members):
            compression = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return out.getvalue()


def pptx() -> bytes:
    main = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES.format(part="ppt/presentation.xml", type=main)),
            ("_rels/.rels", "<Relationships/>"),
            (
                "ppt/presentation.xml",
                '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
            ),
        ]
    )


def xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Kommune", "Antall"])
    workbook.active.append(["Osen", 3])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def odf(kind: str) -> bytes:
    """An OpenDocument file: the `mimetype` member first and uncompressed, as the standard asks."""
    return _zip(
        [
            ("mimetype", f"application/vnd.oasis.opendocument.{kind}"),
            (
                "content.xml",
                '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                'office:1.0" office:version="1.2"/>',
            ),
            ("META-INF/manifest.xml", "<manifest:manifest/>"),
        ],
        stored_first=True,
    )


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\x00\xff\x80\x00")  # one row: filter byte, one orange RGB pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A baseline JPEG of one grey 8x8 block: DC difference 0 and end-of-block, one-symbol Huffman tables."""

    def segment(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"
        + b"\xff\xd9"
    )


ALLOWED = {  # kind -> (builder, file name, served content type)
    "pdf": (
        lambda: pdf_document("Handlingsveileder", ["Nivå 0: avklare bekymringen."]),
        "veileder.pdf",
        "application/pdf",
    ),
    "docx": (
        lambda: docx_document("Samtykke", ["Vi samtykker."]),
        "samtykke.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "pptx": (pptx, "fagdag.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xlsx": (xlsx, "oversikt.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": (lambda: odf("text"), "referat.odt", "application/vnd.oasis.opendocument.text"),
    "odp": (lambda: odf("presentation"), "lysark.odp", "application/vnd.oasis.opendocument.presentation"),
    "ods": (lambda: odf("spreadsheet"), "tall.ods", "application/vnd.oasis.opendocument.spreadsheet"),
    "png": (png, "plakat.png", "image/png"),
    "jpeg": (jpeg, "bilde.jpg", "image/jpeg"),
}


# Helpers ----------------------------------------------------------------------------------------


def upload(browser, content: bytes, name: str, slug: str = "fosen", **fields):
    data = {
        "title": "Presentasjon fra fagdagen",
        "published_on": "2026-03-10",
        "audience": "everyone",
        "file": (io.BytesIO(content), name),
        **fields,
    }
    return browser.post(f"/kompetansebaser/{slug}/materiell/nytt", data, content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    """Every file in the materials folder, temporary ones included."""
    root = Path(app.config["MATERIALS_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def material_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def one(db, model, *where):
    db.expire_all()
    return db.exec(select(model).where(*where)).one()


def count(db, model) -> int:
    db.expire_all()
    return len(db.exec(select(model)).all())


def assert_refused(app, db, response, status: int, message: str):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:2000]
    assert message in page
    assert count(db, Material) == 0 and count(db, MaterialVersion) == 0
    assert stored_files(app) == []


@pytest.fixture
def coordinator(as_role):
    return as_role("coordinator_fosen")


# Upload validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_each_allowed_type_is_stored_and_served_as_an_attachment_of_its_type(app, db, coordinator, kind):
    build, name, content_type = ALLOWED[kind]
    content = build()
    material_id = material_id_of(upload(coordinator, content, name))

    version = one(db, MaterialVersion, MaterialVersion.material_id == material_id)
    assert (version.number, version.kind, version.content_type, version.size) == (1, kind, content_type, len(content))
    assert version.original_name == name
    assert version.stored_name != name and name not in version.stored_name  # the name on disk is random
    assert [p.name for p in stored_files(app)] == [version.stored_name]

    response = coordinator.get(f"/materiell/{material_id}/versjoner/1")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.get_data() == content


def test_html_renamed_to_pdf_is_refused_and_leaves_nothing(app, db, coordinator):
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    response = upload(coordinator, html, "rapport.pdf")
    assert_refused(app, db, response, 415, "Filtypen er ikke tillatt")
    assert "Typen leses fra innholdet i filen, ikke navnet" in response.get_data(as_text=True)


def test_zip_renamed_to_docx_without_the_ooxml_members_is_refused(app, db, coordinator):
    archive = _zip([("word/document.xml", "<w:document/>"), ("readme.txt", "ikke et dokument")])
    assert_refused(app, db, upload(coordinator, archive, "samtykke.docx"), 415, "Filtypen er ikke tillatt")


def test_word_document_with_macros_is_refused(app, db, coordinator):
    macro_type = "application/vnd.ms-word.document.macroEnabled.main+xml"
    archive = _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES.format(part="word/document.xml", type=macro_type)),
            ("word/document.xml", "<w:document/>"),
            ("word/vbaProject.bin", b"\x00" * 64),
        ]
    )
    assert_refused(app, db, upload(coordinator, archive, "skjema.docx"), 422, "inneholder makroer")


def test_odf_with_a_foreign_mimetype_is_refused(app, db, coordinator):
    archive = _zip([("mimetype", "text/html"), ("content.xml", "<x/>")], stored_first=True)
    assert_refused(app, db, upload(coordinator, archive, "referat.odt"), 415, "Filtypen er ikke tillatt")


def test_a_lying_extension_is_refused_with_the_real_type_named(app, db, coordinator):
    response = upload(coordinator, png(), "rapport.pdf")
    assert_refused(app, db, response, 422, "Filen heter «.pdf», men innholdet er PNG-bilde")


def test_an_empty_file_is_refused(app, db, coordinator):
    assert_refused(app, db, upload(coordinator, b"", "tom.pdf"), 422, "Filen er tom")


def test_a_file_over_the_limit_is_refused_while_it_is_read(app, db, coordinator):
    app.config["MATERIALS_MAX_BYTES"] = 20 * 1024
    big = pdf_document("Stor", ["x" * 80] * 40) + b"%" + b"0" * 30 * 1024  # a real PDF, padded past the limit
    response = upload(coordinator, big, "stor.pdf")
    assert_refused(app, db, response, 413, "Filen er for stor. Største tillatte størrelse er 20 kB.")


def test_a_zip_bomb_sized_document_over_the_limit_is_refused(app, db, coordinator):
    """A real DOCX carrying a large uncompressible member: over the limit, so refused before it is opened."""
    app.config["MATERIALS_MAX_BYTES"] = 64 * 1024
    padding = random.Random(10).randbytes(200 * 1024)  # does not shrink when zipped
    bomb = _zip(
        [
            (
                "[Content_Types].xml",
                CONTENT_TYPES.format(
                    part="word/document.xml",
                    type="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                ),
            ),
            ("word/document.xml", "<w:document/>"),
            ("word/media/fyll.bin", padding),
        ]
    )
    assert len(bomb) > 64 * 1024
    assert_refused(app, db, upload(coordinator, bomb, "bombe.docx"), 413, "Filen er for stor")


def test_a_member_that_would_unpack_to_gigabytes_is_never_unpacked(app, db, coordinator):
    """[Content_Types].xml that claims 50 MB: refused from the directory alone, nothing decompressed."""
    huge = b"<Types>" + b" " * (50 * 1024 * 1024) + b"</Types>"
    archive = _zip([("[Content_Types].xml", huge), ("word/document.xml", "<w:document/>")])
    assert len(archive) < 200 * 1024
    assert_refused(app, db, upload(coordinator, archive, "bombe.docx"), 422, "pakker seg ut til langt mer")


def test_a_request_over_the_size_limit_gets_a_norwegian_413_page(app, db, coordinator):
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024
    response = upload(coordinator, pdf_document("Stor", []) + b"0" * 20 * 1024, "stor.pdf")
    assert_refused(app, db, response, 413, "Filen er for stor")
    assert "Største tillatte størrelse er 50 MB" in response.get_data(as_text=True)


def test_file_names_are_sanitised(app, db, coordinator):
    material_id = material_id_of(upload(coordinator, ALLOWED["pdf"][0](), "../../etc/Fagdag<script> Ørland.PDF"))
    version = one(db, MaterialVersion, MaterialVersion.material_id == material_id)
    assert version.original_name == "Fagdag_script_ Ørland.pdf"
    response = coordinator.get(f"/materiell/{material_id}/versjoner/1")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Fagdag_script_%20%C3%98rland.pdf" in disposition
    # Windows paths, quotes, control characters and an empty stem (the test client cannot send these)
    assert storage.sanitise_name('C:\\Users\\kari\\"plan"\x00\n.docx', storage.KINDS["docx"]) == "plan.docx"
    assert storage.sanitise_name("...", storage.KINDS["pdf"]) == "fil.pdf"
    assert storage.sanitise_name("lysark.PPTX.exe", storage.KINDS["pptx"]) == "lysark.PPTX.pptx"


def test_bad_details_are_refused_before_the_file_is_stored(app, db, coordinator):
    response = upload(coordinator, ALLOWED["pdf"][0](), "plan.pdf", title="", audience="network")
    assert_refused(app, db, response, 422, "Skriv en tittel.")
    fosen = one(db, CompetenceBase, CompetenceBase.slug == "fosen")
    namdal = one(db, Network, Network.slug == "bti-nettverk-namdalen")
    response = upload(coordinator, ALLOWED["pdf"][0](), "plan.pdf", audience="network", network_id=str(namdal.id))
    assert_refused(app, db, response, 422, "Velg et nettverk i kompetansebasen.")
    response = upload(coordinator, ALLOWED["pdf"][0](), "plan.pdf", area_ids="999999")
    assert_refused(app, db, response, 422, "Ukjent kompetanseområde")
    assert fosen.id


def test_only_the_bases_coordinators_may_upload(app, db, as_role):
    response = upload(as_role("coordinator"), ALLOWED["pdf"][0](), "plan.pdf")  # Namdalen's coordinator
    assert response.status_code == 403
    assert count(db, Material) == 0 and stored_files(app) == []


# Versions ---------------------------------------------------------------------------------------


def test_a_new_version_keeps_the_old_file(app, db, coordinator):
    first = docx_document("Samtykke", ["Versjon en."])
    second = docx_document("Samtykke", ["Versjon to, med ny kontaktperson."])
    material_id = material_id_of(upload(coordinator, first, "samtykke.docx"))
    response = coordinator.post(
        f"/materiell/{material_id}/versjoner",
        {"file": (io.BytesIO(second), "samtykke v2.docx"), "note": "Ny kontaktperson"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302

    assert one(db, Material, Material.id == material_id).current_version == 2
    assert len(stored_files(app)) == 2
    assert coordinator.get(f"/materiell/{material_id}/versjoner/1").get_data() == first
    assert coordinator.get(f"/materiell/{material_id}/versjoner/2").get_data() == second
    page = coordinator.get(f"/materiell/{material_id}").get_data(as_text=True)
    assert "samtykke.docx" in page and "samtykke v2.docx" in page and "Ny kontaktperson" in page
    assert f'/materiell/{material_id}/versjoner/2"' in page and f'/materiell/{material_id}/versjoner/1"' in page


def test_a_refused_version_changes_nothing(app, db, coordinator):
    material_id = material_id_of(upload(coordinator, ALLOWED["pdf"][0](), "plan.pdf"))
    response = coordinator.post(
        f"/materiell/{material_id}/versjoner",
        {"file": (io.BytesIO(b"<html>hei</html>"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "Filtypen er ikke tillatt" in response.get_data(as_text=True)
    assert one(db, Material, Material.id == material_id).current_version == 1
    assert count(db, MaterialVersion) == 1 and len(stored_files(app)) == 1


def test_deleting_a_material_removes_its_files_after_the_commit(app, db, coordinator):
    material_id = material_id_of(upload(coordinator, ALLOWED["pdf"][0](), "plan.pdf"))
    assert coordinator.post(f"/materiell/{material_id}/slett", {}).status_code == 422  # not confirmed
    assert len(stored_files(app)) == 1
    response = coordinator.post(f"/materiell/{material_id}/slett", {"confirm": "y"})
    assert response.status_code == 302
    assert count(db, Material) == 0 and stored_files(app) == []


def test_the_file_of_a_transaction_that_rolls_back_is_removed(app, db):
    """The storage's promise directly: a stored file whose row never commits does not stay on disk."""
    with app.test_request_context():
        from nettverk.db import get_session

        session = get_session()
        fosen = session.exec(select(CompetenceBase).where(CompetenceBase.slug == "fosen")).one()
        operations.create_material(
            session,
            None,
            fosen,
            operations.MaterialData(title="Utkast", published_on=date(2026, 3, 10)),
            operations.Upload(io.BytesIO(png()), "a.png"),
        )
        assert len(stored_files(app)) == 1
        session.rollback()
        assert stored_files(app) == []


# Who sees what ----------------------------------------------------------------------------------


@pytest.fixture
def audience_materials(db):
    return {
        "everyone": make_material(db, "Samtykkeskjema for alle").id,
        "base": make_material(db, "Handlingsveileder for Fosen", audience="base").id,
        "network": make_material(
            db, "Referat fra BTI-nettverket", audience="network", network_slug="bti-nettverk-fosen"
        ).id,
    }


SEES = {  # role -> which of the Fosen materials it sees
    None: set(),
    "participant": {"everyone"},  # Namdalen's BTI network, not Fosen's
    "coordinator": {"everyone"},  # Namdalen's coordinator
    "provider": {"everyone"},  # Innherred's team
    "provider_fosen": {"everyone", "base"},  # works in Fosen, not in the network
    "municipality_contact": {"everyone", "base", "network"},  # Indre Fosen, member of the network
    "service_staff": {"everyone", "base", "network"},
    "service_leader": {"everyone", "base", "network"},
    "coordinator_fosen": {"everyone", "base", "network"},
    "admin": {"everyone", "base", "network"},
}


@pytest.mark.parametrize("role", list(SEES), ids=lambda r: r or "anonymous")
def test_the_audience_decides_who_sees_a_material(as_role, audience_materials, role):
    browser = as_role(role)
    library = browser.get("/kompetansebaser/fosen/materiell")
    api = browser.get("/api/v1/materials?base=fosen")
    if role is None:
        assert library.status_code == 302 and "/logg-inn" in library.headers["Location"]
        assert_problem(api, 401)
    else:
        listed = {
            title
            for title in ("Samtykkeskjema for alle", "Handlingsveileder for Fosen", "Referat fra BTI-nettverket")
            if title in library.get_data(as_text=True)
        }
        assert len(listed) == len(SEES[role])
        assert {item["id"] for item in api.get_json()["items"]} == {audience_materials[k] for k in SEES[role]}
    for key, material_id in audience_materials.items():
        expected = 200 if key in SEES[role] else 404
        assert browser.get(f"/materiell/{material_id}").status_code == expected, (key, role)
        assert browser.get(f"/materiell/{material_id}/versjoner/1").status_code == expected, (key, role)
        assert browser.get(f"/api/v1/materials/{material_id}").status_code == expected, (key, role)


def test_a_member_of_the_base_by_competence_profile_sees_base_materials(app, db, as_role, audience_materials):
    from nettverk.competence.models import CompetenceProfile
    from nettverk.registry.models import Municipality

    hanne = one(db, User, User.email == "hanne.vikstrand@namsos.kommune.example")
    osen = one(db, Municipality, Municipality.number == "5020")  # in Fosen
    db.add(CompetenceProfile(user_id=hanne.id, municipality_id=osen.id))
    db.commit()
    browser = as_role("participant")
    assert browser.get(f"/materiell/{audience_materials['base']}").status_code == 200
    assert browser.get(f"/materiell/{audience_materials['network']}").status_code == 404


# Search, the gathering's page, the API -------------------------------------------------------------


def test_library_search_by_title_area_and_gathering(app, db, as_role):
    with app.app_context():
        past = make_event(db, "Fagdag om stafettlogg", days=-20).id
        make_material(db, "Stafettlogg i praksis", event_ids=[past], areas=["stafettlogg"])
        make_material(db, "PMTO for foreldre", areas=["pmto"])
    browser = as_role("participant")

    def titles(query):
        response = browser.get(f"/kompetansebaser/fosen/materiell?{query}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return {t for t in ("Stafettlogg i praksis", "PMTO for foreldre") if f">{t}</a>" in page}

    assert titles("") == {"Stafettlogg i praksis", "PMTO for foreldre"}
    assert titles("sok=pmto") == {"PMTO for foreldre"}
    assert titles("sok=50%25") == set()  # a % is searched for, not a wildcard
    assert titles("omrade=stafettlogg") == {"Stafettlogg i praksis"}
    assert titles(f"samling={past}") == {"Stafettlogg i praksis"}
    refused = browser.get("/kompetansebaser/fosen/materiell?omrade=trolldom")
    assert refused.status_code == 400
    assert "Vi fant ikke det kompetanseområdet" in refused.get_data(as_text=True)


def test_a_gatherings_page_lists_its_materials_after_the_event(app, db, as_role):
    with app.app_context():
        past = make_event(db, "Fagdag i fjor", days=-30).id
        coming = make_event(db, "Fagdag til neste år", days=30).id
        make_material(db, "Lysark fra fagdagen", event_ids=[past, coming])
        make_material(db, "Hemmelig referat", audience="network", network_slug="bti-nettverk-fosen", event_ids=[past])
    participant = as_role("participant")
    page = participant.get(f"/arrangementer/{past}").get_data(as_text=True)
    assert "Materiell fra samlingen" in page and "Lysark fra fagdagen" in page
    assert "Hemmelig referat" not in page  # not for her
    assert "Hemmelig referat" in as_role("service_staff").get(f"/arrangementer/{past}").get_data(as_text=True)
    assert "Lysark fra fagdagen" not in participant.get(f"/arrangementer/{coming}").get_data(as_text=True)


def test_api_lists_and_describes_materials_as_documented(app, db, as_role):
    with app.app_context():
        past = make_event(db, "Fagdag i fjor", days=-30).id
        material_id = make_material(
            db,
            "Lysark fra fagdagen",
            audience="network",
            network_slug="bti-nettverk-fosen",
            event_ids=[past],
            areas=["bti-handlingsveileder"],
        ).id
    browser = as_role("service_staff")
    document = openapi_document(browser)
    listing = browser.get("/api/v1/materials?area=bti-handlingsveileder")
    assert_matches(document, "/api/v1/materials", "get", listing)
    item = listing.get_json()["items"][0]
    assert item["network"] == {"slug": "bti-nettverk-fosen", "name": "BTI-nettverk Fosen"}
    assert item["events"][0]["id"] == past
    assert item["current_version"]["content_type"] == "application/pdf"
    detail = browser.get(f"/api/v1/materials/{material_id}")
    assert_matches(document, "/api/v1/materials/{material_id}", "get", detail)
    assert [v["number"] for v in detail.get_json()["versions"]] == [1]
    assert browser.get(detail.get_json()["versions"][0]["download_url"]).status_code == 200
    hidden = as_role("participant").get(f"/api/v1/materials/{material_id}")
    assert_matches(document, "/api/v1/materials/{material_id}", "get", hidden)
    assert_problem(hidden, 404)
    bad = browser.get("/api/v1/materials?area=trolldom")
    assert_matches(document, "/api/v1/materials", "get", bad)
    assert "Ukjent kompetanseområde «trolldom»" in assert_problem(bad, 400)["detail"]


def test_demo_materials_are_real_files(app, db):
    from nettverk.events.demo import create_demo_events
    from nettverk.materials.demo import create_demo_materials

    with app.app_context():
        create_demo_events(db)
        assert create_demo_materials(db) == 4
        assert create_demo_materials(db) == 0
        db.commit()
        kinds = {v.kind for v in db.exec(select(MaterialVersion))}
        assert kinds == {"pdf", "docx"}
        for version in db.exec(select(MaterialVersion)):
            assert storage.detect(storage.path_of(version.stored_name)).key == version.kind


# Active content, polyglots and zip bombs (issue 17, point 14) ----------------------------------------


def raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog) with a classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe6\xf8\xe5\xc6\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


PAGES = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] %s>>"]


def pdf_with(catalog: bytes = b"", page: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>", PAGES[0], PAGES[1] % page, *extra])


def pdf_with_hidden_object(hidden: bytes) -> bytes:
    """A PDF 1.5 file whose object 5 lives only inside a Flate-compressed object stream (object 4) and is the
    catalog's /OpenAction: no byte of it is visible in the file, as in files Word and Acrobat write."""
    header = b"5 0 "
    objstm = zlib.compress(header + hidden)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        PAGES[0],
        PAGES[1] % b"",
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(header), len(objstm))
        + objstm
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe6\xf8\xe5\xc6\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)  # object 6: the cross-reference stream, which names object 5 as entry 0 of stream 4
    rows = [struct.pack(">BIH", 0, 0, 65535)] + [struct.pack(">BIH", 1, o, 0) for o in offsets]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, xref, 0)]
    data = b"".join(rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(data)
        + data
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    )
    return bytes(out)


JS = b"<< /S /JavaScript /JS (app.alert\\(document.cookie\\)) >>"
ACTIVE_PDFS = {
    "javascript-open-action": lambda: pdf_with(b"/OpenAction " + JS),
    "hex-escaped-names": lambda: pdf_with(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
    "javascript-name-tree": lambda: pdf_with(
        b"/Names << /JavaScript 4 0 R >>", extra=(b"<< /Names [(a) << /S /JavaScript /JS (this.print\\(\\)) >>] >>",)
    ),
    "launch": lambda: pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) >> >>"),
    "page-open-action": lambda: pdf_with(page=b"/AA << /O << /S /URI /URI (https://sporing.example/) >> >> "),
    "embedded-file": lambda: pdf_with(
        b"/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
        extra=(
            b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
        ),
    ),
    "submit-form": lambda: pdf_with(b"/OpenAction << /S /SubmitForm /F (https://sporing.example/) >>"),
    "javascript-in-object-stream": lambda: pdf_with_hidden_object(JS),
    # not in the xref table, but a repairing viewer finds it: the raw byte scan does too
    "javascript-outside-the-xref": lambda: pdf_with() + b"7 0 obj\n" + JS + b"\nendobj\n",
}


@pytest.mark.parametrize("case", sorted(ACTIVE_PDFS))
def test_a_pdf_with_scripts_actions_or_embedded_files_is_refused(app, db, coordinator, case):
    response = upload(coordinator, ACTIVE_PDFS[case](), "veileder.pdf")
    assert_refused(app, db, response, 422, "PDF-filen inneholder skript (JavaScript)")


def test_the_hidden_javascript_is_invisible_to_a_byte_scan():
    """Why the check reads the PDF as a viewer does: in an object stream the names are compressed."""
    content = pdf_with_hidden_object(JS)
    assert b"JavaScript" not in content and b"/JS" not in content and b"#" not in content


def test_an_ordinary_pdf_with_links_and_an_open_view_is_accepted(app, db, coordinator):
    link = (
        b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A << /S /URI /URI (https://bti.example/) >> >>] "
    )
    content = pdf_with(b"/OpenAction [3 0 R /Fit] /PageMode /UseOutlines ", page=link)
    material_id_of(upload(coordinator, content, "veileder.pdf"))
    assert len(stored_files(app)) == 1


def test_an_encrypted_pdf_is_refused(app, db, coordinator):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("", "eier", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert_refused(app, db, upload(coordinator, out.getvalue(), "hemmelig.pdf"), 422, "kryptert")


def text_chunk(data: bytes) -> bytes:
    """A PNG tEXt chunk, placed after IHDR (the first 33 bytes)."""
    return struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))


@pytest.mark.parametrize(
    "name, build",
    [
        (
            "veileder.pdf",
            lambda: pdf_document("Veileder", []).replace(
                b"%PDF-1.4\n", b"%PDF-1.4\n%<html><body><script>alert(document.cookie)</script></body></html>\n", 1
            ),
        ),
        ("plakat.png", lambda: png()[:33] + text_chunk(b"Comment\x00<svg onload=alert(document.cookie)>") + png()[33:]),
    ],
)
def test_polyglots_with_html_in_the_first_kilobyte_are_refused(app, db, coordinator, name, build):
    assert_refused(app, db, upload(coordinator, build(), name), 422, "nettsidekode")


def docx_with(members: list[tuple[str, bytes | str]], main_type: str | None = None) -> bytes:
    main_type = main_type or "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES.format(part="word/document.xml", type=main_type)),
            ("word/document.xml", "<w:document/>"),
            *members,
        ]
    )


def test_a_docx_carrying_a_vba_project_is_refused(app, db, coordinator):
    content = docx_with([("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)])
    assert_refused(app, db, upload(coordinator, content, "skjema.docx"), 422, "inneholder makroer")


def test_the_main_part_must_be_declared_exactly_as_a_word_document(app, db, coordinator):
    """The docx main type appears in the file, but not as the type of word/document.xml."""
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    types = CONTENT_TYPES.format(part="word/document.xml", type="application/xml").replace(
        "</Types>", f'<Default Extension="bin" ContentType="{main}"/></Types>'
    )
    content = _zip([("[Content_Types].xml", types), ("word/document.xml", "<w:document/>")])
    assert_refused(app, db, upload(coordinator, content, "skjema.docx"), 415, "Filtypen er ikke tillatt")


def test_a_zip_bomb_docx_of_one_megabyte_unpacking_to_a_gibibyte_is_refused(app, db, coordinator):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES.format(
                part="word/document.xml",
                type="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            ),
        )
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            zeros = bytes(16 * 1024 * 1024)
            for _ in range(64):
                member.write(zeros)
    bomb = out.getvalue()
    assert len(bomb) < 1100 * 1024
    assert_refused(app, db, upload(coordinator, bomb, "bombe.docx"), 422, "pakker seg ut til langt mer")


def test_a_zip_of_many_small_members_is_refused(app, db, coordinator):
    content = docx_with([(f"word/media/{n}.xml", "") for n in range(storage.MAX_ZIP_MEMBERS)])
    assert_refused(app, db, upload(coordinator, content, "mange.docx"), 422, "for mange deler")


def test_a_member_whose_directory_entry_understates_its_size_is_never_read_past_it(app, db, coordinator):
    """The central directory claims [Content_Types].xml is 400 bytes; it unpacks to 5 MB. Reading stops
    at the claimed size, the checksum then fails, and the file is refused as damaged."""
    content = bytearray(
        _zip(
            [
                ("[Content_Types].xml", b"<Types>" + b" " * (5 * 1024 * 1024) + b"</Types>"),
                ("word/document.xml", "<w:document/>"),
            ]
        )
    )
    real = struct.pack("<I", 5 * 1024 * 1024 + 15)
    for at in [i for i in range(len(content)) if content[i : i + 4] == real]:  # local header and directory
        content[at : at + 4] = struct.pack("<I", 400)
    assert_refused(app, db, upload(coordinator, bytes(content), "lur.docx"), 415, "Filtypen er ikke tillatt")


def test_an_odf_document_with_basic_macros_is_refused(app, db, coordinator):
    content = _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "<x/>"),
            ("Basic/Standard/Module1.xml", "<script:module/>"),
        ],
        stored_first=True,
    )
    assert_refused(app, db, upload(coordinator, content, "referat.odt"), 422, "inneholder makroer")
