"""Operator commands: `nettverk db upgrade`, `nettverk seed`, `nettverk demo`, `nettverk create-admin`, …

The commands call the same operations as the views. Each command imports what it runs inside itself: create_app
imports this module to register the commands, and starting the app should not load the demo data, the benchmark
or the scheduler.
"""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from nettverk.db import get_session
from nettverk.errors import OperationError

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    from alembic import command

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def _real_app() -> Flask:
    """The app behind the `current_app` proxy, for the scheduler's threads (typed as Flask, the proxy hides it)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]


@click.group("db")
def db_group():
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision):
    """Bring the schema up to REVISION (default: the newest)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo("Databasen er oppdatert.")


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the schema revision the database is at."""
    from alembic import command

    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message):
    """Write a new migration from the difference between the models and the database (developers)."""
    from alembic import command

    config = alembic_config(current_app.config["DATABASE_URL"])
    # The file's name starts with the next number (0019_<rev>_<slug>.py), so a sorted listing is the upgrade order.
    numbers = [int(path.name[:4]) for path in (ROOT / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    config.set_main_option("file_template", f"{max(numbers, default=0) + 1:04d}_%%(rev)s_%%(slug)s")
    command.revision(config, message=message, autogenerate=True)


@click.command("seed")
@with_appcontext
def seed():
    """Load reference data (counties, municipalities and their history, kompetansebaser). Idempotent."""
    from nettverk.seeding import seed_reference

    session = get_session()
    counts = seed_reference(session)
    session.commit()
    click.echo("Referansedata: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("demo")
@click.option(
    "--scale",
    type=click.Choice(["tiny", "small", "national"]),
    default=None,
    help="Lag i tillegg et syntetisk datasett i denne størrelsen (national: hele landet, ti år).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Frø for det syntetiske datasettet.")
@with_appcontext
def demo(scale, seed):
    """Load demo services, units, contacts and one user per role (development only); with --scale a
    reproducible synthetic dataset on top (nettverk/scale/national.py)."""
    from nettverk.seeding import load_demo

    if current_app.config["NETTVERK_ENV"] == "production":
        raise click.ClickException("Demodata lages aldri i produksjon (NETTVERK_ENV=production).")
    if scale:
        from nettverk.scale.national import PASSWORD, describe, generate

        try:
            counts = generate(get_session(), scale, seed, progress=click.echo)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Syntetisk datasett «{scale}» (frø {seed}): {describe(counts)}.")
        click.echo(f"Alle syntetiske brukere (…@scale.example) har passordet {PASSWORD}.")
        return
    from nettverk.events.demo import create_demo_events
    from nettverk.referrals.demo import create_demo_referrals

    session = get_session()
    logins = load_demo(session)
    created = create_demo_events(session)
    referrals = create_demo_referrals(session)
    from nettverk.materials.demo import create_demo_materials

    materials = create_demo_materials(session)
    from nettverk.competence.demo import create_demo_competence

    competence = create_demo_competence(session)
    session.commit()
    if created:
        click.echo(f"Demoarrangementer: {created}")
    if referrals:
        click.echo(f"Demohenvendelser: {referrals}")
    if materials:
        click.echo(f"Demomateriell: {materials}")
    if competence:
        click.echo(f"Demokompetanse: {competence} registreringer")
    click.echo("\nDemobrukere (bare for utvikling):")
    width = max((len(role) for role, _, _ in logins), default=0)
    for role, email, password in logins:
        click.echo(f"  {role:<{width}} {email:<44} {password}")
    click.echo("")


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="Full name.")
@click.password_option(prompt="Passord (minst 10 tegn)")
@with_appcontext
def create_admin(email, name, password):
    """Create the first administrator (or make an existing user admin)."""
    from nettverk.accounts.operations import create_admin as create

    session = get_session()
    try:
        user = create(session, email, name, password)
    except OperationError as error:
        raise click.ClickException(error.message) from error
    session.commit()
    click.echo(f"{user.email} er administrator.")


@click.command("import")
@click.argument("kind", type=click.Choice(["municipalities", "memberships", "services", "contacts"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_csv(kind, path):
    """Import registry data from a CSV file: all rows or none."""
    from nettverk.registry.imports import import_csv as run_import

    session = get_session()
    report = run_import(session, None, kind, path.read_bytes())
    if not report.ok:
        session.rollback()
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        raise click.ClickException(f"Ingenting ble importert: {len(report.errors)} feil.")
    session.commit()
    click.echo(f"Importert: {report.created} nye, {report.updated} oppdaterte.")


@click.group("mail")
def mail_group():
    """The outbox."""


@mail_group.command("send")
@with_appcontext
def mail_send():
    """Deliver queued and due e-mail over SMTP now."""
    from nettverk.mail.operations import deliver_due, smtp_configured

    if not smtp_configured():
        raise click.ClickException("NETTVERK_SMTP_HOST er ikke satt: e-post blir liggende i utboksen.")
    counts = deliver_due(get_session())
    click.echo(f"Sendt: {counts['sent']}, feilet: {counts['failed']}.")


@click.group("referrals")
def referrals_group():
    """Henvendelser (referrals)."""


@referrals_group.command("erase-expired")
@click.option(
    "--months",
    type=click.IntRange(min=1),
    default=None,
    help="Oppbevaringstid i måneder (standard: NETTVERK_REFERRAL_RETENTION_MONTHS, 12).",
)
@with_appcontext
def referrals_erase_expired(months):
    """Erase the free text and case reference of referrals finished longer ago than the retention period."""
    from nettverk.referrals.operations import erase_expired

    months = months or current_app.config["REFERRAL_RETENTION_MONTHS"]
    session = get_session()
    count = erase_expired(session, months)
    session.commit()
    click.echo(
        f"Slettet innholdet i {count} henvendelse{'' if count == 1 else 'r'} som ble avsluttet, avslått "
        f"eller trukket tilbake for mer enn {months} måneder siden. Tall og datoer er beholdt."
    )


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
@with_appcontext
def scheduler_group(ctx):
    """Run the scheduler: timed jobs, one process at a time (the others wait for the lease)."""
    if ctx.invoked_subcommand is not None:
        return
    import logging
    import signal
    import threading

    from nettverk.scheduler.runner import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("Planleggeren starter (stopp med Ctrl+C).")
    serve(_real_app(), stop)


@scheduler_group.command("run")
@click.argument("job")
@with_appcontext
def scheduler_run(job):
    """Run one job now (as the scheduler would) and print its result."""
    from nettverk.scheduler.models import RunStatus
    from nettverk.scheduler.runner import JOBS_BY_NAME, run_job

    if job not in JOBS_BY_NAME:
        raise click.ClickException(f"Ukjent jobb «{job}». Jobbene er: {', '.join(JOBS_BY_NAME)}.")
    run = run_job(job, app=_real_app())
    click.echo(
        f"{JOBS_BY_NAME[job].label}: {run.status}, sendt/utført {run.sent}, hoppet over {run.skipped}, "
        f"feilet {run.failed}{'. ' + run.message if run.message else ''}"
    )
    if run.status != RunStatus.OK:
        raise SystemExit(1)


@click.command("bench", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args):
    """Benchmark on the national dataset (see docs/PERFORMANCE.md; --help for its options)."""
    from nettverk.scale.bench import main as run_bench

    raise SystemExit(run_bench(list(args)))


COMMANDS = (db_group, seed, demo, create_admin, import_csv, mail_group, referrals_group, scheduler_group, bench)


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


class ConfigurationError(click.ClickException):
    """A wrong or missing setting: one line on stderr and exit status 2, never a traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"Feil i konfigurasjonen: {self.message}", err=True)


def _create_app():
    from sqlalchemy.exc import ArgumentError

    from nettverk import create_app
    from nettverk.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise ConfigurationError(str(error)) from None
    except ArgumentError as error:  # NETTVERK_DATABASE_URL that SQLAlchemy cannot parse
        raise ConfigurationError(f"NETTVERK_DATABASE_URL: {error}") from None


class NettverkGroup(FlaskGroup):
    """The commands are this group's own, so `--help` lists them without building the app (and without
    configuration); the app is built only when a command runs (with_appcontext)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


main = NettverkGroup(create_app=_create_app, help="nettverk: kommandoer for drift.")
for _command in COMMANDS:
    main.add_command(_command)
