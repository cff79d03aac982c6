"""The `nettverk` command as an operator runs it (a subprocess): help without configuration, and a configuration
error as one clear line and exit status 2, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import own_postgres_database

NETTVERK = str(Path(sys.executable).parent / "nettverk")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only PATH and what the test gives: no NETTVERK_* from the developer's shell.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run([NETTVERK, *args], capture_output=True, text=True, env=environment, timeout=120, check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["scheduler", "--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["referrals", "erase-expired", "--help"],
    ],
)
def test_help_works_without_configuration(args, tmp_path):
    result = run(*args, NETTVERK_ENV="production")  # production without NETTVERK_SECRET_KEY: not configured
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stderr and result.stderr == ""


def test_help_lists_the_operator_commands_without_configuration():
    result = run("--help", NETTVERK_ENV="production")
    for command in ("db", "seed", "scheduler", "referrals", "create-admin", "mail"):
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("args", [["scheduler"], ["scheduler", "run", "send-mail"], ["db", "upgrade"], ["seed"]])
def test_missing_secret_key_is_one_line_and_status_2(args):
    result = run(*args, NETTVERK_ENV="production")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Feil i konfigurasjonen: NETTVERK_SECRET_KEY")


@pytest.mark.parametrize(
    "env, setting",
    [
        ({"NETTVERK_ENV": "prod"}, "NETTVERK_ENV"),
        ({"NETTVERK_ENV": "development", "NETTVERK_SMTP_PORT": "tjuefem"}, "NETTVERK_SMTP_PORT"),
        ({"NETTVERK_ENV": "development", "NETTVERK_DATABASE_URL": "ikke en adresse"}, "NETTVERK_DATABASE_URL"),
    ],
)
def test_wrong_setting_names_the_setting(env, setting):
    result = run("db", "current", **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert setting in result.stderr


@pytest.fixture
def fresh_postgres_url():
    """An empty PostgreSQL database of this test's own, on the server of NETTVERK_TEST_DATABASE_URL."""
    url = os.environ.get("NETTVERK_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (NETTVERK_TEST_DATABASE_URL)")
    with own_postgres_database(url, "upgrade_race") as own:
        yield own


def test_two_upgrades_at_once_on_an_empty_postgres_database(fresh_postgres_url):
    """Without the advisory lock in migrations/env.py one of the two fails (both create the same tables)."""
    from sqlalchemy import create_engine, text

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NETTVERK_ENV": "development",
        "NETTVERK_DATABASE_URL": fresh_postgres_url,
    }
    upgrades = [
        subprocess.Popen(
            [NETTVERK, "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for upgrade in upgrades:
        _, stderr = upgrade.communicate(timeout=300)
        assert upgrade.returncode == 0, stderr
        assert "Traceback" not in stderr
    engine = create_engine(fresh_postgres_url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert len(versions) == 1
    assert run("db", "current", **env).stdout.strip() == f"{versions[0]} (head)"
