"""Signing in to the portal: the form, emailed links, sessions, sign-out and rate limits."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from bot.mail import SIGNIN_EMAIL
from bot.portal import pages
from bot.portal.security import SESSION_COOKIE, SIGNIN_CSRF_COOKIE
from bot.slackdouble.payloads import new_ts
from storage import access
from storage.models import AccessToken, OutboxMessage, SignInRequest
from tests.portal.support import (
    ANN,
    BEN,
    PortalClient,
    csrf_of,
    issue_link,
    seed_delivery,
    signed_in_client,
)


@pytest.fixture
def ann_delivery(bot):
    return seed_delivery(
        bot.session_scope, email=ANN, thread_ts=new_ts(), contact_name="C", message="m", note="n"
    )


@pytest.fixture
def client(bot):
    client = PortalClient(bot.server.url)
    yield client
    client.close()


def signin_emails(bot):
    with bot.session_scope() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == SIGNIN_EMAIL))
        return [row.payload for row in rows]


def ask_for_link(client, email, next_path=None):
    form = client.get("/portal/signin" + (f"?next={next_path}" if next_path else ""))
    data = {"csrf_token": csrf_of(form), "email": email}
    if next_path:
        data["next"] = next_path
    return client.post("/portal/signin", data)


def test_signin_form_sets_csrf_cookie(client):
    page = client.get("/portal/signin")

    assert page.status_code == 200
    assert '<meta name="viewport"' in page.text
    assert client.cookies[SIGNIN_CSRF_COOKIE] == csrf_of(page)


def test_signin_request_queues_email(bot, client, ann_delivery):
    response = ask_for_link(client, "  Ann@Agency.Example ", "/portal/deliveries/7")

    assert response.status_code == 200
    assert "Check your email" in response.text
    assert signin_emails(bot) == [
        {"restricted_user_id": ann_delivery.restricted_user_id, "next_path": "/portal/deliveries/7"}
    ]


def test_signin_answer_same_for_unknown(bot, client, ann_delivery):
    known = ask_for_link(client, ANN)
    unknown = ask_for_link(client, "nobody@agency.example")

    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace("nobody@agency.example", ANN) == known.text
    assert len(signin_emails(bot)) == 1


def test_signin_no_email_after_revoked(bot, client, ann_delivery):
    with bot.session_scope() as session:
        access.revoke_access(session, ANN)

    response = ask_for_link(client, ANN)

    assert response.status_code == 200
    assert "Check your email" in response.text
    assert signin_emails(bot) == []


def test_signin_without_csrf_rejected(bot, client, ann_delivery):
    client.get("/portal/signin")

    missing = client.post("/portal/signin", {"email": ANN})
    wrong = client.post("/portal/signin", {"email": ANN, "csrf_token": "x" * 43})

    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert signin_emails(bot) == []


def test_signin_csrf_needs_cookie(bot, client, ann_delivery):
    token = csrf_of(client.get("/portal/signin"))
    client.cookies.clear()

    response = client.post("/portal/signin", {"email": ANN, "csrf_token": token})

    assert response.status_code == 403
    assert signin_emails(bot) == []


def test_signin_invalid_email_named(bot, client):
    response = ask_for_link(client, "ann-at-agency")

    assert response.status_code == 400
    assert "&#39;ann-at-agency&#39; is not an email address" in response.text
    assert 'value="ann-at-agency"' in response.text
    assert signin_emails(bot) == []


def test_signin_form_too_large(client):
    token = csrf_of(client.get("/portal/signin"))

    response = client.post("/portal/signin", {"csrf_token": token, "email": "a" * 5000})

    assert response.status_code == 413


def test_link_opens_session(bot, client, ann_delivery):
    raw = issue_link(bot.session_scope, ANN)
    target = f"/portal/deliveries/{ann_delivery.delivery_id}"

    response = client.get(f"/portal/signin/{raw}?next={target}")

    assert response.status_code == 303
    assert response.headers["location"] == target
    assert raw not in response.headers["location"]
    [session_cookie] = [h for h in client.set_cookie_headers if h.startswith(SESSION_COOKIE)]
    attributes = [part.strip().lower() for part in session_cookie.split(";")]
    assert "httponly" in attributes
    assert "secure" in attributes
    assert "samesite=lax" in attributes
    assert "path=/portal" in attributes
    assert raw not in session_cookie
    page = client.follow(response)
    assert page.status_code == 200
    assert "Data Engineer" in page.text
    with bot.session_scope() as session:
        link = access.check_token(session, raw, access.LINK).token
        stored = session.exec(select(AccessToken.token_hash)).all()
    assert link.used_at is not None
    assert client.cookies[SESSION_COOKIE] not in stored
    assert access.hash_token(client.cookies[SESSION_COOKIE]) in stored


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/portal/../slack/events",
        "/portal/..",
        "/portal/deliveries/.",
        "/elsewhere",
    ],
)
def test_link_ignores_foreign_next(bot, client, ann_delivery, next_path):
    raw = issue_link(bot.session_scope, ANN)

    response = client.get(f"/portal/signin/{raw}", params={"next": next_path})

    assert response.status_code == 303
    assert response.headers["location"] == "/portal/deliveries"


def test_expired_link_offers_new(bot, client, ann_delivery):
    raw = issue_link(bot.session_scope, ANN, lifetime=timedelta(seconds=-1))

    response = client.get(f"/portal/signin/{raw}?next=/portal/deliveries/3")

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/portal/signin"
    assert parse_qs(location.query) == {"link": ["expired"], "next": ["/portal/deliveries/3"]}
    assert SESSION_COOKIE not in client.cookies
    page = client.follow(response)
    assert "This sign-in link has expired" in page.text
    assert 'name="next" value="/portal/deliveries/3"' in page.text
    assert "Email me a sign-in link" in page.text


def test_revoked_link_says_so(bot, client, ann_delivery):
    raw = issue_link(bot.session_scope, ANN)
    with bot.session_scope() as session:
        access.revoke_access(session, ANN)

    page = client.follow(client.get(f"/portal/signin/{raw}"))

    assert "This sign-in link was withdrawn" in page.text
    assert SESSION_COOKIE not in client.cookies


def test_unknown_link_says_so(client):
    page = client.follow(client.get("/portal/signin/not-a-real-token"))

    assert "This sign-in link is not valid" in page.text
    assert SESSION_COOKIE not in client.cookies


def test_signout_revokes_session(bot, ann_delivery):
    client = signed_in_client(bot, ANN)
    page = client.get("/portal/deliveries")
    cookie = client.cookies[SESSION_COOKIE]

    response = client.post("/portal/signout", {"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    assert response.headers["location"] == "/portal/signin?signed_out=1"
    assert SESSION_COOKIE not in client.cookies
    client.cookies[SESSION_COOKIE] = cookie
    replayed = client.get("/portal/deliveries")
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/portal/signin")


def test_signout_without_csrf_keeps_session(bot, ann_delivery):
    client = signed_in_client(bot, ANN)

    response = client.post("/portal/signout", {})

    assert response.status_code == 403
    assert client.get("/portal/deliveries").status_code == 200


def test_rate_limit_per_address(bot, client, ann_delivery, caplog):
    caplog.set_level(logging.WARNING, logger="bot.portal.pages")
    answers = [ask_for_link(client, ANN) for _ in range(pages.SIGNIN_LIMIT_PER_EMAIL + 1)]

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1
    assert len(signin_emails(bot)) == pages.SIGNIN_LIMIT_PER_EMAIL
    [limited] = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert f"email={ANN}" in limited.getMessage()
    assert "client=127.0.0.1" in limited.getMessage()


def test_rate_limit_per_client(bot, client):
    emails = [f"person{index}@agency.example" for index in range(pages.SIGNIN_LIMIT_PER_CLIENT)]
    for email in emails + [BEN]:
        seed_delivery(
            bot.session_scope,
            email=email,
            thread_ts=new_ts(),
            contact_name="C",
            message="m",
            note="n",
        )

    for email in emails:
        assert ask_for_link(client, email).status_code == 200
    limited = ask_for_link(client, BEN)

    assert limited.status_code == 200
    assert "Check your email" in limited.text
    queued = {payload["restricted_user_id"] for payload in signin_emails(bot)}
    assert len(queued) == pages.SIGNIN_LIMIT_PER_CLIENT
    with bot.session_scope() as session:
        ben = access.find_restricted_user(session, BEN)
        requests = session.exec(select(SignInRequest)).all()
    assert ben.id not in queued
    assert len(requests) == pages.SIGNIN_LIMIT_PER_CLIENT + 1
    assert {request.client_address for request in requests} == {"127.0.0.1"}


def test_signin_file_upload_rejected(bot, client, ann_delivery):
    token = csrf_of(client.get("/portal/signin"))

    response = client.request(
        "POST",
        "/portal/signin",
        data={"csrf_token": token, "email": ANN},
        files={"attachment": ("a.txt", b"hello")},
    )

    assert response.status_code == 400
    assert "Invalid request" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert signin_emails(bot) == []


def test_client_address_from_trusted_proxy(bot, client, ann_delivery):
    """uvicorn trusts X-Forwarded-For from FORWARDED_ALLOW_IPS, 127.0.0.1 by default."""
    token = csrf_of(client.get("/portal/signin"))

    client.post(
        "/portal/signin",
        {"csrf_token": token, "email": ANN},
        headers={"x-forwarded-for": "203.0.113.9"},
    )

    with bot.session_scope() as session:
        [request] = session.exec(select(SignInRequest)).all()
    assert request.client_address == "203.0.113.9"


def ask_for_links_at_once(bot, emails):
    """POST one sign-in form per email, all released together by a barrier; return the responses."""
    client = PortalClient(bot.server.url)
    token = csrf_of(client.get("/portal/signin"))
    cookie = f"{SIGNIN_CSRF_COOKIE}={client.cookies[SIGNIN_CSRF_COOKIE]}"
    client.close()
    barrier = threading.Barrier(len(emails), timeout=60)

    def post(email):
        with httpx.Client(base_url=bot.server.url, timeout=60) as http:
            barrier.wait()
            return http.post(
                "/portal/signin",
                data={"csrf_token": token, "email": email},
                headers={"cookie": cookie},
            )

    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return list(pool.map(post, emails))


def test_rate_limit_per_address_concurrent(bot, ann_delivery):
    answers = ask_for_links_at_once(bot, [ANN] * 40)

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1
    assert len(signin_emails(bot)) == pages.SIGNIN_LIMIT_PER_EMAIL
    with bot.session_scope() as session:
        assert len(session.exec(select(SignInRequest)).all()) == 40


def test_rate_limit_per_client_concurrent(bot):
    emails = [f"person{index}@agency.example" for index in range(30)]
    for email in emails:
        seed_delivery(
            bot.session_scope,
            email=email,
            thread_ts=new_ts(),
            contact_name="C",
            message="m",
            note="n",
        )

    answers = ask_for_links_at_once(bot, emails)

    assert {answer.status_code for answer in answers} == {200}
    pages_without_address = {
        answer.text.replace(email, "EMAIL") for answer, email in zip(answers, emails, strict=True)
    }
    assert len(pages_without_address) == 1
    assert len(signin_emails(bot)) == pages.SIGNIN_LIMIT_PER_CLIENT
    with bot.session_scope() as session:
        assert len(session.exec(select(SignInRequest)).all()) == len(emails)
