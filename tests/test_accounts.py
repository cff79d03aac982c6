"""Accounts through HTTP: login and throttling, CSRF, invitations, password reset, own account, admin's user pages.

Every test acts as a user would (the test client, with CSRF tokens) and checks the outcome where it lands:
the status code, the rows in the database, the messages in the outbox.
"""

import hashlib
from datetime import timedelta
from urllib.parse import quote

import pytest
from conftest import DEMO_PASSWORD, USERS, Browser, link_in, outbox
from factories import base_id, municipality_id, service
from sqlmodel import select

from nettverk.accounts.models import AccountToken, LoginAttempt, RoleAssignment, User
from nettverk.activity import ActivityLog
from nettverk.timeutil import utcnow

NEW_PASSWORD = "en lang og trygg setning"  # noqa: S105 - test data
WRONG_PASSWORD = "feil-passord-123"  # noqa: S105 - test data
WRONG_LOGIN = "Feil e-post eller passord"
LOCKED = "For mange mislykkede forsøk"
SAME_ANSWER = "Hvis adressen har en konto hos oss"


# Helpers ------------------------------------------------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def login(browser, email, password=DEMO_PASSWORD, next_url=None, **kwargs):
    """Post the login form and return the response, whatever it is."""
    url = "/logg-inn" + (f"?next={quote(next_url, safe='')}" if next_url else "")
    return browser.post(url, {"email": email, "password": password}, **kwargs)


def stays_on_site(location: str) -> bool:
    """A path on this site, in a form no browser reads as another host (such as //host or /<backslash>host)."""
    return location.startswith("/") and not location.startswith("//") and not any(c in location for c in "\\\t\r\n")


def is_logged_in(browser) -> bool:
    return browser.get("/min-konto").status_code == 200


def user(db, email) -> User | None:
    db.expire_all()
    return db.exec(select(User).where(User.email == email)).first()


def roles(db, email) -> list[RoleAssignment]:
    db.expire_all()
    return list(
        db.exec(select(RoleAssignment).join(User, User.id == RoleAssignment.user_id).where(User.email == email))
    )


def tokens(db, email) -> list[AccountToken]:
    db.expire_all()
    return list(db.exec(select(AccountToken).join(User, User.id == AccountToken.user_id).where(User.email == email)))


def invite(browser, email, role, name="", **scope):
    """Post the invitation form; scope is base_id=…, municipality_id=… or service_id=…."""
    return browser.post("/brukere/inviter", {"email": email, "name": name, "role": role, **scope})


def invitation_link(db, email) -> str:
    [message] = outbox(db, email)
    return link_in(message, "/invitasjon/")


def expire(db, email, purpose) -> None:
    for token in tokens(db, email):
        if token.purpose == purpose:
            token.expires_at = utcnow() - timedelta(minutes=1)
            db.add(token)
    db.commit()


def reset_link(browser, db, email) -> str:
    browser.post("/glemt-passord", {"email": email})
    return link_in(outbox(db, email)[-1], "/nytt-passord/")


@pytest.fixture
def admin(as_role):
    return as_role("admin")


@pytest.fixture
def invited(admin, db):
    """A new person invited by the admin as coordinator of Fosen: (email, path of the invitation link)."""
    email = "ny.koordinator@fosen.example"
    response = invite(admin, email, "coordinator", name="Nora Ny", base_id=base_id(db, "fosen"))
    assert response.status_code == 302, text(response)
    return email, invitation_link(db, email)


# Login and logout ---------------------------------------------------------------------------------


def test_login_with_demo_user_shows_own_account(browser):
    response = login(browser, USERS["coordinator"])
    assert response.status_code == 302
    page = browser.get("/min-konto")
    assert page.status_code == 200
    assert USERS["coordinator"] in text(page)
    assert "Koordinator: Namdalen" in text(page)


def test_login_is_case_insensitive_on_email(browser):
    assert login(browser, USERS["participant"].upper()).status_code == 302


def test_wrong_password_is_refused(browser):
    response = login(browser, USERS["admin"], WRONG_PASSWORD)
    assert response.status_code == 401
    assert WRONG_LOGIN in text(response)
    assert not is_logged_in(browser)


def test_unknown_email_gets_the_same_answer(browser):
    wrong_password = login(browser, USERS["admin"], WRONG_PASSWORD)
    unknown = login(browser, "finnes.ikke@nettverk.example")
    assert unknown.status_code == wrong_password.status_code == 401
    assert WRONG_LOGIN in text(unknown)


def test_invited_user_without_password_cannot_log_in(browser, invited):
    email, _ = invited
    assert login(browser, email, "").status_code == 422  # the form requires a password
    assert login(browser, email, DEMO_PASSWORD).status_code == 401


def test_login_refuses_redirect_to_another_site(browser):
    response = login(browser, USERS["participant"], next_url="https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "/\t/evil.example", "http:/evil.example", "javascript:alert(1)"]
)
def test_login_redirect_stays_on_site_for_disguised_targets(browser, target):
    response = login(browser, USERS["participant"], next_url=target)
    assert response.status_code == 302
    assert stays_on_site(response.headers["Location"]), response.headers["Location"]


def test_login_follows_a_local_next(browser):
    response = login(browser, USERS["participant"], next_url="/kommuner")
    assert response.status_code == 302
    assert response.headers["Location"] == "/kommuner"


def test_login_page_remembers_where_a_protected_page_sent_you(browser):
    response = browser.get("/min-konto")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/logg-inn?next=")
    assert login(browser, USERS["participant"], next_url="/min-konto").headers["Location"] == "/min-konto"


def test_logout_by_get_is_not_allowed(as_role):
    browser = as_role("participant")
    assert browser.get("/logg-ut").status_code == 405
    assert is_logged_in(browser)


def test_logout_ends_the_session(as_role):
    browser = as_role("participant")
    assert browser.post("/logg-ut").status_code == 302
    response = browser.get("/min-konto")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/logg-inn")


def copied_session(app, browser) -> Browser:
    """Another client with a copy of the browser's session cookie, as someone who copied it would have."""
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    thief = Browser(app.test_client())
    thief.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def test_a_copied_session_cookie_stops_working_at_logout(app, as_role):
    browser = as_role("participant")
    thief = copied_session(app, browser)
    assert is_logged_in(thief)
    assert browser.post("/logg-ut").status_code == 302
    response = thief.get("/min-konto")
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
    assert thief.get("/api/v1/referrals").status_code == 401


def test_logging_out_everywhere_ends_every_session_of_the_user(app, as_role, db):
    browser, phone = as_role("participant"), as_role("participant")
    thief = copied_session(app, browser)
    assert "Logg ut overalt" in text(browser.get("/min-konto"))
    response = browser.post("/min-konto/logg-ut-overalt")
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
    assert not any(is_logged_in(b) for b in (browser, phone, thief))
    assert login(browser, USERS["participant"]).status_code == 302  # the password still works
    assert is_logged_in(browser) and not is_logged_in(thief)


def test_the_admin_logs_a_user_out_everywhere(admin, app, as_role, db):
    participant, other = as_role("participant"), as_role("coordinator")
    thief = copied_session(app, participant)
    person = user(db, USERS["participant"])
    assert "Logg ut overalt" in text(admin.get(f"/admin/brukere/{person.id}"))
    response = admin.post(f"/admin/brukere/{person.id}/logg-ut-overalt")
    assert response.status_code == 302
    assert not is_logged_in(participant) and not is_logged_in(thief)
    assert is_logged_in(other) and is_logged_in(admin)  # nobody else's session ends
    db.expire_all()
    assert db.exec(select(ActivityLog).where(ActivityLog.action == "user.logged_out_everywhere")).one()


def test_only_the_admin_logs_others_out_everywhere(as_role, db):
    participant = as_role("participant")
    person = user(db, USERS["participant"])
    assert as_role("coordinator").post(f"/admin/brukere/{person.id}/logg-ut-overalt").status_code == 403
    assert is_logged_in(participant)


def test_successful_login_records_the_time(browser, db):
    assert user(db, USERS["participant"]).last_login_at is None
    login(browser, USERS["participant"])
    assert user(db, USERS["participant"]).last_login_at is not None


# Throttling ---------------------------------------------------------------------------------------


def test_account_is_locked_after_five_failures_even_with_the_right_password(browser):
    for _ in range(5):
        assert login(browser, USERS["participant"], WRONG_PASSWORD).status_code == 401
    response = login(browser, USERS["participant"])
    assert response.status_code == 429
    assert LOCKED in text(response)
    assert not is_logged_in(browser)


def test_a_locked_account_does_not_lock_others_from_the_same_address(browser, db):
    for _ in range(5):
        login(browser, USERS["participant"], WRONG_PASSWORD)
    assert login(browser, USERS["participant"]).status_code == 429
    assert login(browser, USERS["coordinator"]).status_code == 302


def test_successful_login_clears_the_accounts_failures(browser, db):
    for _ in range(4):
        assert login(browser, USERS["participant"], WRONG_PASSWORD).status_code == 401
    assert login(browser, USERS["participant"]).status_code == 302
    db.expire_all()
    assert not db.exec(select(LoginAttempt).where(LoginAttempt.email == USERS["participant"])).all()
    for _ in range(4):  # without the reset, the fifth failure in a row would already have locked it
        assert login(browser, USERS["participant"], WRONG_PASSWORD).status_code == 401
    assert login(browser, USERS["participant"]).status_code == 302


def test_address_is_locked_after_twenty_failures_across_accounts(browser):
    for number in range(20):
        assert login(browser, f"gjett{number}@nettverk.example", WRONG_PASSWORD).status_code == 401
    response = login(browser, USERS["admin"])
    assert response.status_code == 429
    assert LOCKED in text(response)


def test_address_lock_cannot_be_dodged_with_a_forwarded_for_header(app, browser):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for number in range(3):
        login(
            browser, f"gjett{number}@nettverk.example", WRONG_PASSWORD, headers={"X-Forwarded-For": f"10.0.0.{number}"}
        )
    response = login(browser, USERS["admin"], headers={"X-Forwarded-For": "10.0.0.99"})
    assert response.status_code == 429


def test_address_lock_applies_to_that_address_only(app, browser):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for number in range(3):
        login(browser, f"gjett{number}@nettverk.example", WRONG_PASSWORD)
    assert login(browser, USERS["admin"]).status_code == 429
    other = login(browser, USERS["admin"], environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302


# CSRF ---------------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(browser):
    response = login(browser, USERS["participant"], csrf=False)
    assert response.status_code == 400
    assert "sikkerhetsnøkkel" in text(response)
    assert not is_logged_in(browser)


def test_invitation_without_csrf_token_creates_nothing(admin, db):
    response = admin.post(
        "/brukere/inviter", {"email": "uten.token@nettverk.example", "role": "participant"}, csrf=False
    )
    assert response.status_code == 400
    assert user(db, "uten.token@nettverk.example") is None
    assert outbox(db) == []


def test_logout_without_csrf_token_keeps_the_session(as_role):
    browser = as_role("participant")
    assert browser.post("/logg-ut", csrf=False).status_code == 400
    assert is_logged_in(browser)


# Invitations --------------------------------------------------------------------------------------


def test_invitation_creates_user_role_and_mail(admin, db):
    fosen = base_id(db, "fosen")
    response = invite(admin, "Ny.Koordinator@Fosen.example", "coordinator", name="Nora Ny", base_id=fosen)
    assert response.status_code == 302
    person = user(db, "ny.koordinator@fosen.example")  # stored lower-case
    assert person is not None
    assert person.password_hash is None
    assert [(r.role, r.base_id) for r in roles(db, person.email)] == [("coordinator", fosen)]
    [message] = outbox(db, person.email)
    assert message.subject == "Invitasjon til nettverk"
    assert link_in(message, "/invitasjon/")


def test_invitation_token_is_stored_hashed(db, invited):
    email, link = invited
    raw = link.removeprefix("/invitasjon/")
    [token] = tokens(db, email)
    assert token.purpose == "invitation"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert not any(raw in str(value) for value in token.model_dump().values())


def test_invitation_link_shows_the_form(browser, invited):
    email, link = invited
    response = browser.get(link)
    assert response.status_code == 200
    assert email in text(response)
    assert 'name="password"' in text(response)


def test_accepting_invitation_logs_in_with_the_role(browser, as_role, db, invited):
    email, link = invited
    response = browser.post(link, {"name": "Nora Nyland", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/min-konto"
    page = text(browser.get("/min-konto"))
    assert "Koordinator: Fosen" in page
    assert "Nora Nyland" in page
    assert user(db, email).name == "Nora Nyland"
    assert login(as_role(None), email, NEW_PASSWORD).status_code == 302


def test_invitation_link_works_only_once(browser, db, invited):
    email, link = invited
    browser.post(link, {"name": "Nora", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert browser.get(link).status_code == 410
    again = browser.post(
        link, {"name": "Nora", "password": "et annet langt passord", "confirm": "et annet langt passord"}
    )
    assert again.status_code == 410
    assert login(browser, email, NEW_PASSWORD).status_code == 302


def test_expired_invitation_is_gone(browser, db, invited):
    email, link = invited
    expire(db, email, "invitation")
    assert browser.get(link).status_code == 410
    response = browser.post(link, {"name": "Nora", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert "utløpt" in text(response)
    assert user(db, email).password_hash is None


def test_unknown_invitation_token_is_not_found(browser):
    assert browser.get("/invitasjon/finnes-ikke").status_code == 404


def test_too_short_password_is_refused_and_nothing_saved(browser, db, invited):
    email, link = invited
    response = browser.post(link, {"name": "Nora", "password": "kort", "confirm": "kort"})
    assert response.status_code == 422
    assert "Passordet må ha minst 10 tegn." in text(response)
    person = user(db, email)
    assert person.password_hash is None
    assert person.name == "Nora Ny"
    assert all(t.used_at is None for t in tokens(db, email))
    assert not is_logged_in(browser)


TOO_EASY = "Passordet er for lett å gjette"


@pytest.mark.parametrize("password", ["password12", "passord123456", "qwertyuiop12", "1234567890", "nettverk2026"])
def test_a_common_password_is_refused_at_the_invitation_and_nothing_saved(browser, db, invited, password):
    email, link = invited
    response = browser.post(link, {"name": "Nora Ny", "password": password, "confirm": password})
    assert response.status_code == 422
    assert 'id="password-error"' in text(response) and TOO_EASY in text(response)
    assert user(db, email).password_hash is None
    assert all(t.used_at is None for t in tokens(db, email))
    assert not is_logged_in(browser)


def test_a_password_built_on_ones_own_name_is_refused(as_role):
    browser = as_role("participant")  # Hanne Vikstrand
    response = browser.post(
        "/min-konto", {"current_password": DEMO_PASSWORD, "new_password": "vikstrand2026", "confirm": "vikstrand2026"}
    )
    assert response.status_code == 422
    assert 'id="new_password-error"' in text(response) and TOO_EASY in text(response)
    browser.post("/logg-ut")
    assert login(browser, USERS["participant"]).status_code == 302  # the old password still works


def test_a_common_password_is_refused_at_reset_and_the_link_still_works(browser, db):
    link = reset_link(browser, db, USERS["participant"])
    response = browser.post(link, {"password": "password12", "confirm": "password12"})
    assert response.status_code == 422 and TOO_EASY in text(response)
    assert browser.get(link).status_code == 200
    assert login(browser, USERS["participant"], "password12").status_code == 401


def test_the_demo_password_passes_the_check(browser, db):
    link = reset_link(browser, db, USERS["participant"])
    assert browser.post(link, {"password": DEMO_PASSWORD, "confirm": DEMO_PASSWORD}).status_code == 302


def test_create_admin_refuses_a_common_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "ny.admin@example.no", "--password", "password12"])
    assert result.exit_code == 1 and TOO_EASY in result.output
    assert user(db, "ny.admin@example.no") is None
    result = runner.invoke(args=["create-admin", "ny.admin@example.no", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert [r.role for r in roles(db, "ny.admin@example.no")] == ["admin"]


def test_password_confirmation_must_match(browser, db, invited):
    email, link = invited
    response = browser.post(link, {"name": "Nora", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert response.status_code == 422
    assert "Passordene er ikke like." in text(response)
    assert user(db, email).password_hash is None


def test_a_new_invitation_replaces_the_old_link(admin, browser, db, invited):
    email, old_link = invited
    invite(admin, email, "participant")
    new_link = link_in(outbox(db, email)[-1], "/invitasjon/")
    assert browser.get(old_link).status_code == 410
    assert browser.get(new_link).status_code == 200


def test_inviting_an_existing_account_only_adds_the_role(admin, db):
    email = USERS["participant"]
    before = user(db, email).password_hash
    namsos = municipality_id(db, "5007")
    assert invite(admin, email, "municipality_contact", municipality_id=namsos).status_code == 302
    assert {(r.role, r.municipality_id) for r in roles(db, email)} == {
        ("participant", None),
        ("municipality_contact", namsos),
    }
    [message] = outbox(db, email)
    assert message.subject == "Du har fått en ny rolle i nettverk"
    assert "/invitasjon/" not in message.body_text
    assert tokens(db, email) == []
    assert user(db, email).password_hash == before


def test_invitation_needs_a_valid_email(admin, db):
    response = invite(admin, "ikke-en-adresse", "participant")
    assert response.status_code == 422
    assert "Skriv en gyldig e-postadresse" in text(response)
    assert outbox(db) == []


# Who may invite whom ------------------------------------------------------------------------------


def test_coordinator_invites_contact_in_own_base(as_role, db):
    response = invite(
        as_role("coordinator"),
        "kontakt@namsos.example",
        "municipality_contact",
        municipality_id=municipality_id(db, "5007"),
    )
    assert response.status_code == 302
    assert [r.role for r in roles(db, "kontakt@namsos.example")] == ["municipality_contact"]


def test_coordinator_cannot_invite_contact_outside_own_base(as_role, db):
    response = invite(
        as_role("coordinator"),
        "kontakt@trondheim.example",
        "municipality_contact",
        municipality_id=municipality_id(db, "5001"),
    )
    assert response.status_code == 403
    assert user(db, "kontakt@trondheim.example") is None
    assert outbox(db) == []


def test_coordinator_cannot_invite_coordinator_of_another_base(as_role, db):
    response = invite(as_role("coordinator"), "ny@fosen.example", "coordinator", base_id=base_id(db, "fosen"))
    assert response.status_code == 403
    assert user(db, "ny@fosen.example") is None


def test_coordinator_cannot_invite_an_admin(as_role, db):
    response = invite(as_role("coordinator"), "ny.admin@nettverk.example", "admin")
    assert 400 <= response.status_code < 500
    assert user(db, "ny.admin@nettverk.example") is None
    assert outbox(db) == []


def test_service_leader_invites_staff_to_own_service(as_role, db):
    response = invite(
        as_role("service_leader"),
        "ny.ansatt@fosen.example",
        "service_staff",
        service_id=service(db, "fosen-barnevern").id,
    )
    assert response.status_code == 302
    assert [(r.role, r.service_id) for r in roles(db, "ny.ansatt@fosen.example")] == [
        ("service_staff", service(db, "fosen-barnevern").id)
    ]


def test_service_leader_cannot_invite_staff_to_another_service(as_role, db):
    response = invite(
        as_role("service_leader"),
        "ny.ansatt@innherred.example",
        "service_staff",
        service_id=service(db, "innherred-barnevern").id,
    )
    assert response.status_code == 403
    assert user(db, "ny.ansatt@innherred.example") is None


def test_service_leader_cannot_add_a_role_to_the_admin(as_role, db):
    before = [(r.role, r.service_id) for r in roles(db, USERS["admin"])]
    response = invite(
        as_role("service_leader"), USERS["admin"], "service_staff", service_id=service(db, "fosen-barnevern").id
    )
    assert response.status_code == 403
    assert "har allerede en konto med roller utenfor det du kan gi" in text(response)
    assert [(r.role, r.service_id) for r in roles(db, USERS["admin"])] == before
    assert outbox(db) == []


def test_service_leader_cannot_add_a_role_to_another_services_staff(as_role, db):
    response = invite(
        as_role("service_leader"),
        USERS["service_staff_namdal"],
        "service_leader",
        service_id=service(db, "fosen-barnevern").id,
    )
    assert response.status_code == 403
    assert [r.role for r in roles(db, USERS["service_staff_namdal"])] == ["service_staff"]


def test_service_leader_adds_a_role_to_an_ordinary_participant(as_role, db):
    fosen = service(db, "fosen-barnevern").id
    response = invite(as_role("service_leader"), USERS["participant"], "service_staff", service_id=fosen)
    assert response.status_code == 302
    assert sorted((r.role, r.service_id) for r in roles(db, USERS["participant"])) == [
        ("participant", None),
        ("service_staff", fosen),
    ]
    [message] = outbox(db, USERS["participant"])
    assert message.subject == "Du har fått en ny rolle i nettverk"


def test_admin_still_adds_a_role_to_anyone(as_role, db):
    response = invite(as_role("admin"), USERS["service_staff_namdal"], "coordinator", base_id=base_id(db, "fosen"))
    assert response.status_code == 302
    assert sorted(r.role for r in roles(db, USERS["service_staff_namdal"])) == ["coordinator", "service_staff"]


def test_participant_may_not_invite(as_role, db):
    browser = as_role("participant")
    assert browser.get("/brukere/inviter").status_code == 403
    assert invite(browser, "venn@nettverk.example", "participant").status_code == 403
    assert user(db, "venn@nettverk.example") is None


# Password reset -----------------------------------------------------------------------------------


def test_reset_request_sends_a_link(browser, db):
    response = browser.post("/glemt-passord", {"email": USERS["participant"]}, follow_redirects=True)
    assert SAME_ANSWER in text(response)
    [message] = outbox(db, USERS["participant"])
    assert message.subject == "Nytt passord i nettverk"
    assert link_in(message, "/nytt-passord/")


def test_reset_request_for_unknown_email_looks_the_same_and_sends_nothing(browser, db):
    known = browser.post("/glemt-passord", {"email": USERS["participant"]}, follow_redirects=True)
    unknown = browser.post("/glemt-passord", {"email": "ukjent@nettverk.example"}, follow_redirects=True)
    assert unknown.status_code == known.status_code == 200
    assert SAME_ANSWER in text(unknown)
    assert outbox(db, "ukjent@nettverk.example") == []
    assert len(outbox(db)) == 1


def test_reset_link_sets_a_new_password(browser, db):
    link = reset_link(browser, db, USERS["participant"])
    response = browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(browser, USERS["participant"]).status_code == 401
    assert login(browser, USERS["participant"], NEW_PASSWORD).status_code == 302


def test_reset_link_works_only_once(browser, db):
    link = reset_link(browser, db, USERS["participant"])
    browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    response = browser.post(link, {"password": "et tredje langt passord", "confirm": "et tredje langt passord"})
    assert response.status_code == 410
    assert login(browser, USERS["participant"], NEW_PASSWORD).status_code == 302


def test_expired_reset_link_is_gone(browser, db):
    link = reset_link(browser, db, USERS["participant"])
    expire(db, USERS["participant"], "password_reset")
    response = browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert login(browser, USERS["participant"]).status_code == 302


def test_reset_token_is_stored_hashed(browser, db):
    raw = reset_link(browser, db, USERS["participant"]).removeprefix("/nytt-passord/")
    [token] = tokens(db, USERS["participant"])
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_reset_unlocks_a_locked_account(browser, db):
    for _ in range(5):
        login(browser, USERS["participant"], WRONG_PASSWORD)
    assert login(browser, USERS["participant"], WRONG_PASSWORD).status_code == 429
    link = reset_link(browser, db, USERS["participant"])
    browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert login(browser, USERS["participant"], NEW_PASSWORD).status_code == 302


# Own account --------------------------------------------------------------------------------------


def test_change_password_needs_the_current_one(as_role):
    browser = as_role("participant")
    response = browser.post(
        "/min-konto", {"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 422
    assert "Nåværende passord er feil." in text(response)
    browser.post("/logg-ut")
    assert login(browser, USERS["participant"], NEW_PASSWORD).status_code == 401


def test_change_password(as_role):
    browser = as_role("participant")
    response = browser.post(
        "/min-konto", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    browser.post("/logg-ut")
    assert login(browser, USERS["participant"]).status_code == 401
    assert login(browser, USERS["participant"], NEW_PASSWORD).status_code == 302


def test_password_may_not_be_the_email(as_role):
    browser = as_role("participant")
    email = USERS["participant"]
    response = browser.post("/min-konto", {"current_password": DEMO_PASSWORD, "new_password": email, "confirm": email})
    assert response.status_code == 422
    assert "Passordet kan ikke være e-postadressen din." in text(response)


# The admin's user pages ---------------------------------------------------------------------------


def test_admin_lists_users(admin):
    response = admin.get("/admin/brukere")
    assert response.status_code == 200
    for email in USERS.values():
        assert f"<td>{email}</td>" in text(response)


def test_admin_searches_users(admin):
    page = text(admin.get("/admin/brukere?q=NAMDALEN"))
    assert f"<td>{USERS['coordinator']}</td>" in page
    assert f"<td>{USERS['admin']}</td>" not in page
    assert f"<td>{USERS['coordinator_fosen']}</td>" not in page


def test_admin_search_finds_names_starting_with_norwegian_letters(admin, db):
    invite(admin, "oystein@nettverk.example", "participant", name="Øystein Ås")
    page = text(admin.get("/admin/brukere?q=" + quote("øystein")))
    assert "<td>oystein@nettverk.example</td>" in page


def test_admin_grants_a_role(admin, db):
    person = user(db, USERS["participant"])
    response = admin.post(f"/admin/brukere/{person.id}", {"role": "coordinator", "base_id": base_id(db, "fosen")})
    assert response.status_code == 302
    assert ("coordinator", base_id(db, "fosen")) in {(r.role, r.base_id) for r in roles(db, person.email)}


def test_granting_a_scoped_role_without_scope_is_refused(admin, db):
    person = user(db, USERS["participant"])
    response = admin.post(f"/admin/brukere/{person.id}", {"role": "coordinator", "base_id": ""})
    assert response.status_code == 422
    assert "Rollen koordinator gjelder én kompetansebase: velg hvilken." in text(response)
    assert [r.role for r in roles(db, person.email)] == ["participant"]


def test_the_role_form_starts_with_no_role_chosen_and_refuses_an_empty_one(admin, db):
    person = user(db, USERS["participant"])
    page = text(admin.get(f"/admin/brukere/{person.id}"))
    assert '<option selected value="">Velg rolle</option>' in page or '<option value="">Velg rolle</option>' in page
    response = admin.post(f"/admin/brukere/{person.id}", {"role": ""})
    assert response.status_code == 422
    assert "Velg en rolle." in text(response)
    assert [r.role for r in roles(db, person.email)] == ["participant"]


def test_admin_revokes_a_role(admin, db):
    person = user(db, USERS["participant"])
    [role] = roles(db, person.email)
    assert admin.post(f"/admin/brukere/{person.id}/roller/{role.id}/fjern").status_code == 302
    assert roles(db, person.email) == []


def test_the_last_admin_role_cannot_be_revoked(admin, db):
    person = user(db, USERS["admin"])
    [role] = roles(db, person.email)
    response = admin.post(f"/admin/brukere/{person.id}/roller/{role.id}/fjern")
    assert response.status_code == 409
    assert "Dette er den siste administratoren" in text(response)
    assert [r.role for r in roles(db, person.email)] == ["admin"]


def test_an_admin_role_can_be_revoked_while_another_admin_remains(admin, db):
    second = user(db, USERS["participant"])
    assert admin.post(f"/admin/brukere/{second.id}", {"role": "admin"}).status_code == 302
    me = user(db, USERS["admin"])
    [role] = roles(db, me.email)
    assert admin.post(f"/admin/brukere/{me.id}/roller/{role.id}/fjern").status_code == 302
    assert roles(db, me.email) == []
    assert admin.get("/admin/brukere").status_code == 403


def test_a_deactivated_admin_does_not_count_as_the_last_one(admin, db):
    second = user(db, USERS["participant"])
    assert admin.post(f"/admin/brukere/{second.id}", {"role": "admin"}).status_code == 302
    assert admin.post(f"/admin/brukere/{second.id}/aktiv", {"aktiv": "nei"}).status_code == 302
    me = user(db, USERS["admin"])
    [role] = roles(db, me.email)
    assert admin.post(f"/admin/brukere/{me.id}/roller/{role.id}/fjern").status_code == 409
    assert [r.role for r in roles(db, me.email)] == ["admin"]


def test_deactivated_user_loses_session_and_login(admin, as_role, db):
    participant = as_role("participant")
    assert is_logged_in(participant)
    person = user(db, USERS["participant"])
    assert admin.post(f"/admin/brukere/{person.id}/aktiv", {"aktiv": "nei"}).status_code == 302
    assert user(db, person.email).is_active is False
    response = participant.get("/min-konto")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/logg-inn")
    assert login(participant, person.email).status_code == 401


def test_deactivated_user_gets_no_reset_link(admin, browser, db):
    person = user(db, USERS["participant"])
    admin.post(f"/admin/brukere/{person.id}/aktiv", {"aktiv": "nei"})
    browser.post("/glemt-passord", {"email": person.email})
    assert outbox(db, person.email) == []


def test_admin_cannot_deactivate_themself(admin, db):
    person = user(db, USERS["admin"])
    assert admin.post(f"/admin/brukere/{person.id}/aktiv", {"aktiv": "nei"}).status_code == 409
    assert user(db, person.email).is_active is True
    assert is_logged_in(admin)


def test_non_admin_cannot_open_user_pages(as_role, db):
    coordinator = as_role("coordinator")
    person = user(db, USERS["participant"])
    assert coordinator.get("/admin/brukere").status_code == 403
    assert coordinator.post(f"/admin/brukere/{person.id}", {"role": "admin"}).status_code == 403
    assert [r.role for r in roles(db, person.email)] == ["participant"]


def test_password_reset_ends_other_sessions(app, as_role, db):
    stolen = as_role("participant")
    assert stolen.get("/min-konto").status_code == 200
    owner = as_role(None)
    owner.post("/glemt-passord", {"email": USERS["participant"]})
    path = link_in(outbox(db, USERS["participant"])[-1], "/nytt-passord/")
    owner.post(path, {"password": "et helt nytt passord", "confirm": "et helt nytt passord"})
    response = stolen.get("/min-konto")
    assert response.status_code == 302 and "/logg-inn" in response.headers["Location"]


def test_changing_password_keeps_this_session_and_ends_the_others(as_role):
    this, other = as_role("participant"), as_role("participant")
    response = this.post(
        "/min-konto",
        {"current_password": DEMO_PASSWORD, "new_password": "nytt passord 2026", "confirm": "nytt passord 2026"},
    )
    assert response.status_code == 302
    assert this.get("/min-konto").status_code == 200
    assert other.get("/min-konto").status_code == 302
