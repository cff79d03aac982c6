import pytest


def test_home_lists_bases(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert "Namdalen" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/kompetansebaser",
        "/kompetansebaser/fosen",
        "/kommuner",
        "/kommuner?vis=alle",
        "/kommuner/5054",
        "/kommuner/5055",
        "/kommuner/5012",
        "/tjenester",
        "/tjenester/fosen-barnevern",
        "/admin",
        "/admin/fylker",
        "/admin/kommuner/ny",
        "/kommuner/5054/rediger",
        "/admin/kommuner/sammenslaing",
        "/admin/kompetansebaser/ny",
        "/kompetansebaser/fosen/rediger",
        "/admin/tjenester/ny",
        "/tjenester/fosen-barnevern/rediger",
        "/tjenester/fosen-barnevern/enheter/ny",
        "/kommuner/5054/kontakter/ny",
        "/admin/import",
        "/admin/brukere",
        "/brukere/inviter",
        "/min-konto",
        "/admin/utboks",
        "/api/v1/bases",
        "/api/v1/municipalities/5055",
        "/api/v1/services",
        "/api/v1/openapi.json",
    ],
)
def test_admin_pages_render(as_role, path):
    response = as_role("admin").get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
