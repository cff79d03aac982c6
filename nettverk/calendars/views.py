"""Calendar feeds to subscribe to (a base, a network, a municipality, a person), one event as a
.ics download, and the personal calendar link: make, replace, switch off, reminder.

Feeds are polled by calendar programs, often every few minutes, so a poll that finds nothing new is
answered 304 from what the worker keeps (calendars/cache.py), without loading or rendering events; a changed
feed is assembled from the stored VEVENTs of its events once per worker and kept keyed by its ETag.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nettverk import loaders, policy
from nettverk.calendars import cache, operations, queries, render
from nettverk.calendars.forms import NewLinkForm
from nettverk.calendars.models import ALARM_CHOICES
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.events.models import EventStatus
from nettverk.forms import form_page, submit
from nettverk.policy import requires
from nettverk.registry.models import Municipality
from nettverk.text import slugify
from nettverk.tokens import hash_token

bp = Blueprint("calendars", __name__)
bp.record_once(lambda state: cache.init_app(state.app))

MIMETYPE = "text/calendar"  # werkzeug adds "; charset=utf-8" to text types
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


# Feeds --------------------------------------------------------------------------------------------


def _conditional(response: Response) -> Response:
    """304 on If-None-Match (or, without it, If-Modified-Since). werkzeug also adds a Date header,
    which every server writes itself: drop it, so the answer does not carry two."""
    response.make_conditional(request)
    response.headers.remove("Date")
    return response


# The feeds' endpoints: the kind of feed and the URL argument that names it.
POLLED = {
    "calendars.base_feed": ("base", "slug"),
    "calendars.network_feed": ("network", "slug"),
    "calendars.municipality_feed": ("municipality", "number"),
    "calendars.personal_feed": ("person", "token"),
}


def _address(kind: str, value: str) -> tuple:
    """How a worker remembers a feed's address: a personal feed's token only as its hash."""
    return kind, hash_token(value) if kind == "person" else value


def _filename(kind: str, value: str, name: str) -> str:
    if kind == "person":
        return "min-kalender-nettverk.ics"
    if kind == "municipality":
        return f"{slugify(name)}-{value}.ics"
    return f"{slugify(value)}.ics"  # a base's or network's slug


@bp.before_request
def _known_poll():
    """A poll with If-None-Match gets its 304 here, before the base, network, municipality or token is loaded,
    when the ETag is the feed's kept fingerprint at the current data version: from this worker's memory of
    the address (no statement while the version it read is younger than FEED_VERSION_MS), or else from one
    statement of plain columns (queries.poll_state: the version and the feed's scope key) and the fingerprint
    kept here or by another worker. Anything else (nothing kept, the data changed, a renamed base, a revoked
    or replaced token, another ETag) takes the ordinary way."""
    polled = POLLED.get(request.endpoint)
    if polled is None or not request.if_none_match:
        return None
    kind, value = polled[0], request.view_args[polled[1]]
    address = _address(kind, value)
    if (known := cache.known_poll(address)) is not None:
        response = _head(known.kept, kind, known.filename)
        return response if response.status_code == 304 else None
    session = get_session()
    state = queries.poll_state(session.connection(), kind, value)
    if state is None:
        return None
    cache.observe_version(state.version)
    kept = cache.kept_fingerprint(session, (state.key, state.alarm_minutes), state.version.of(kind == "person"))
    if kept is None:
        return None
    filename = _filename(kind, value, state.name)
    cache.remember_poll(address, kept, filename)
    response = _head(kept, kind, filename)
    return response if response.status_code == 304 else None


def _head(kept: cache.Kept, kind: str, filename: str) -> Response:
    """The feed's answer without its body, made conditional: a 304 when the client holds this ETag."""
    response = Response(mimetype=MIMETYPE)
    response.set_etag(kept.etag.strip('"'))
    if kept.last_modified is not None:
        response.last_modified = kept.last_modified
    response.headers["Cache-Control"] = PRIVATE_CACHE if kind == "person" else PUBLIC_CACHE
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return _conditional(response)


def _feed(kind: str, value: str, scope: queries.Scope, url: str, name: str) -> Response:
    """The feed's answer: 304 from the fingerprint alone when the client has it already, otherwise
    the rendered bytes (from the cache when this worker rendered the same feed and ETag before)."""
    session = get_session()
    kept = cache.fingerprint(session, scope)
    filename = _filename(kind, value, name)
    cache.remember_poll(_address(kind, value), kept, filename)
    response = _head(kept, kind, filename)
    if response.status_code == 304:
        return response
    rendered = cache.rendered()
    key = (scope.key, url, kept.etag)  # the URL is in the bytes (SOURCE), and a personal one changes with its token
    body = rendered.get(key)
    if body is None:
        event_ids, entries = queries.feed_entries(session, scope)
        mail_from = current_app.config["MAIL_FROM"]
        components = queries.components(
            session, entries, event_ids, mail_from=mail_from, alarm_minutes=scope.alarm_minutes
        )
        body = render.feed(
            entries,
            name=scope.name,
            url=url,
            about=scope.about,
            alarm_minutes=scope.alarm_minutes,
            mail_from=mail_from,
            components=components,
        )
        rendered.put(key, body)
    response.set_data(body)
    return response


@bp.get("/kalender/kompetansebaser/<slug>.ics")
@requires("public", load=loaders.base)
def base_feed(base):
    return _feed(
        "base",
        base.slug,
        queries.base_scope(base),
        queries.external_url("calendars.base_feed", slug=base.slug),
        base.name,
    )


@bp.get("/kalender/nettverk/<slug>.ics")
@requires("public", load=loaders.network)
def network_feed(network):
    return _feed(
        "network",
        network.slug,
        queries.network_scope(network),
        queries.external_url("calendars.network_feed", slug=network.slug),
        network.name,
    )


@bp.get("/kalender/kommuner/<number>.ics")
@requires("public", load=loaders.municipality)
def municipality_feed(municipality):
    return _feed(
        "municipality",
        municipality.number,
        queries.municipality_scope(get_session(), municipality),
        queries.external_url("calendars.municipality_feed", number=municipality.number),
        municipality.name,
    )


@bp.get("/kalender/personlig/<token>.ics")
@requires("public")  # the token in the URL is the credential
def personal_feed(token):
    owner = operations.feed_owner(get_session(), token) or abort(404)
    scope = queries.personal_scope(
        owner.email, owner.user_id, owner.coordinated_base_ids, owner.token.alarm_minutes, owner.name
    )
    return _feed("person", token, scope, queries.external_url("calendars.personal_feed", token=token), owner.name)


@bp.get("/arrangementer/<int:event_id>/kalender.ics")
@requires("event.view", load=loaders.event, hide=True)
def event_ics(event):
    entry = queries.entry(get_session(), event)
    response = Response(render.single(entry, mail_from=current_app.config["MAIL_FROM"]), mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{render.filename(entry)}"'
    response.headers["Cache-Control"] = "private, no-store" if event.status == EventStatus.DRAFT else PUBLIC_CACHE
    response.add_etag()
    return _conditional(response)


# Links for pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A feed as the pages offer it: its address and the ways to subscribe to it."""

    url: str  # on NETTVERK_BASE_URL (https in production)
    name: str

    @property
    def webcal(self) -> str:
        return "webcal://" + self.url.split("://", 1)[-1]

    @property
    def google(self) -> str:
        return "https://calendar.google.com/calendar/r?cid=" + quote(self.webcal, safe="")

    @property
    def outlook(self) -> str:
        return "https://outlook.office.com/calendar/0/addfromweb?" + urlencode(
            {"url": self.url, "name": self.name}, quote_via=quote
        )


def municipality_feed_name(municipality: Municipality) -> str:
    return f"Samlinger for {municipality.name}"  # as queries.municipality_scope names it


@bp.app_template_global()
def calendar_feed(kind: str, target) -> Subscription:
    """calendar_feed("base", base) -> the subscription of a base, network or municipality feed."""
    if kind == "base":
        return Subscription(
            queries.external_url("calendars.base_feed", slug=target.slug), queries.base_scope(target).name
        )
    if kind == "network":
        return Subscription(
            queries.external_url("calendars.network_feed", slug=target.slug), queries.network_scope(target).name
        )
    if kind == "municipality":
        return Subscription(
            queries.external_url("calendars.municipality_feed", number=target.number), municipality_feed_name(target)
        )
    raise ValueError(f"unknown feed kind {kind!r}")


def personal_subscription(token: str, name: str = "Min kalender i nettverk") -> Subscription:
    return Subscription(queries.external_url("calendars.personal_feed", token=token), name)


@dataclass
class PersonalCalendar:
    token: object  # the live CalendarToken, or None
    coordinator: bool
    alarm_choices: dict


@bp.app_template_global()
def personal_calendar() -> PersonalCalendar | None:
    """The logged-in user's calendar link (for «Min kalender» on their pages)."""
    if not current_user.is_authenticated:
        return None
    return PersonalCalendar(
        operations.live_token_of_user(get_session(), current_user.id),
        bool(policy.scope_ids(current_user, "coordinator")),
        ALARM_CHOICES,
    )


bp.add_app_template_global(personal_subscription, "personal_subscription")


# The user's own link ------------------------------------------------------------------------------

BACK = {"profil": ("accounts.profile", "Min konto"), "pameldinger": ("events.my_registrations", "Mine påmeldinger")}


def _back() -> tuple[str, str]:
    endpoint, label = BACK.get(request.form.get("tilbake", ""), BACK["profil"])
    return url_for(endpoint) + "#min-kalender", label


@bp.post("/kalender/min-lenke")
@requires("authenticated")
def token_create():
    """Make (or replace) the link and show it in this answer, once: only its hash is stored."""
    with refusal_as_error_page():
        link = operations.create_token(get_session(), current_user._get_current_object())
    back, back_label = _back()
    return render_template(
        "calendars/personal_link.html",
        feed=personal_subscription(link.token),
        replaced=link.replaced,
        back=back,
        back_label=back_label,
    )


@bp.post("/kalender/min-lenke/slaa-av")
@requires("authenticated")
def token_revoke():
    with refusal_as_error_page():
        operations.revoke_token(get_session(), current_user._get_current_object())
    flash(
        "Kalenderlenken er slått av. Kalenderprogrammer som abonnerte på den, får ikke lenger nye oppdateringer.",
        "success",
    )
    return redirect(_back()[0])


def _alarm_choice(value: str) -> int | None:
    if value == "":
        return None
    if not value.isdigit():
        raise OperationError("Velg en påminnelse fra listen.", "alarm")
    return int(value)


@bp.post("/kalender/min-lenke/paaminnelse")
@requires("authenticated")
def token_alarm():
    with refusal_as_error_page():
        token = operations.set_alarm(
            get_session(), current_user._get_current_object(), _alarm_choice(request.form.get("alarm", "").strip())
        )
    flash(
        f"Påminnelsen er lagret: {ALARM_CHOICES[token.alarm_minutes].lower()}. Kalenderprogrammet ditt får "
        "den neste gang det henter kalenderen.",
        "success",
    )
    return redirect(_back()[0])


# Guests -------------------------------------------------------------------------------------------

NEUTRAL_ANSWER = (
    "Hvis e-postadressen har en bekreftet påmelding hos oss, har vi sendt en ny kalenderlenke dit. "
    "Den gamle lenken virker ikke lenger. Kommer det ingen e-post, sjekk søppelposten, og at du "
    "skrev adressen du meldte deg på med."
)


@bp.route("/kalender/ny-lenke", methods=["GET", "POST"])
@requires("public")
def guest_new_link():
    """A guest (no account) gets a new personal link by e-mail. The same answer whoever asks, so the
    form does not reveal who has registered."""
    form = NewLinkForm()
    return submit(
        form,
        lambda: operations.mail_guest_link(get_session(), form.email.data),
        NEUTRAL_ANSWER,
        url_for("calendars.guest_new_link"),
    ) or form_page("calendars/new_link.html", form)
