"""CSV import of registry data, at /admin/import and with `nettverk import`: all rows or none."""

import io

import pytest
from sqlmodel import func, select

from nettverk.activity import ActivityLog
from nettverk.registry.imports import example_path
from nettverk.registry.models import Contact, Municipality, Service, ServiceArea

EXAMPLES = ["municipalities", "memberships", "services", "contacts"]  # in the order they depend on each other

BAD_ROW_ON_LINE_4 = "kommunenummer;navn;fylkesnummer\n9901;Avik;50\n9902;Bevik;50\n99x3;Cevik;50\n9904;Devik;50\n"


def upload(browser, kind: str, content: str | bytes, follow_redirects: bool = False):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return browser.post(
        "/admin/import",
        {"kind": kind, "file": (io.BytesIO(data), "data.csv")},
        content_type="multipart/form-data",
        follow_redirects=follow_redirects,
    )


def page(response) -> str:
    return response.get_data(as_text=True)


def count(db, model) -> int:
    db.rollback()
    return db.exec(select(func.count()).select_from(model)).one()


def numbers(db) -> set[str]:
    db.rollback()
    return set(db.exec(select(Municipality.number)))


def municipality(db, number: str) -> Municipality | None:
    db.rollback()
    return db.exec(select(Municipality).where(Municipality.number == number)).first()


# Through the web page -----------------------------------------------------------------------------


def test_example_files_import_in_order(as_role):
    admin = as_role("admin")
    for kind in EXAMPLES:
        response = upload(admin, kind, example_path(kind).read_bytes(), follow_redirects=True)
        assert response.status_code == 200, page(response)[-3000:]
        assert "rader importert" in page(response), kind


def test_example_services_and_contacts_are_stored(as_role, db):
    admin = as_role("admin")
    for kind in EXAMPLES:
        assert upload(admin, kind, example_path(kind).read_bytes()).status_code == 302
    db.rollback()
    fosen = db.exec(select(Service).where(Service.name == "Barneverntjenesten i Fosen")).one()
    served = set(db.exec(select(Municipality.number).join(ServiceArea).where(ServiceArea.service_id == fosen.id)))
    assert (fosen.kind, fosen.email, served) == (
        "barnevern",
        "barnevern@fosen.example",
        {"5054", "5057", "5058", "5020"},
    )
    kari = db.exec(select(Contact).where(Contact.name == "Kari Nordmann")).one()
    assert (kari.service_id, kari.phone) == (fosen.id, "73 00 00 10")


def test_importing_the_examples_again_changes_nothing(as_role, db):
    admin = as_role("admin")
    for kind in EXAMPLES:
        upload(admin, kind, example_path(kind).read_bytes())
    before = count(db, Service), count(db, Contact), count(db, ServiceArea), count(db, ActivityLog)
    for kind in EXAMPLES:
        assert upload(admin, kind, example_path(kind).read_bytes()).status_code == 302
    assert (count(db, Service), count(db, Contact), count(db, ServiceArea), count(db, ActivityLog)) == before


def test_a_bad_row_refuses_the_whole_file(as_role, db):
    before = count(db, Municipality), count(db, ActivityLog)
    response = upload(as_role("admin"), "municipalities", BAD_ROW_ON_LINE_4)
    assert response.status_code == 422
    assert "Linje 4: Kommunenummer «99x3» må være fire sifre." in page(response)
    assert "Linje 2" not in page(response)
    assert (count(db, Municipality), count(db, ActivityLog)) == before
    assert not {"9901", "9902", "9904"} & numbers(db)


def test_an_unknown_column_is_named(as_role, db):
    before = count(db, Municipality)
    response = upload(
        as_role("admin"), "municipalities", "kommunenummer;navn;fylkesnummer;innbyggere\n9901;Avik;50;1200\n"
    )
    assert response.status_code == 422
    assert "Ukjent kolonne «innbyggere»" in page(response)
    assert count(db, Municipality) == before


@pytest.mark.parametrize("separator", [";", ","])
def test_semicolon_and_comma_files_both_import(as_role, db, separator):
    rows = ["kommunenummer", "navn", "fylkesnummer", "samisk_navn"], ["9901", "Avik", "50", "Aavike"]
    response = upload(as_role("admin"), "municipalities", "\n".join(separator.join(row) for row in rows))
    assert response.status_code == 302, page(response)[-3000:]
    avik = municipality(db, "9901")
    assert (avik.name, avik.sami_name) == ("Avik", "Aavike")


def test_only_the_admin_may_import(as_role, db):
    before = count(db, Municipality)
    response = upload(as_role("coordinator"), "municipalities", "kommunenummer;navn;fylkesnummer\n9901;Avik;50\n")
    assert response.status_code == 403
    assert count(db, Municipality) == before


# With the command line ----------------------------------------------------------------------------


def run_import(app, tmp_path, content: str):
    path = tmp_path / "kommuner.csv"
    path.write_text(content, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["import", "municipalities", str(path)])


def test_cli_imports_a_good_file(app, db, tmp_path):
    result = run_import(app, tmp_path, "kommunenummer,navn,fylkesnummer\n9901,Avik,50\n9902,Bevik,50\n")
    assert result.exit_code == 0, result.output
    assert "Importert: 2 nye" in result.output
    assert {"9901", "9902"} <= numbers(db)


def test_cli_imports_nothing_from_a_file_with_a_bad_row(app, db, tmp_path):
    before = count(db, Municipality), count(db, ActivityLog)
    result = run_import(app, tmp_path, BAD_ROW_ON_LINE_4)
    assert result.exit_code != 0
    assert "Ingenting ble importert: 1 feil." in result.output
    assert "«99x3» må være fire sifre" in result.output
    assert (count(db, Municipality), count(db, ActivityLog)) == before
