"""Response headers on every portal page, and sign-in tokens kept out of logs."""

import logging

import pytest

from bot.portal.security import CONTENT_SECURITY_POLICY, RedactSignInLinks
from bot.slackdouble.payloads import new_ts
from tests.portal.support import ANN, PortalClient, csrf_of, issue_link, seed_delivery

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


def check_headers(response):
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)


def test_csp_allows_no_script():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))

    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/portal/"),
        ("GET", "/portal/signin"),
        ("GET", "/portal/signin/unknown-token"),
        ("GET", "/portal/static/portal.css"),
        ("GET", "/portal/deliveries"),
        ("GET", "/portal/deliveries/1"),
        ("GET", "/portal/no-such-page"),
        ("POST", "/portal/signin"),
        ("POST", "/portal/deliveries/1/accept"),
        ("DELETE", "/portal/deliveries/1"),
    ],
)
def test_headers_on_every_response(bot, method, path):
    client = PortalClient(bot.server.url)

    response = client.request(method, path)

    check_headers(response)


def test_headers_on_signed_in_pages(bot):
    seeded = seed_delivery(
        bot.session_scope, email=ANN, thread_ts=new_ts(), contact_name="C", message="m", note="n"
    )
    client = PortalClient(bot.server.url)
    link = client.get(f"/portal/signin/{issue_link(bot.session_scope, ANN)}")
    page = client.get(f"/portal/deliveries/{seeded.delivery_id}")
    missing = client.get("/portal/deliveries/424242")
    accept = client.post(
        f"/portal/deliveries/{seeded.delivery_id}/accept", {"csrf_token": csrf_of(page)}
    )

    for response in (link, page, missing, accept):
        check_headers(response)
    assert "<script" not in page.text
    assert ' style="' not in page.text


def test_slack_events_keep_their_headers(bot):
    """The portal's headers apply under /portal only."""
    client = PortalClient(bot.server.url)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert "content-security-policy" not in response.headers


def access_record(path):
    """Build a log record the way uvicorn's access logger does."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 303),
        None,
    )


def test_access_log_redacts_link_token():
    record = access_record("/portal/signin/SECRET-token_value?next=/portal/deliveries/4")

    RedactSignInLinks().filter(record)

    message = record.getMessage()
    assert "SECRET-token_value" not in message
    assert "/portal/signin/[redacted]?next=/portal/deliveries/4" in message


def test_access_log_keeps_other_paths():
    record = access_record("/portal/deliveries/4")

    RedactSignInLinks().filter(record)

    assert "/portal/deliveries/4" in record.getMessage()


def test_running_server_redacts_links(bot, caplog):
    """The filter is installed on uvicorn's logger by building the portal."""
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logger = logging.getLogger("uvicorn.access")
    raw = issue_link(bot.session_scope, ANN)

    logger.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", f"/portal/signin/{raw}", "1.1", 303
    )

    assert caplog.records
    assert all(raw not in record.getMessage() for record in caplog.records)
