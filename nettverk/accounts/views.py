"""Login, logout, invitations, password reset, own account, and the admin's user pages."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlmodel import func, select

from nettverk import loaders, policy
from nettverk.accounts import operations
from nettverk.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    RoleForm,
    SetPasswordForm,
)
from nettverk.accounts.models import RoleAssignment, User
from nettverk.activity import ActivityLog
from nettverk.db import get_session
from nettverk.errors import OperationError, refusal_as_error_page
from nettverk.forms import client_address, form_page, submit
from nettverk.mail.models import MailStatus, OutboxMessage
from nettverk.policy import requires
from nettverk.registry import queries
from nettverk.registry.models import CompetenceBase, Municipality, Service

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot bounce people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("registry.home")


@bp.route("/logg-inn", methods=["GET", "POST"])
@requires("public")
def login():
    form = LoginForm()

    def log_in():
        user = operations.authenticate(
            get_session(), form.email.data, form.password.data, client_address(), current_app.config
        )
        login_user(user)
        return user

    return submit(
        form,
        log_in,
        lambda user: f"Velkommen, {user.name or user.email}.",
        lambda _: _safe_next(request.args.get("next")),
    ) or form_page("accounts/login.html", form)


@bp.post("/logg-ut")
@requires("authenticated")
def logout():
    operations.log_out(get_session(), current_user._get_current_object())  # a copied cookie must not live on
    logout_user()
    flash("Du er logget ut.", "success")
    return redirect(url_for("registry.home"))


@bp.post("/min-konto/logg-ut-overalt")
@requires("authenticated")
def logout_everywhere():
    operations.log_out_everywhere(get_session(), current_user.id, current_user._get_current_object())
    logout_user()
    flash("Du er logget ut på alle enheter og nettlesere.", "success")
    return redirect(url_for("accounts.login"))


def _token_page(purpose: str, token: str):
    with refusal_as_error_page():
        return operations.token_user(get_session(), token, purpose)


@bp.route("/invitasjon/<token>", methods=["GET", "POST"])
@requires("public")
def accept_invitation(token):
    _, user = _token_page(operations.INVITATION, token)
    form = AcceptInvitationForm(name=user.name)
    return submit(
        form,
        lambda: login_user(operations.accept_invitation(get_session(), token, form.name.data, form.password.data)),
        "Kontoen din er klar. Velkommen til nettverk!",
        url_for("accounts.profile"),
    ) or form_page("accounts/accept_invitation.html", form, user=user)


@bp.route("/glemt-passord", methods=["GET", "POST"])
@requires("public")
def forgot_password():
    form = ForgotPasswordForm()
    return submit(
        form,
        lambda: operations.request_password_reset(
            get_session(), form.email.data, current_app.config["PASSWORD_RESET_MINUTES"], client_address()
        ),
        "Hvis adressen har en konto hos oss, har vi sendt en lenke for å lage nytt passord. Sjekk e-posten din.",
        url_for("accounts.login"),
    ) or form_page("accounts/forgot_password.html", form)


@bp.route("/nytt-passord/<token>", methods=["GET", "POST"])
@requires("public")
def reset_password(token):
    _, user = _token_page(operations.PASSWORD_RESET, token)
    form = SetPasswordForm()
    return submit(
        form,
        lambda: operations.reset_password(get_session(), token, form.password.data),
        "Passordet er endret. Logg inn med det nye passordet.",
        url_for("accounts.login"),
    ) or form_page("accounts/reset_password.html", form, user=user)


@bp.route("/min-konto", methods=["GET", "POST"])
@requires("authenticated")
def profile():
    form = ChangePasswordForm()

    def change_password():
        operations.change_password(get_session(), current_user, form.current_password.data, form.new_password.data)
        login_user(current_user._get_current_object())  # keep this session; the others end

    return submit(form, change_password, "Passordet er endret.", url_for("accounts.profile")) or form_page(
        "accounts/profile.html", form, roles=_described_roles(current_user.id)
    )


# Inviting and managing users ----------------------------------------------------------------------


def _fill_role_choices(form: RoleForm, roles: list[str]) -> None:
    session = get_session()
    # An empty first choice: pressing the button without choosing must not grant the first role (admin).
    form.role.choices = [("", "Velg rolle"), *((r, policy.ROLES[r]) for r in roles)]
    form.base_id.choices = [("", "Ingen"), *queries.base_choices(session)]
    form.municipality_id.choices = [("", "Ingen"), *queries.current_municipality_choices(session)]
    form.service_id.choices = [("", "Ingen"), *queries.service_choices(session)]


def _scope(form: RoleForm) -> dict:
    return {
        "base_id": form.base_id.data,
        "municipality_id": form.municipality_id.data,
        "service_id": form.service_id.data,
    }


@bp.route("/brukere/inviter", methods=["GET", "POST"])
@requires("users.invite")
def invite():
    form = InviteForm()
    _fill_role_choices(form, policy.grantable_roles(current_user))

    def send_invitation():
        if not policy.can_grant(current_user, form.role.data, **_scope(form)):
            raise OperationError(
                "Du kan bare invitere til roller i din egen kompetansebase eller tjeneste. Velg en av dem.", "role", 403
            )
        return operations.invite(
            get_session(),
            current_user,
            form.email.data,
            form.name.data,
            form.role.data,
            current_app.config["INVITATION_DAYS"],
            **_scope(form),
        )

    return submit(
        form, send_invitation, lambda user: f"Invitasjonen er sendt til {user.email}.", url_for("accounts.invite")
    ) or form_page("accounts/invite.html", form)


def _described_roles(user_id: int) -> list[tuple[RoleAssignment, str]]:
    """Each role with the name of what it is scoped to, in one query."""
    session = get_session()
    rows = session.exec(
        select(RoleAssignment, CompetenceBase.name, Municipality.name, Service.name)
        .join(CompetenceBase, CompetenceBase.id == RoleAssignment.base_id, isouter=True)
        .join(Municipality, Municipality.id == RoleAssignment.municipality_id, isouter=True)
        .join(Service, Service.id == RoleAssignment.service_id, isouter=True)
        .where(RoleAssignment.user_id == user_id)
        .order_by(RoleAssignment.role)
    )
    return [(r, base or municipality or service or "") for r, base, municipality, service in rows]


@bp.get("/admin")
@requires("admin")
def admin_home():
    session = get_session()
    counts = {
        "users": session.exec(select(func.count()).select_from(User)).one(),
        "outbox": session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != MailStatus.SENT)
        ).one(),
    }
    recent = session.exec(
        select(ActivityLog, User.email)
        .join(User, User.id == ActivityLog.actor_id, isouter=True)
        .order_by(ActivityLog.id.desc())
        .limit(20)
    ).all()
    return render_template("accounts/admin_home.html", counts=counts, recent=recent)


@bp.get("/admin/brukere")
@requires("admin")
def users():
    session = get_session()
    search = (request.args.get("q") or "").strip()
    if search:
        # Matched in Python: SQLite's lower() and LIKE fold only ASCII, so "øystein" would miss "Øystein".
        needle = search.casefold()
        people = [
            u
            for u in session.exec(select(User).order_by(User.email))
            if needle in u.email.casefold() or needle in u.name.casefold()
        ][:200]
    else:
        people = session.exec(select(User).order_by(User.email).limit(200)).all()
    roles: dict[int, list[str]] = {}
    for row in session.exec(select(RoleAssignment).where(RoleAssignment.user_id.in_([u.id for u in people]))):
        roles.setdefault(row.user_id, []).append(policy.ROLES[row.role])
    return render_template("accounts/users.html", people=people, roles=roles, search=search)


@bp.route("/admin/brukere/<int:user_id>", methods=["GET", "POST"])
@requires("admin", load=loaders.user)
def user_detail(user):
    form = RoleForm()
    _fill_role_choices(form, list(policy.ROLES))
    return submit(
        form,
        lambda: operations.grant_role(get_session(), current_user.id, user, form.role.data, **_scope(form)),
        "Rollen er lagt til.",
        url_for("accounts.user_detail", user_id=user.id),
    ) or form_page("accounts/user.html", form, person=user, roles=_described_roles(user.id))


@bp.post("/admin/brukere/<int:user_id>/roller/<int:role_id>/fjern")
@requires("admin", load=loaders.user)
def role_remove(user, role_id):
    assignment = get_session().get(RoleAssignment, role_id)
    if assignment is None or assignment.user_id != user.id:
        abort(404)
    with refusal_as_error_page():
        operations.revoke_role(get_session(), current_user.id, assignment)
    flash("Rollen er fjernet.", "success")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.post("/admin/brukere/<int:user_id>/logg-ut-overalt")
@requires("admin", load=loaders.user)
def user_logout_everywhere(user):
    operations.log_out_everywhere(get_session(), current_user.id, user)
    flash(f"{user.email} er logget ut på alle enheter.", "success")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.post("/admin/brukere/<int:user_id>/aktiv")
@requires("admin", load=loaders.user)
def user_active(user):
    active = request.form.get("aktiv") == "ja"
    with refusal_as_error_page():
        operations.set_active(get_session(), current_user.id, user, active)
    flash("Kontoen er aktivert." if active else "Kontoen er deaktivert.", "success")
    return redirect(url_for("accounts.user_detail", user_id=user.id))
