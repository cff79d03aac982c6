"""Referral and catalog pages as the people who use them would: a barneverntjeneste sends a consented,
minimal referral; the providing team follows it to the end; identifying text is refused and nothing is
stored; every illegal transition is 409; nobody else learns that a referral exists; every read and change
is audited in a log nobody can change; content is erased after the retention period."""

import re
from datetime import date, timedelta

import pytest
from conftest import USERS, outbox
from factories import intervention, make_referral, make_tiltak, municipality_id, service, user
from sqlalchemy import func, text
from sqlmodel import select

from nettverk.accounts.models import RoleAssignment
from nettverk.policy import PROVIDER, SENDER
from nettverk.privacy import identity
from nettverk.referrals import operations
from nettverk.referrals.models import (
    REFERRAL_STATUSES,
    Intervention,
    InterventionMunicipality,
    Referral,
    ReferralAudit,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
)
from nettverk.registry.models import BaseMembership, CompetenceBase
from nettverk.timeutil import utcnow

PMTO = "pmto-foreldretrening"  # base Fosen, delivered by Innherred barnevern (the demo provider)
NEED = "Foreldrene ønsker hjelp med grensesetting og faste rutiner i hverdagen."
CASE = "2026/114"


def fodselsnummer(day=14, month=5, year=15) -> str:
    """A valid fødselsnummer (both modulus-11 check digits right), computed here, not by the code under test."""
    for individual in range(100, 1000):
        digits = [int(c) for c in f"{day:02d}{month:02d}{year:02d}{individual:03d}"]
        for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
            check = (11 - sum(w * d for w, d in zip(weights, digits, strict=True)) % 11) % 11
            if check == 10:
                break
            digits.append(check)
        else:
            return "".join(map(str, digits))
    raise AssertionError("no valid number")


def counts(db) -> dict[str, int]:
    db.expire_all()
    return {
        model.__tablename__: db.exec(select(func.count()).select_from(model)).one()
        for model in (Referral, ReferralAudit, ReferralMessage, ReferralTransition)
    }


def form(db, button="send", **overrides) -> dict:
    data = {
        "case_reference": CASE,
        "family_municipality_id": municipality_id(db, "5054"),
        "children_count": "2",
        "child_birth_years": "2015, 2018",
        "need": NEED,
        "urgency": "normal",
        "preferred_start": (date.today() + timedelta(days=30)).isoformat(),
        "bti_level": "2",
        "consent_given": "y",
        "consent_date": (date.today() - timedelta(days=5)).isoformat(),
        "consent_form": "skriftlig",
        button: "x",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def send(browser, db, button="send", slug=PMTO, **overrides):
    return browser.post(f"/henvendelser/ny?tiltak={slug}", form(db, button, **overrides))


def latest(db) -> Referral:
    db.expire_all()
    return db.exec(select(Referral).order_by(Referral.id.desc())).first()


def audit_actions(db, referral: Referral) -> list[str]:
    db.expire_all()
    return list(
        db.exec(select(ReferralAudit.action).where(ReferralAudit.referral_id == referral.id).order_by(ReferralAudit.id))
    )


def select_html(page: str, field: str) -> str:
    return re.search(rf'<select [^>]*id="{field}".*?</select>', page, re.S).group(0)


def error_at(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"><span class="visually-hidden">Feil:</span> ([^<]+)</p>', page)
    assert match, f"no error next to {field}"
    return match.group(1)


# Sending ------------------------------------------------------------------------------------------


def test_the_form_warns_plainly_and_offers_only_the_municipalities_the_service_serves(as_role, db):
    page = as_role("service_staff").get(f"/henvendelser/ny?tiltak={PMTO}").get_data(as_text=True)
    assert (
        "Ikke skriv navn, fødselsnummer, telefonnummer eller e-postadresser. Henvendelsen skal bare inneholde "
        "det tiltaksteamet trenger."
    ) in page
    assert "Lagre som utkast" in page and 'value="Send"' in page
    options = select_html(page, "family_municipality_id")
    assert ">Indre Fosen<" in options and ">Osen<" in options
    assert "Ørland" not in options  # in base Fosen, but not served by Fosen barneverntjeneste


def test_staff_sends_a_consented_referral(as_role, db):
    staff = as_role("service_staff")
    response = send(staff, db)
    assert response.status_code == 302, response.get_data(as_text=True)
    referral = latest(db)
    assert response.headers["Location"] == f"/henvendelser/{referral.public_id}"
    assert len(referral.public_id) >= 20  # random, not an id that can be counted
    assert (referral.status, referral.case_reference, referral.need) == (ReferralStatus.SENT, CASE, NEED)
    assert (referral.children_count, referral.child_birth_years) == (2, "2015,2018")
    assert referral.consent_given and referral.consent_form == "skriftlig" and referral.sent_at is not None
    assert audit_actions(db, referral) == ["created", ReferralStatus.SENT]
    # The team is told there is something to read, and nothing of what it says.
    [mail] = outbox(db, USERS["provider"])
    assert "PMTO foreldretrening" in mail.subject
    assert f"/henvendelser/{referral.public_id}" in mail.body_text
    for content in (NEED, CASE, "2015", "Indre Fosen"):
        assert content not in mail.body_text and content not in mail.body_html
    page = staff.get(f"/henvendelser/{referral.public_id}").get_data(as_text=True)
    assert NEED in page and "Sendt" in page


def test_a_referral_without_consent_cannot_be_sent(as_role, db):
    staff = as_role("service_staff")
    before = counts(db)
    response = send(staff, db, consent_given=None)
    assert response.status_code == 422
    assert "kan ikke sendes uten at foreldrene har samtykket" in error_at(
        response.get_data(as_text=True), "consent_given"
    )
    assert counts(db) == before
    # It can be kept as a draft, but the draft cannot be sent either until the consent is there.
    assert send(staff, db, button="save_draft", consent_given=None).status_code == 302
    draft = latest(db)
    assert draft.status == ReferralStatus.DRAFT and not draft.consent_given
    response = staff.post(f"/henvendelser/{draft.public_id}/handling/send")
    assert response.status_code == 422
    assert "samtykket" in response.get_data(as_text=True)
    assert latest(db).status == ReferralStatus.DRAFT
    # With the consent filled in on the draft, it goes.
    response = staff.post(f"/henvendelser/{draft.public_id}/rediger", form(db))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert latest(db).status == ReferralStatus.SENT


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("need", f"Gjelder barn med fnr {fodselsnummer()}, se saken.", identity.ID_NUMBER_MESSAGE),
        (
            "need",
            "Se " + fodselsnummer(day=3, month=11, year=12)[:6] + " " + fodselsnummer(3, 11, 12)[6:],
            identity.ID_NUMBER_MESSAGE,
        ),
        ("case_reference", fodselsnummer(day=54, month=1, year=19), identity.ID_NUMBER_MESSAGE),  # a D-nummer
        ("need", "Mor kan nås på 912 34 567 etter kl. 15.", identity.PHONE_MESSAGE),
        ("need", "Ta kontakt på kontakt.familie@example.no.", identity.EMAIL_MESSAGE),
    ],
)
@pytest.mark.parametrize("button", ["send", "save_draft"])
def test_identifying_text_is_refused_next_to_its_field_and_nothing_is_stored(
    as_role, db, field, value, message, button
):
    assert identity.find_problems(value) == [message]  # the test's own number is a real one
    staff = as_role("service_staff")
    before = counts(db)
    response = send(staff, db, button=button, **{field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_at(page, field) == message
    assert '<div class="error-summary"' in page
    other = "need" if field == "case_reference" else "case_reference"
    assert (NEED if other == "need" else f'value="{CASE}"') in page  # the other values are kept
    assert counts(db) == before
    assert outbox(db) == []


def test_a_message_with_a_phone_number_is_refused_and_a_clean_one_is_kept(as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    staff, provider = as_role("service_staff"), as_role("provider")
    before = counts(db)
    response = provider.post(f"/henvendelser/{referral.public_id}/melding", {"body": "Ring meg på 98765432."})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "body") == identity.PHONE_MESSAGE
    assert counts(db) == before
    response = provider.post(f"/henvendelser/{referral.public_id}/melding", {"body": "Kan vi ta et møte uke 12?"})
    assert response.status_code == 302
    assert "Kan vi ta et møte uke 12?" in staff.get(f"/henvendelser/{referral.public_id}").get_data(as_text=True)
    assert audit_actions(db, referral)[-2:] == ["message", "viewed"]


def test_a_draft_cannot_get_messages(as_role, db):
    referral = make_referral(db, ReferralStatus.DRAFT)
    response = as_role("service_staff").post(f"/henvendelser/{referral.public_id}/melding", {"body": "Hei"})
    assert response.status_code == 409


# The workflow -------------------------------------------------------------------------------------


def test_provider_receives_accepts_starts_and_closes(as_role, db):
    staff, provider = as_role("service_staff"), as_role("provider")
    assert send(staff, db).status_code == 302
    referral = latest(db)
    url = f"/henvendelser/{referral.public_id}"
    page = provider.get(url).get_data(as_text=True)
    assert NEED in page and "Bekreft mottatt" in page and "Trekk tilbake" not in page
    assert provider.post(f"{url}/handling/receive", {"receive-comment": "Vi ser på den i morgen."}).status_code == 302
    assert provider.post(f"{url}/handling/accept").status_code == 302
    assert latest(db).status == ReferralStatus.ACCEPTED
    assert provider.post(f"{url}/handling/start").status_code == 302
    # Closing needs an outcome.
    response = provider.post(f"{url}/handling/close", {"close-comment": "Ferdig."})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "close-outcome") == "Velg utfallet."
    assert latest(db).status == ReferralStatus.IN_PROGRESS
    response = provider.post(f"{url}/handling/close", {"close-outcome": "completed", "close-outcome_note": "Bra."})
    assert response.status_code == 302
    referral = latest(db)
    assert (referral.status, referral.outcome, referral.outcome_note) == (ReferralStatus.CLOSED, "completed", "Bra.")
    assert referral.received_at and referral.accepted_at and referral.started_at and referral.finished_at
    history = [
        (t.from_status, t.to_status, t.comment)
        for t in db.exec(
            select(ReferralTransition)
            .where(ReferralTransition.referral_id == referral.id)
            .order_by(ReferralTransition.id)
        )
    ]
    assert history == [
        ("", ReferralStatus.DRAFT, ""),
        (ReferralStatus.DRAFT, ReferralStatus.SENT, ""),
        (ReferralStatus.SENT, ReferralStatus.RECEIVED, "Vi ser på den i morgen."),
        (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ""),
        (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ""),
        (ReferralStatus.IN_PROGRESS, ReferralStatus.CLOSED, ""),
    ]
    page = staff.get(url).get_data(as_text=True)
    assert "Vi ser på den i morgen." in page and "Gjennomført som planlagt" in page and "Eirik Skjelvik" in page
    # The sender was told of each step, without content.
    mails = outbox(db, USERS["service_staff"])
    assert len(mails) == 4 and all(NEED not in m.body_text for m in mails)


def test_declining_asks_for_a_reason(as_role, db):
    referral = make_referral(db, ReferralStatus.RECEIVED)
    provider = as_role("provider")
    url = f"/henvendelser/{referral.public_id}/handling/decline"
    response = provider.post(url)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "decline-reason") == "Skriv hvorfor henvendelsen avslås."
    response = provider.post(url, {"decline-reason": "Ring 41234567 for mer."})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "decline-reason") == identity.PHONE_MESSAGE
    assert latest(db).status == ReferralStatus.RECEIVED
    assert provider.post(url, {"decline-reason": "Ingen ledig kapasitet før sommeren."}).status_code == 302
    referral = latest(db)
    assert (referral.status, referral.decline_reason) == (
        ReferralStatus.DECLINED,
        "Ingen ledig kapasitet før sommeren.",
    )
    assert "Ingen ledig kapasitet før sommeren." in as_role("service_staff").get(
        f"/henvendelser/{referral.public_id}"
    ).get_data(as_text=True)


def test_every_illegal_transition_is_409_and_changes_nothing(as_role, db):
    browsers = {SENDER: as_role("service_staff"), PROVIDER: as_role("provider")}
    tried = 0
    for status in REFERRAL_STATUSES:
        referral = make_referral(db, status)
        for name, action in operations.ACTIONS.items():
            if status in action.sources:
                continue
            before = counts(db)
            response = browsers[action.side].post(
                f"/henvendelser/{referral.public_id}/handling/{name}",
                {f"{name}-reason": "Grunn.", f"{name}-outcome": "completed"},
            )
            where = f"{name} from {status}"
            if status == ReferralStatus.DRAFT and action.side == PROVIDER:
                assert response.status_code == 404, where  # the team does not see drafts at all
            else:
                assert response.status_code == 409, where
                page = response.get_data(as_text=True)
                assert f"Henvendelsen er {REFERRAL_STATUSES[status].lower()}" in page, where
            db.expire_all()
            assert db.get(Referral, referral.id).status == status, where
            assert counts(db) == before, where
            tried += 1
    assert tried == sum(len(REFERRAL_STATUSES) - len(a.sources) for a in operations.ACTIONS.values())


def test_an_unknown_action_is_404(as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    assert as_role("provider").post(f"/henvendelser/{referral.public_id}/handling/slett").status_code == 404


def test_actions_of_the_other_side_are_refused(as_role, db):
    referral = make_referral(db, ReferralStatus.RECEIVED)
    before = counts(db)
    assert as_role("provider").post(f"/henvendelser/{referral.public_id}/handling/withdraw").status_code == 403
    assert as_role("service_staff").post(f"/henvendelser/{referral.public_id}/handling/accept").status_code == 403
    assert counts(db) == before


@pytest.mark.parametrize(
    "status", [ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED]
)
def test_the_sender_may_withdraw_until_the_work_has_started(as_role, db, status):
    referral = make_referral(db, status)
    outbox_before = len(outbox(db, USERS["provider"]))
    response = as_role("service_staff").post(
        f"/henvendelser/{referral.public_id}/handling/withdraw", {"withdraw-comment": "Familien flyttet."}
    )
    assert response.status_code == 302
    referral = latest(db)
    assert referral.status == ReferralStatus.WITHDRAWN and referral.finished_at is not None
    # A team that had the referral is told that it is withdrawn (a draft never reached them).
    assert len(outbox(db, USERS["provider"])) - outbox_before == (0 if status == ReferralStatus.DRAFT else 1)


@pytest.mark.parametrize("status", [ReferralStatus.IN_PROGRESS, ReferralStatus.CLOSED, ReferralStatus.DECLINED])
def test_withdrawal_is_refused_once_started_or_finished(as_role, db, status):
    referral = make_referral(db, status)
    response = as_role("service_staff").post(f"/henvendelser/{referral.public_id}/handling/withdraw")
    assert response.status_code == 409
    assert "«Trekk tilbake» kan ikke gjøres nå" in response.get_data(as_text=True)
    assert latest(db).status == status


def test_only_the_sender_edits_a_draft_and_only_while_it_is_a_draft(as_role, db):
    draft = make_referral(db, ReferralStatus.DRAFT)
    staff = as_role("service_staff")
    assert staff.get(f"/henvendelser/{draft.public_id}/rediger").status_code == 200
    response = staff.post(
        f"/henvendelser/{draft.public_id}/rediger", form(db, button="save_draft", need="Behovet er endret.")
    )
    assert response.status_code == 302
    assert (latest(db).need, latest(db).status) == ("Behovet er endret.", ReferralStatus.DRAFT)
    assert "updated" in audit_actions(db, draft)
    sent = make_referral(db, ReferralStatus.SENT)
    assert staff.get(f"/henvendelser/{sent.public_id}/rediger").status_code == 409
    assert as_role("provider").get(f"/henvendelser/{sent.public_id}/rediger").status_code == 403


# Who sees what ------------------------------------------------------------------------------------

OUTSIDERS = [
    None,
    "service_staff_namdal",
    "service_leader_namdal",
    "coordinator",
    "coordinator_fosen",
    "admin",
    "participant",
    "municipality_contact",
    "provider_fosen",
]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_everyone_else_gets_404_on_the_referral_and_its_actions(as_role, db, role):
    referral = make_referral(db, ReferralStatus.RECEIVED)
    draft = make_referral(db, ReferralStatus.DRAFT)
    browser = as_role(role)
    before = counts(db)
    for r in (referral, draft):
        url = f"/henvendelser/{r.public_id}"
        assert browser.get(url).status_code == 404, url
        assert browser.get(f"{url}/rediger").status_code == 404
        assert browser.post(f"{url}/rediger", form(db)).status_code == 404
        for name in operations.ACTIONS:
            assert browser.post(f"{url}/handling/{name}", {"decline-reason": "x"}).status_code == 404, name
        assert browser.post(f"{url}/melding", {"body": "Hei"}).status_code == 404
    assert counts(db) == before
    # A public id that does not exist answers the same.
    assert browser.get("/henvendelser/finnes-ikke").status_code == 404


def test_the_sending_services_leader_sees_it_and_the_team_does_not_see_drafts(as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    draft = make_referral(db, ReferralStatus.DRAFT)
    leader, provider = as_role("service_leader"), as_role("provider")
    assert leader.get(f"/henvendelser/{referral.public_id}").status_code == 200
    assert leader.get(f"/henvendelser/{draft.public_id}").status_code == 200
    assert provider.get(f"/henvendelser/{referral.public_id}").status_code == 200
    assert provider.get(f"/henvendelser/{draft.public_id}").status_code == 404


def test_the_lists_show_each_side_its_own_referrals_and_audit_the_listing(as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    draft = make_referral(db, ReferralStatus.DRAFT, case_reference="UTKAST-7")
    staff_page = as_role("service_staff").get("/henvendelser").get_data(as_text=True)
    assert referral.public_id in staff_page and draft.public_id in staff_page
    provider_page = as_role("provider").get("/henvendelser").get_data(as_text=True)
    assert referral.public_id in provider_page and draft.public_id not in provider_page
    other_page = as_role("service_staff_namdal").get("/henvendelser").get_data(as_text=True)
    assert referral.public_id not in other_page and "Ingen henvendelser" in other_page
    listed = db.exec(select(ReferralAudit).where(ReferralAudit.action == "listed")).all()
    fosen, innherred = service(db, "fosen-barnevern").id, service(db, "innherred-barnevern").id
    assert sorted((a.referral_id, a.actor_id, a.actor_service_id) for a in listed) == sorted(
        [
            (referral.id, user(db, "service_staff").id, fosen),
            (draft.id, user(db, "service_staff").id, fosen),
            (referral.id, user(db, "provider").id, innherred),
        ]
    )
    # The status filter.
    page = as_role("service_staff").get("/henvendelser?status=draft").get_data(as_text=True)
    assert draft.public_id in page and referral.public_id not in page
    assert as_role("service_staff").get("/henvendelser?status=tull").status_code == 400


@pytest.mark.parametrize("role", ["coordinator", "coordinator_fosen", "admin", "participant", "municipality_contact"])
def test_roles_without_referrals_have_no_list(as_role, role):
    assert as_role(role).get("/henvendelser").status_code == 403
    assert as_role(role).get(f"/henvendelser/ny?tiltak={PMTO}").status_code == 403


def test_anonymous_is_sent_to_log_in_for_the_list_and_the_form(as_role):
    for url in ("/henvendelser", f"/henvendelser/ny?tiltak={PMTO}", "/tiltak", f"/tiltak/{PMTO}"):
        response = as_role(None).get(url)
        assert response.status_code == 302 and "/logg-inn" in response.headers["Location"], url


def test_the_menu_shows_tiltak_to_everyone_logged_in_and_henvendelser_to_the_two_sides(as_role):
    def menu(role):
        page = as_role(role).get("/").get_data(as_text=True)
        return re.search(r'<nav aria-label="Hovedmeny".*?</nav>', page, re.S).group(0)

    assert ">Tiltak</a>" in menu("participant") and ">Henvendelser</a>" not in menu("participant")
    assert ">Henvendelser</a>" not in menu("coordinator") and ">Henvendelser</a>" not in menu("admin")
    for role in ("service_staff", "service_leader", "provider"):
        assert ">Henvendelser</a>" in menu(role), role
    assert ">Tiltak</a>" not in menu(None)


# Audit --------------------------------------------------------------------------------------------


def test_views_and_changes_are_audited_with_who_and_from_which_service(as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    staff, provider = as_role("service_staff"), as_role("provider")
    fosen, innherred = service(db, "fosen-barnevern").id, service(db, "innherred-barnevern").id
    before = len(audit_actions(db, referral))
    staff.get(f"/henvendelser/{referral.public_id}")
    provider.get(f"/henvendelser/{referral.public_id}")
    provider.post(f"/henvendelser/{referral.public_id}/handling/receive")
    db.expire_all()
    rows = db.exec(
        select(ReferralAudit).where(ReferralAudit.referral_id == referral.id).order_by(ReferralAudit.id)
    ).all()[before:]
    assert [(r.action, r.actor_id, r.actor_service_id, r.detail) for r in rows] == [
        ("viewed", user(db, "service_staff").id, fosen, ""),
        ("viewed", user(db, "provider").id, innherred, ""),
        (
            ReferralStatus.RECEIVED,
            user(db, "provider").id,
            innherred,
            f"{ReferralStatus.SENT} → {ReferralStatus.RECEIVED}",
        ),
    ]
    assert all(NEED not in r.detail and CASE not in r.detail for r in rows)


def test_the_service_leader_reads_the_audit_log_and_no_one_else(as_role, db):
    referral = make_referral(db, ReferralStatus.RECEIVED)
    as_role("provider").get(f"/henvendelser/{referral.public_id}")
    url = "/tjenester/fosen-barnevern/henvendelseslogg"
    response = as_role("service_leader").get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert referral.public_id[:8] in page and referral.public_id not in page
    assert "Eirik Skjelvik" in page and "Innherred barnevern" in page and "Lest" in page
    assert "Status: mottatt" in page and "Sendt → Mottatt" in page
    assert NEED not in page and CASE not in page  # the log never shows content
    assert "<form" not in page.split("<main", 1)[1]  # read-only: nothing to submit
    for role in (
        "service_staff",
        "provider",
        "coordinator",
        "coordinator_fosen",
        "participant",
        "municipality_contact",
        "service_leader_namdal",
    ):
        assert as_role(role).get(url).status_code == 403, role
    response = as_role(None).get(url)
    assert response.status_code == 302 and "/logg-inn" in response.headers["Location"]
    assert "/henvendelseslogg" in as_role("service_leader").get("/tjenester/fosen-barnevern").get_data(as_text=True)
    assert "/henvendelseslogg" not in as_role("service_staff").get("/tjenester/fosen-barnevern").get_data(as_text=True)
    # The leader of Namdal reads the log of their own service.
    namdal_log = "/tjenester/barnevern-midtre-namdal/henvendelseslogg"
    assert as_role("service_leader_namdal").get(namdal_log).status_code == 200


def log_actions(page: str, referral: Referral) -> list[str]:
    """The "Hva" column of one referral's rows in an audit log page, newest first."""
    return re.findall(rf"<td><code>{re.escape(referral.public_id[:8])}</code></td>\s*<td>([^<]*)</td>", page)


def test_the_providing_side_sees_a_referral_in_its_audit_log_only_from_when_it_was_sent(as_role, db):
    """A draft belongs to its sender: the leader of the team that provides the tiltak sees neither a draft nor
    the rows from before it was sent (created, edited, read by the sender); the sender's leader sees them all."""
    db.add(
        RoleAssignment(
            user_id=user(db, "provider").id, role="service_leader", service_id=service(db, "innherred-barnevern").id
        )
    )
    db.commit()
    staff = as_role("service_staff")
    assert send(staff, db, button="save_draft").status_code == 302
    draft = latest(db)
    assert staff.get(f"/henvendelser/{draft.public_id}").status_code == 200
    assert (
        staff.post(
            f"/henvendelser/{draft.public_id}/rediger", form(db, button="save_draft", need="Behovet er endret.")
        ).status_code
        == 302
    )
    assert send(staff, db, button="save_draft").status_code == 302
    never_sent = latest(db)
    assert staff.post(f"/henvendelser/{never_sent.public_id}/handling/withdraw").status_code == 302
    assert send(staff, db).status_code == 302  # created and sent in one step: "created" is the sender's too
    at_once = latest(db)

    provider_log = "/tjenester/innherred-barnevern/henvendelseslogg"
    page = as_role("provider").get(provider_log).get_data(as_text=True)
    assert log_actions(page, draft) == [] and log_actions(page, never_sent) == []
    assert log_actions(page, at_once) == ["Status: sendt"]

    assert staff.post(f"/henvendelser/{draft.public_id}/rediger", form(db, button="send")).status_code == 302
    as_role("provider").get(f"/henvendelser/{draft.public_id}")
    page = as_role("provider").get(provider_log).get_data(as_text=True)
    assert log_actions(page, draft) == ["Lest", "Status: sendt"]
    assert log_actions(page, never_sent) == []
    assert "Opprettet" not in page and "Utkast endret" not in page

    sender_page = as_role("service_leader").get("/tjenester/fosen-barnevern/henvendelseslogg").get_data(as_text=True)
    assert log_actions(sender_page, draft) == [
        "Lest",
        "Status: sendt",
        "Utkast endret",
        "Utkast endret",
        "Lest",
        "Opprettet",
    ]  # sending from the form saves the draft first
    assert log_actions(sender_page, never_sent) == ["Status: trukket tilbake", "Opprettet"]
    assert log_actions(sender_page, at_once) == ["Status: sendt", "Opprettet"]


def test_the_audit_log_cannot_be_changed(db):
    referral = make_referral(db, ReferralStatus.SENT)
    row = db.exec(select(ReferralAudit).where(ReferralAudit.referral_id == referral.id)).first()
    row.action = "endret"
    db.add(row)
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()
    db.delete(db.get(ReferralAudit, row.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()
    # Not through the application, and not in the database either: the migration's trigger refuses it.
    with pytest.raises(Exception, match="append-only"):
        db.execute(text("UPDATE referral_audit SET action = 'endret'"))
    db.rollback()
    if db.get_bind().dialect.name == "postgresql":  # SQLite allows DELETE so the test suite can empty tables
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("DELETE FROM referral_audit"))
        db.rollback()
    assert set(audit_actions(db, referral)) == {"created", ReferralStatus.SENT}


# Retention ----------------------------------------------------------------------------------------


def test_erase_expired_erases_content_of_old_finished_referrals_and_keeps_the_facts(app, as_role, db):
    old = make_referral(db, ReferralStatus.CLOSED)
    declined = make_referral(db, ReferralStatus.DECLINED)
    recent = make_referral(db, ReferralStatus.CLOSED)
    running = make_referral(db, ReferralStatus.IN_PROGRESS)
    as_role("provider").post(f"/henvendelser/{old.public_id}/melding", {"body": "Takk for samarbeidet."})
    long_ago = utcnow() - timedelta(days=400)
    db.expire_all()
    for referral in (old, declined, running):
        row = db.get(Referral, referral.id)
        row.finished_at = long_ago if row.finished_at else None
        row.started_at = long_ago
        db.add(row)
    db.commit()
    facts = {
        r.id: (
            r.status,
            r.sent_at,
            r.finished_at,
            r.children_count,
            r.child_birth_years,
            r.family_municipality_id,
            r.outcome,
        )
        for r in (db.get(Referral, i.id) for i in (old, declined))
    }
    result = app.test_cli_runner().invoke(args=["referrals", "erase-expired"])
    assert result.exit_code == 0, result.output
    assert "Slettet innholdet i 2 henvendelser" in result.output and "12 måneder" in result.output
    db.expire_all()
    for referral in (old, declined):
        row = db.get(Referral, referral.id)
        assert (row.case_reference, row.need, row.decline_reason, row.outcome_note) == ("", "", "", "")
        assert row.content_erased_at is not None
        assert (
            row.status,
            row.sent_at,
            row.finished_at,
            row.children_count,
            row.child_birth_years,
            row.family_municipality_id,
            row.outcome,
        ) == facts[row.id]
        assert set(db.exec(select(ReferralTransition.comment).where(ReferralTransition.referral_id == row.id))) == {""}
        assert audit_actions(db, row)[-1] == "erased"
    assert db.exec(select(ReferralMessage.body).where(ReferralMessage.referral_id == old.id)).one() == ""
    for referral in (recent, running):  # finished too recently, or not finished
        row = db.get(Referral, referral.id)
        assert (row.need, row.case_reference, row.content_erased_at) == (NEED, CASE, None)
    page = as_role("service_staff").get(f"/henvendelser/{old.public_id}").get_data(as_text=True)
    assert "Innholdet ble slettet" in page and "Send melding" not in page
    again = app.test_cli_runner().invoke(args=["referrals", "erase-expired"])
    assert "Slettet innholdet i 0 henvendelser" in again.output


def test_the_retention_period_is_a_setting(database_url):
    from conftest import make_app

    from nettverk.config import ConfigError, load_settings

    assert load_settings({"NETTVERK_ENV": "test"})["REFERRAL_RETENTION_MONTHS"] == 12
    assert (
        load_settings({"NETTVERK_ENV": "test", "NETTVERK_REFERRAL_RETENTION_MONTHS": "24"})["REFERRAL_RETENTION_MONTHS"]
        == 24
    )
    with pytest.raises(ConfigError):
        load_settings({"NETTVERK_ENV": "test", "NETTVERK_REFERRAL_RETENTION_MONTHS": "0"})
    app = make_app(database_url, REFERRAL_RETENTION_MONTHS=36)
    result = app.test_cli_runner().invoke(args=["referrals", "erase-expired"])
    assert result.exit_code == 0 and "36 måneder" in result.output
    app.extensions["nettverk.engine"].dispose()


# The catalog --------------------------------------------------------------------------------------


def rows_of(page: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    return re.findall(r'<a href="/tiltak/[^"]+">([^<]+)</a>', body.group(1)) if body else []


def test_the_catalog_shows_the_users_bases_by_default_and_all_on_request(as_role):
    staff = as_role("service_staff")  # Fosen barneverntjeneste serves Indre Fosen and Osen: base Fosen (and
    mine = rows_of(staff.get("/tiltak").get_data(as_text=True))  # Trondheimsregionen, which has none)
    assert set(mine) == {"PMTO foreldretrening", "Familieråd", "Circle of Security-grupper"}
    everything = rows_of(staff.get("/tiltak?base=alle").get_data(as_text=True))
    assert "Marte Meo-veiledning" in everything and len(everything) > len(mine)
    assert set(rows_of(staff.get("/tiltak?base=namdalen").get_data(as_text=True))) >= {"Marte Meo-veiledning"}
    assert "PMTO foreldretrening" in rows_of(as_role("participant").get("/tiltak").get_data(as_text=True))
    assert as_role("participant").get("/tiltak?base=finnes-ikke").status_code == 400


def test_catalog_search_finds_by_name_and_method(as_role, db):
    make_tiltak(db, "Trygg start", base="fosen", provider="helsestasjon-indre-fosen", method="marte_meo")
    staff = as_role("service_staff")
    assert rows_of(staff.get("/tiltak?sok=pmto").get_data(as_text=True)) == ["PMTO foreldretrening"]
    assert rows_of(staff.get("/tiltak?sok=marte+meo").get_data(as_text=True)) == ["Trygg start"]
    assert rows_of(staff.get("/tiltak?sok=marte+meo&base=alle").get_data(as_text=True)) == [
        "Trygg start",
        "Marte Meo-veiledning",
    ]  # by base (Fosen, Namdalen), then name
    assert rows_of(staff.get("/tiltak?metode=familierad").get_data(as_text=True)) == ["Familieråd"]
    assert rows_of(staff.get("/tiltak?sok=ingenting+slikt").get_data(as_text=True)) == []
    assert staff.get("/tiltak?metode=tull").status_code == 400


def test_catalog_rows_show_load_waiting_and_estimated_waiting_time(as_role, db):
    pmto = intervention(db, PMTO)
    pmto.capacity, pmto.typical_weeks = 1, 10
    db.add(pmto)
    db.commit()
    page = as_role("service_staff").get("/tiltak?sok=pmto").get_data(as_text=True)
    assert "Ledig plass nå" in page
    make_referral(db, ReferralStatus.IN_PROGRESS)
    make_referral(db, ReferralStatus.ACCEPTED)
    page = as_role("service_staff").get("/tiltak?sok=pmto").get_data(as_text=True)
    cells = re.findall(r'<td class="num">(\d+)</td>', page)
    assert cells == ["1", "1", "1"]  # capacity, in progress, waiting
    assert "Om lag 20 uker" in page  # one family ahead of a new one, 10 weeks each, one place


def test_the_tiltak_page_offers_to_send_only_to_those_who_can(as_role):
    page = as_role("service_staff").get(f"/tiltak/{PMTO}").get_data(as_text=True)
    assert "Send henvendelse" in page and f"/henvendelser/ny?tiltak={PMTO}" in page
    assert "Indre Fosen" in page and "Ørland" in page and "Åfjord" in page  # who may request it
    for role in ("service_staff_namdal", "coordinator_fosen", "provider", "participant"):
        assert "Send henvendelse" not in as_role(role).get(f"/tiltak/{PMTO}").get_data(as_text=True), role
    namdal = as_role("service_staff_namdal").get("/tiltak/marte-meo-veiledning").get_data(as_text=True)
    assert "Send henvendelse" in namdal
    # A paused tiltak takes no referrals.
    assert "Send henvendelse" not in as_role("service_staff_namdal").get("/tiltak/home-start-familiekontakt").get_data(
        as_text=True
    )
    assert as_role("service_staff_namdal").get("/henvendelser/ny?tiltak=home-start-familiekontakt").status_code == 409
    assert as_role("service_staff_namdal").get(f"/henvendelser/ny?tiltak={PMTO}").status_code == 403
    assert as_role("service_staff").get("/tiltak/finnes-ikke").status_code == 404


def test_the_new_referral_page_without_a_tiltak_lists_those_the_service_can_request(as_role):
    page = as_role("service_staff").get("/henvendelser/ny").get_data(as_text=True)
    assert "PMTO foreldretrening" in page and "Familieråd" in page
    assert "Marte Meo-veiledning" not in page and "Home-Start" not in page


# Keeping the catalog ------------------------------------------------------------------------------


def tiltak_form(db, **overrides) -> dict:
    data = {
        "name": "ICDP foreldregrupper",
        "method": "icdp",
        "base_id": db.exec(select(CompetenceBase.id).where(CompetenceBase.slug == "fosen")).one(),
        "provider_service_id": service(db, "helsestasjon-indre-fosen").id,
        "description": "Åtte samlinger.",
        "age_from": "0",
        "age_to": "18",
        "bti_level": "1",
        "capacity": "10",
        "typical_weeks": "8",
        "contact_name": "Sigrid Krogstad",
        "contact_email": "sigrid.krogstad@indrefosen.kommune.example",
        "status": "active",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_coordinator_adds_a_tiltak_to_their_base_with_its_members_by_default(as_role, db):
    response = as_role("coordinator_fosen").post("/tiltak/ny", tiltak_form(db))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/tiltak/icdp-foreldregrupper"
    db.expire_all()
    saved = intervention(db, "icdp-foreldregrupper")
    allowed = set(
        db.exec(
            select(InterventionMunicipality.municipality_id).where(InterventionMunicipality.intervention_id == saved.id)
        )
    )
    members = set(db.exec(select(BaseMembership.municipality_id).where(BaseMembership.base_id == saved.base_id)))
    assert allowed == members and len(members) == 4
    # Chosen municipalities replace the default.
    response = as_role("coordinator_fosen").post(
        "/tiltak/icdp-foreldregrupper/rediger",
        tiltak_form(db, municipality_ids=[municipality_id(db, "5054"), municipality_id(db, "5020")], capacity="12"),
    )
    assert response.status_code == 302
    db.expire_all()
    assert set(
        db.exec(
            select(InterventionMunicipality.municipality_id).where(InterventionMunicipality.intervention_id == saved.id)
        )
    ) == {municipality_id(db, "5054"), municipality_id(db, "5020")}
    assert intervention(db, "icdp-foreldregrupper").capacity == 12


def test_a_coordinator_may_choose_only_their_bases_and_a_provider_only_their_team(as_role, db):
    namdalen = db.exec(select(CompetenceBase.id).where(CompetenceBase.slug == "namdalen")).one()
    before = db.exec(select(func.count()).select_from(Intervention)).one()
    response = as_role("coordinator_fosen").post("/tiltak/ny", tiltak_form(db, base_id=namdalen))
    assert response.status_code == 403
    assert "kompetansebaser du koordinerer" in error_at(response.get_data(as_text=True), "base_id")
    provider = as_role("provider")
    response = provider.post("/tiltak/ny", tiltak_form(db))  # another service's team
    assert response.status_code == 403
    assert "teamet ditt gir" in error_at(response.get_data(as_text=True), "provider_service_id")
    response = provider.post("/tiltak/ny", tiltak_form(db, provider_service_id=service(db, "innherred-barnevern").id))
    assert response.status_code == 302
    # The form offers only what may be chosen.
    page = as_role("coordinator_fosen").get("/tiltak/ny").get_data(as_text=True)
    bases = select_html(page, "base_id")
    assert ">Fosen<" in bases and "Namdalen" not in bases
    page = provider.get("/tiltak/ny").get_data(as_text=True)
    teams = select_html(page, "provider_service_id")
    assert "Innherred barnevern" in teams and "Fosen barneverntjeneste" not in teams
    # Keeping another team's or base's tiltak is refused.
    assert as_role("provider_fosen").get(f"/tiltak/{PMTO}/rediger").status_code == 403
    assert as_role("coordinator").get(f"/tiltak/{PMTO}/rediger").status_code == 403
    assert as_role("coordinator_fosen").get(f"/tiltak/{PMTO}/rediger").status_code == 200
    assert as_role("provider").get(f"/tiltak/{PMTO}/rediger").status_code == 200
    for role in ("service_staff", "participant", "municipality_contact"):
        assert as_role(role).get("/tiltak/ny").status_code == 403, role
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Intervention)).one() == before + 1


def test_tiltak_form_errors_are_norwegian_and_422(as_role, db):
    coordinator = as_role("coordinator_fosen")
    before = db.exec(select(func.count()).select_from(Intervention)).one()
    response = coordinator.post(
        "/tiltak/ny", tiltak_form(db, name="", capacity="0", age_from="tre", contact_email="ikke-en-adresse", method="")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_at(page, "name") == "Skriv navnet på tiltaket."
    assert error_at(page, "capacity") == "Kapasiteten må være minst én familie."
    assert error_at(page, "age_from").startswith("Ikke en gyldig heltallsverdi")
    assert error_at(page, "contact_email") == "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."
    assert error_at(page, "method") == "Velg en metode fra listen."
    response = coordinator.post("/tiltak/ny", tiltak_form(db, age_from="12", age_to="6"))
    assert response.status_code == 422
    assert "fra-alder først" in error_at(response.get_data(as_text=True), "age_to")
    assert db.exec(select(func.count()).select_from(Intervention)).one() == before
