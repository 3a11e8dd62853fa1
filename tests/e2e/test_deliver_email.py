"""^deliver to an address outside Slack, end to end through a real SMTP server on 127.0.0.1."""

import re
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.handoff_email import NOT_SET_UP
from bot.mail import SIGNIN_EMAIL, enqueue_signin_email
from bot.slackdouble.payloads import new_ts
from storage.access import LINK, TokenState, active_grants, check_token, restricted_user
from storage.models import AccessToken, OutboxMessage, RestrictedUser, utcnow
from storage.outbox import list_messages
from tests.support import (
    AGENT,
    CHANNEL,
    DeliverDriver,
    RunningBot,
    deliver_through,
    seed_contact,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
)

OUTSIDER = "Hiring.Manager@Client.example"
HOSTILE_NOTES = "<script>alert('x')</script> & <b>bold</b> \"quoted\""
LINK_PATTERN = re.compile(r"https://caret\.example/portal/signin/[^\s\"<]+")


@pytest.fixture
def new_root():
    return new_ts()


@pytest.fixture
def plain_bot(slack, db_url):
    """caretbot without SMTP settings."""
    running = RunningBot(slack, db_url).start(outbox=False)
    slack.reset()
    yield running
    running.stop()


def deliver_to_outsider(bot, slack, root, notes=HOSTILE_NOTES):
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state("qualified", application=f"app:{application_id}", notes=notes, rating=4)
    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(emails=OUTSIDER)
    )
    assert response == {"response_action": "clear"}


def the_delivery(bot, root):
    [(delivery, [recipient])], conversation = stored_deliveries(bot, root)
    return delivery, recipient, conversation


def messages_of(bot, delivery_id):
    with bot.session_scope() as session:
        return {message.kind: message for message in list_messages(session, delivery_id)}


def make_due(bot):
    """Move every pending outbox retry to now, in place of waiting out its backoff."""
    with bot.session_scope() as session:
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.state == "pending")
            .values(next_attempt_at=utcnow())
        )


def link_of(email):
    text = email.get_body(("plain",)).get_content()
    [link] = LINK_PATTERN.findall(text)
    return link


def raw_token_of(link):
    return urlparse(link).path.rsplit("/", 1)[1]


def agent_notices(slack):
    return [
        call
        for call in slack.calls_to("chat.postEphemeral")
        if call.args.get("user") == AGENT and "blocks" not in call.args
    ]


def test_outsider_gets_handoff_email(mail_bot, slack, smtp, new_root):
    deliver_to_outsider(mail_bot, slack, new_root)
    settle_outbox(mail_bot)

    [email] = smtp.wait_for(1)
    delivery, recipient, conversation = the_delivery(mail_bot, new_root)
    assert email["To"] == "hiring.manager@client.example"
    assert email["From"] == "caretbot <caretbot@caret.example>"
    assert email["Subject"] == "Hand-off: Casey Candidate (Qualified)"
    assert email["Message-ID"].endswith("@caret.example>")
    assert email["Date"] is not None
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert HOSTILE_NOTES in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    for part in (text, html):
        assert "Casey Candidate" in part
        assert "casey@example.com" in part
        assert "Data Engineer" in part
        assert "London" in part
        assert "★★★★☆" in part
        assert "Delivered by Ann Agent on " in part
    link = link_of(email)
    assert f'href="{link}"' in html.replace("&amp;", "&")
    assert parse_qs(urlparse(link).query) == {"next": [f"/portal/deliveries/{delivery.id}"]}
    assert recipient.state == "emailed"
    assert recipient.user_id is None
    assert messages_of(mail_bot, delivery.id)["handoff_email"].state == "sent"
    assert agent_notices(slack) == []
    with mail_bot.session_scope() as session:
        check = check_token(session, raw_token_of(link), LINK)
        assert check.state is TokenState.VALID
        assert check.user.email == "hiring.manager@client.example"
        [grant] = active_grants(session, check.user.id)
        assert (grant.delivery_id, grant.conversation_id) == (delivery.id, conversation.id)
        stored = session.exec(select(AccessToken)).one()
        assert raw_token_of(link) not in {stored.token_hash, str(stored.csrf_token)}
        lifetime = stored.expires_at - stored.created_at
        assert lifetime.days == 14


def test_outbox_payload_holds_no_token(mail_bot, slack, smtp, new_root):
    deliver_to_outsider(mail_bot, slack, new_root)
    settle_outbox(mail_bot)

    [email] = smtp.wait_for(1)
    delivery, _recipient, _conversation = the_delivery(mail_bot, new_root)
    raw = raw_token_of(link_of(email))
    for message in messages_of(mail_bot, delivery.id).values():
        assert raw not in str(message.payload)


def test_smtp_down_retried_until_back(mail_bot, slack, smtp, new_root):
    smtp.stop()

    deliver_to_outsider(mail_bot, slack, new_root)
    settle_outbox(mail_bot)

    delivery, recipient, _conversation = the_delivery(mail_bot, new_root)
    waiting = messages_of(mail_bot, delivery.id)["handoff_email"]
    assert waiting.state == "pending"
    assert waiting.attempts == 1
    assert waiting.last_error.startswith("network error:")
    assert recipient.state == "email_queued"
    with mail_bot.session_scope() as session:
        assert session.exec(select(AccessToken)).all() == []
    smtp.start()
    make_due(mail_bot)
    settle_outbox(mail_bot)
    [email] = smtp.wait_for(1)
    sent = messages_of(mail_bot, delivery.id)["handoff_email"]
    assert sent.state == "sent"
    assert sent.attempts == 2
    with mail_bot.session_scope() as session:
        [token] = session.exec(select(AccessToken)).all()
        assert check_token(session, raw_token_of(link_of(email)), LINK).token.id == token.id


def test_smtp_4xx_retried_then_sent(mail_bot, slack, smtp, new_root):
    smtp.refuse("451 4.3.0 Mailbox temporarily unavailable")

    deliver_to_outsider(mail_bot, slack, new_root)
    settle_outbox(mail_bot)

    delivery, _recipient, _conversation = the_delivery(mail_bot, new_root)
    waiting = messages_of(mail_bot, delivery.id)["handoff_email"]
    assert waiting.state == "pending"
    assert waiting.last_error == "SMTP 451 4.3.0 Mailbox temporarily unavailable"
    assert smtp.messages == []
    smtp.refuse(None)
    make_due(mail_bot)
    settle_outbox(mail_bot)
    smtp.wait_for(1)
    assert messages_of(mail_bot, delivery.id)["handoff_email"].state == "sent"
    _delivery, recipient, _conversation = the_delivery(mail_bot, new_root)
    assert recipient.state == "emailed"


def test_smtp_5xx_marked_failed(mail_bot, slack, smtp, new_root):
    smtp.refuse("550 5.1.1 No such user here")

    deliver_to_outsider(mail_bot, slack, new_root)
    settle_outbox(mail_bot)
    settle_outbox(mail_bot)

    delivery, recipient, _conversation = the_delivery(mail_bot, new_root)
    failed = messages_of(mail_bot, delivery.id)["handoff_email"]
    assert failed.state == "failed"
    assert failed.last_error == "SMTP 550 5.1.1 No such user here"
    assert recipient.state == "unreachable"
    assert recipient.error == "SMTP 550 5.1.1 No such user here"
    [notice] = agent_notices(slack)
    assert notice.args["thread_ts"] == new_root
    assert "could not email the hand-off to hiring.manager@client.example" in notice.args["text"]
    assert "SMTP 550 5.1.1 No such user here" in notice.args["text"]


def test_no_smtp_agent_told(plain_bot, slack, new_root):
    deliver_to_outsider(plain_bot, slack, new_root)
    settle_outbox(plain_bot)

    delivery, recipient, conversation = the_delivery(plain_bot, new_root)
    [notice] = agent_notices(slack)
    assert (notice.args["channel"], notice.args["thread_ts"]) == (CHANNEL, new_root)
    assert "hiring.manager@client.example is not in this Slack workspace" in notice.args["text"]
    assert "email is not set up" in notice.args["text"]
    assert recipient.state == "pending_email"
    assert "handoff_email" not in messages_of(plain_bot, delivery.id)
    with plain_bot.session_scope() as session:
        user = session.exec(select(RestrictedUser)).one()
        [grant] = active_grants(session, user.id)
        assert grant.conversation_id == conversation.id


def test_waiting_recipients_sent_once(slack, db_url, smtp, plain_bot, new_root):
    deliver_to_outsider(plain_bot, slack, new_root)
    settle_outbox(plain_bot)
    plain_bot.stop()
    workers = [RunningBot(slack, db_url, env=smtp.env()).start(outbox=False) for _ in range(2)]
    start = threading.Barrier(len(workers))
    queued = []

    def start_up(worker):
        start.wait(timeout=10)
        queued.append(worker.outbox.on_start())
        start.wait(timeout=10)
        settle_outbox(worker)

    threads = [threading.Thread(target=start_up, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        [email] = smtp.wait_for(1)
        assert sorted(queued) == [0, 1]
        assert email["To"] == "hiring.manager@client.example"
        delivery, recipient, _conversation = the_delivery(workers[0], new_root)
        assert recipient.state == "emailed"
        sent = [
            m for m in messages_of(workers[0], delivery.id).values() if m.kind == "handoff_email"
        ]
        assert [m.state for m in sent] == ["sent"]
        for worker in workers:
            assert worker.outbox.on_start() == 0
    finally:
        for worker in workers:
            worker.stop()
    assert len(smtp.messages) == 1


def test_signin_email_has_fresh_link(mail_bot, smtp):
    with mail_bot.session_scope() as session:
        user = restricted_user(session, "Someone@Client.example")
        enqueue_signin_email(session, user.id, "/portal/deliveries/7")

    settle_outbox(mail_bot)

    [email] = smtp.wait_for(1)
    assert email["To"] == "someone@client.example"
    assert email["Subject"] == "Your caretbot sign-in link"
    link = link_of(email)
    assert parse_qs(urlparse(link).query) == {"next": ["/portal/deliveries/7"]}
    assert f'href="{link}"' in email.get_body(("html",)).get_content().replace("&amp;", "&")
    with mail_bot.session_scope() as session:
        check = check_token(session, raw_token_of(link), LINK)
        assert check.state is TokenState.VALID
        assert check.user.id == user.id
        [message] = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == SIGNIN_EMAIL)
        ).all()
        assert message.state == "sent"
        assert message.payload == {
            "restricted_user_id": user.id,
            "next_path": "/portal/deliveries/7",
        }


def test_signin_email_without_smtp_fails(plain_bot):
    with plain_bot.session_scope() as session:
        user = restricted_user(session, "someone@client.example")
        message = enqueue_signin_email(session, user.id, None)

    settle_outbox(plain_bot)

    with plain_bot.session_scope() as session:
        stored = session.get(OutboxMessage, message.id)
        assert stored.state == "failed"
        assert stored.last_error == NOT_SET_UP


def test_start_with_smtp_sends_waiting(slack, db_url, smtp, plain_bot, new_root):
    deliver_to_outsider(plain_bot, slack, new_root)
    settle_outbox(plain_bot)
    plain_bot.stop()

    restarted = RunningBot(slack, db_url, env=smtp.env()).start()
    try:
        [email] = smtp.wait_for(1)
        restarted.outbox.stop()
        _delivery, recipient, _conversation = the_delivery(restarted, new_root)
    finally:
        restarted.stop()

    assert email["Subject"] == "Hand-off: Casey Candidate (Qualified)"
    assert recipient.state == "emailed"
