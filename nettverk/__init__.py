"""nettverk: regional cooperation for vulnerable children.

create_app and its helpers import the app's own modules inside themselves, not at the top: every `import
nettverk.<module>` runs this file first, which must not load every view with it (nor be imported back half-made).
"""

from flask import Flask, abort, g, make_response, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

from nettverk import db
from nettverk.config import load_settings

csrf = CSRFProtect()
login_manager = LoginManager()

ERROR_TITLES = {
    400: "Ugyldig forespørsel",
    401: "Du må logge inn",
    403: "Du har ikke tilgang",
    404: "Siden finnes ikke",
    405: "Metoden er ikke tillatt",
    409: "Konflikt",
    413: "Filen er for stor",
    422: "Kan ikke behandles",
    429: "For mange forsøk",
    500: "Noe gikk galt hos oss",
}
ERROR_TEXTS = {
    400: "Forespørselen kunne ikke tolkes.",
    401: "Du må logge inn for å se dette.",
    403: "Kontoen din har ikke tilgang til denne siden. Ta kontakt med koordinatoren hvis du mener du skal ha det.",
    404: "Vi fant ikke siden du lette etter. Sjekk adressen, eller gå til forsiden.",
    405: "Denne adressen kan ikke brukes slik.",
    413: "Filen er større enn det som er tillatt.",
    429: "Du har prøvd for mange ganger. Vent litt og prøv igjen.",
    500: "En feil oppstod, og ingenting ble lagret. Prøv igjen om litt.",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(test_config: dict | None = None, env: dict | None = None) -> Flask:
    from nettverk.forms import NettverkRequest

    app = Flask(__name__)
    app.request_class = NettverkRequest  # invalid UTF-8 in a form body reaches the fields as U+FFFD
    app.config.update(load_settings(env))
    app.config.update(test_config or {})
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    csrf.init_app(app)
    _init_login(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_templates(app)

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL cannot store NUL in text; no person types one, so it is refused before any view runs.
        # (JSON bodies are checked field by field by the API, which names the field.)
        texts = [
            request.path,
            *(v for _, v in request.args.items(multi=True)),
            *(v for _, v in request.form.items(multi=True)),
        ]
        if any("\x00" in text for text in texts):
            abort(400, "Forespørselen inneholder et ugyldig tegn (NUL).")

    @app.after_request
    def _after(response):
        response = db.finish_request(response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if current_user.is_authenticated:  # pages for a logged-in person never go into a shared cache
            response.headers.setdefault("Cache-Control", "private, no-store")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    from nettverk.cli import register_commands

    register_commands(app)
    return app


def _init_login(app: Flask) -> None:
    from nettverk.accounts.models import User

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Logg inn for å se denne siden."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(cookie_id: str):
        user_id, _, version = cookie_id.partition(":")
        user = db.get_session().get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.is_active or not user.password_hash or version != str(user.session_version):
            return None
        return user


class IdConverter(IntegerConverter):
    """<int:…> in every route: a number no id can be is a 404 before any view runs, instead of a database error
    (500 on SQLite beyond 64 bits, 400 on PostgreSQL beyond its 32-bit integer columns, which every id is)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > 10:  # int() refuses more than 4300 digits with a ValueError; 10 is as long as 2**31 - 1
            raise ValidationError()
        return super().to_python(value)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before any rule is added
    from nettverk.accounts.views import bp as accounts_bp
    from nettverk.api.views import bp as api_bp
    from nettverk.calendars.views import bp as calendars_bp
    from nettverk.competence.views import bp as competence_bp
    from nettverk.evaluations.views import bp as evaluations_bp
    from nettverk.events.planning_views import bp as calendar_bp
    from nettverk.events.views import bp as events_bp
    from nettverk.mail.views import bp as mail_bp
    from nettverk.materials.views import bp as materials_bp
    from nettverk.networks.views import bp as networks_bp
    from nettverk.referrals.statistics_views import bp as referral_statistics_bp
    from nettverk.referrals.views import bp as referrals_bp
    from nettverk.registry.views import bp as registry_bp
    from nettverk.scheduler.views import bp as scheduler_bp

    # Each module's blueprint, one per line.
    blueprints = [
        registry_bp,
        accounts_bp,
        mail_bp,
        api_bp,
        events_bp,
        networks_bp,
        calendar_bp,
        calendars_bp,
        referrals_bp,
        referral_statistics_bp,
        scheduler_bp,
        materials_bp,
        evaluations_bp,
        competence_bp,
    ]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    from nettverk.api.problems import problem

    def render_error(status: int, detail: str | None = None):
        title = ERROR_TITLES.get(status, "Feil")
        detail = detail or ERROR_TEXTS.get(status, "")
        if wants_json():
            return problem(status, title, detail)
        return render_template("error.html", status=status, title=title, detail=detail), status

    @app.errorhandler(CSRFError)
    def _csrf(error):
        if wants_json():
            return render_error(
                400,
                "Mangler eller ugyldig CSRF-nøkkel. Send øktens nøkkel (meta-feltet csrf-token "
                "i sidene) i headeren X-CSRFToken, sammen med øktcookien.",
            )
        return render_error(
            400, "Skjemaet manglet sikkerhetsnøkkel eller var for gammelt. Last siden på nytt og send skjemaet igjen."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        # A description set by abort(status, "…") is our own Norwegian text; werkzeug's defaults are English.
        custom = error.description if error.description != type(error).description else None
        response = make_response(render_error(error.code or 500, custom))
        # werkzeug's own headers, such as Allow on a 405 (RFC 9110 requires it); the body and its type are ours.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(IntegrityError)
    def _conflict(error: IntegrityError):
        # Two requests saved the same thing at once and a unique rule in the database stopped the second.
        # The statement's parameters may hold personal data, so only the kind of error is logged.
        app.logger.warning("Conflict on %s %s: %s", request.method, _route(), type(error.orig).__name__)
        _rollback()
        return render_error(
            409,
            "Noen andre lagret det samme akkurat nå, så ingenting ble endret. "
            "Last siden på nytt og se om det du ville gjøre allerede er gjort.",
        )

    @app.errorhandler(DataError)
    def _bad_value(error: DataError):
        app.logger.warning(
            "Value refused by the database on %s %s: %s", request.method, _route(), type(error.orig).__name__
        )
        _rollback()
        return render_error(400, "En av verdiene er utenfor det som kan lagres (for eksempel et for stort tall).")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, _route())
        _rollback()
        return render_error(500)


def _route() -> str:
    """The route's pattern, not the path: paths can hold secrets (calendar keys, one-time links)."""
    return request.url_rule.rule if request.url_rule else "(ukjent adresse)"


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _register_templates(app: Flask) -> None:
    from nettverk import policy, text, timeutil
    from nettverk.events.models import AUDIENCES, EVENT_KINDS, EVENT_STATUSES, REGISTRATION_STATUSES
    from nettverk.registry.models import SERVICE_KINDS

    # Dates in templates only through these (Norwegian, Oslo time): dato «tirsdag 11. mars 2025»,
    # datotid «tirsdag 11. mars 2025 kl. 09.00», klokke «09.00», kortdato «11. mars 2025», maaned «mars 2025»,
    # tidsrom (an event) «tirsdag 11. mars 2025 kl. 09.00–15.30», iso for <time datetime="…">.
    app.jinja_env.filters["dato"] = timeutil.format_date
    app.jinja_env.filters["datotid"] = timeutil.format_datetime
    app.jinja_env.filters["klokke"] = timeutil.format_time
    app.jinja_env.filters["kortdato"] = timeutil.format_short_date
    app.jinja_env.filters["maaned"] = timeutil.format_month
    app.jinja_env.filters["tidsrom"] = lambda event: timeutil.format_span(event.starts_at, event.ends_at, event.all_day)
    app.jinja_env.filters["iso"] = timeutil.iso
    app.jinja_env.filters["markdown"] = text.render_markdown
    app.jinja_env.globals.update(
        can=policy.can,
        ROLES=policy.ROLES,
        SERVICE_KINDS=SERVICE_KINDS,
        EVENT_KINDS=EVENT_KINDS,
        EVENT_STATUSES=EVENT_STATUSES,
        REGISTRATION_STATUSES=REGISTRATION_STATUSES,
        AUDIENCES=AUDIENCES,
        when=lambda event: timeutil.format_span(event.starts_at, event.ends_at, event.all_day),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
