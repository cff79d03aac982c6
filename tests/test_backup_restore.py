"""The restore drill (PostgreSQL only): scripts/backup of a seeded database with a material file, scripts/restore
into a fresh database and folder; the same rows and the same file, and free text that retention made due is
erased again by the restore."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import own_postgres_database
from factories import make_referral
from sqlalchemy import create_engine, inspect, text
from test_materials import png, upload
from test_referral_pages import NEED

from nettverk.referrals.models import Referral, ReferralStatus
from nettverk.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def fresh_database(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (NETTVERK_TEST_DATABASE_URL)")
    with own_postgres_database(database_url, "restored") as url:
        yield url


def script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NETTVERK_ENV": "development", **env}
    result = subprocess.run(
        [str(ROOT / "scripts" / name), *args], env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()  # noqa: S608
            for table in inspect(connection).get_table_names()
        }
    engine.dispose()
    return counts


def test_backup_and_restore_drill(app, db, as_role, database_url, fresh_database, tmp_path):
    assert upload(as_role("coordinator_fosen"), png(), "plakat.png").status_code == 302
    stored = db.execute(text("SELECT stored_name FROM material_version")).scalar_one()
    original = (Path(app.config["MATERIALS_DIR"]) / stored[:2] / stored).read_bytes()
    # Closed long ago, its text not yet erased when the backup is taken (the scheduler would erase it tonight).
    old = make_referral(db, ReferralStatus.CLOSED)
    db.expire_all()
    row = db.get(Referral, old.id)
    row.finished_at = utcnow() - timedelta(days=400)
    db.add(row)
    db.commit()
    before = row_counts(database_url)
    assert before["material_version"] == 1 and before["referral"] >= 1 and before["user_account"] > 0

    script(
        "backup",
        str(tmp_path / "kopier"),
        NETTVERK_DATABASE_URL=database_url,
        NETTVERK_MATERIALS_DIR=app.config["MATERIALS_DIR"],
    )
    (backup,) = (tmp_path / "kopier").iterdir()
    assert {p.name for p in backup.iterdir()} == {"database.dump", "materials.tar", "SHA256SUMS"}

    restored_dir = tmp_path / "gjenopprettet"
    result = script(
        "restore",
        str(backup),
        NETTVERK_DATABASE_URL=fresh_database,
        NETTVERK_MATERIALS_DIR=str(restored_dir),
        NETTVERK_BIN=str(BIN / "nettverk"),
    )
    assert "filer som mangler: 0" in result.stdout

    after = row_counts(fresh_database)
    assert after.pop("referral_audit") == before.pop("referral_audit") + 1  # the restore's «erased» line
    assert after == before
    assert (restored_dir / stored[:2] / stored).read_bytes() == original
    engine = create_engine(fresh_database)
    with engine.connect() as connection:
        need, erased = connection.execute(
            text("SELECT need, content_erased_at FROM referral WHERE id = :id"), {"id": old.id}
        ).one()
    engine.dispose()
    assert (need, erased is not None) == ("", True)
    db.expire_all()
    assert db.get(Referral, old.id).need == NEED  # the source is untouched: the restore erased it


def test_restore_refuses_a_database_that_is_not_empty(app, database_url, fresh_database, tmp_path):
    script(
        "backup",
        str(tmp_path / "kopier"),
        NETTVERK_DATABASE_URL=database_url,
        NETTVERK_MATERIALS_DIR=str(tmp_path / "ingen"),
    )
    (backup,) = (tmp_path / "kopier").iterdir()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "NETTVERK_DATABASE_URL": database_url,
        "NETTVERK_MATERIALS_DIR": str(tmp_path / "ny"),
    }
    result = subprocess.run(
        [str(ROOT / "scripts" / "restore"), str(backup)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "databasen er ikke tom" in result.stderr
    assert row_counts(database_url)["user_account"] > 0


def test_scripts_refuse_sqlite(tmp_path):
    for name in ("backup", "restore"):
        result = subprocess.run(
            [str(ROOT / "scripts" / name), str(tmp_path)],
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "NETTVERK_DATABASE_URL": "sqlite:///x.db"},
            timeout=60,
            check=False,
        )
        assert result.returncode == 1 and "PostgreSQL" in result.stderr
