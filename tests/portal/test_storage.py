"""storage.portal and the thread card: what a restricted user may see, and how Slack shows it."""

import sqlite3
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from bot.outcomes import Status
from bot.views.deliver_cards import Acceptance, DeliveryFacts, Recipient, delivery_card
from storage.db import create_db_engine
from storage.models import AccessGrant, SignInRequest
from storage.portal import (
    is_portal_actor,
    latest_visible_delivery_of,
    portal_actor,
    record_signin_request,
    visible_deliveries,
    visible_delivery,
)
from tests.portal.support import ANN, BEN, seed_delivery

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)


def test_visible_deliveries_newest_first(session_scope):
    first = seed_delivery(
        session_scope, email=ANN, thread_ts="1.000001", contact_name="A", message="m", note="n"
    )
    second = seed_delivery(
        session_scope, email=ANN, thread_ts="2.000001", contact_name="B", message="m", note="n"
    )
    seed_delivery(
        session_scope, email=BEN, thread_ts="3.000001", contact_name="C", message="m", note="n"
    )

    with session_scope() as session:
        visible = visible_deliveries(session, first.restricted_user_id)

    assert [item.delivery.id for item in visible] == [second.delivery_id, first.delivery_id]
    assert [item.recipient.email for item in visible] == [ANN, ANN]


def test_visible_delivery_only_granted(session_scope):
    ann = seed_delivery(
        session_scope, email=ANN, thread_ts="1.000001", contact_name="A", message="m", note="n"
    )
    ben = seed_delivery(
        session_scope, email=BEN, thread_ts="2.000001", contact_name="B", message="m", note="n"
    )

    with session_scope() as session:
        own = visible_delivery(session, ann.restricted_user_id, ann.delivery_id)
        other = visible_delivery(session, ann.restricted_user_id, ben.delivery_id)
        missing = visible_delivery(session, ann.restricted_user_id, 987654)
        by_conversation = latest_visible_delivery_of(
            session, ann.restricted_user_id, ben.conversation_id
        )

    assert own is not None and own.conversation.id == ann.conversation_id
    assert other is None
    assert missing is None
    assert by_conversation is None


def test_grant_naming_other_conversation_ignored(session_scope):
    """A grant whose conversation disagrees with its delivery's opens nothing."""
    ann = seed_delivery(
        session_scope, email=ANN, thread_ts="1.000001", contact_name="A", message="m", note="n"
    )
    ben = seed_delivery(
        session_scope, email=BEN, thread_ts="2.000001", contact_name="B", message="m", note="n"
    )
    with session_scope() as session:
        session.execute(
            sa.update(AccessGrant)
            .where(AccessGrant.delivery_id == ann.delivery_id)
            .values(conversation_id=ben.conversation_id)
        )

    with session_scope() as session:
        assert visible_deliveries(session, ann.restricted_user_id) == []
        assert (
            latest_visible_delivery_of(session, ann.restricted_user_id, ben.conversation_id) is None
        )


def test_signin_requests_counted_in_window(session_scope):
    with session_scope() as session:
        record_signin_request(session, ANN, "10.0.0.1", window=WINDOW, now=NOW - 2 * WINDOW)
        record_signin_request(session, ANN, "10.0.0.1", window=WINDOW, now=NOW - WINDOW / 2)
        record_signin_request(session, BEN, "10.0.0.1", window=WINDOW, now=NOW - WINDOW / 4)
        recent = record_signin_request(session, ANN, "10.0.0.2", window=WINDOW, now=NOW)

    assert recent.by_email == 2
    assert recent.by_client == 1
    with session_scope() as session:
        stored = session.exec(select(SignInRequest)).all()
    assert len(stored) == 3


def test_signin_request_locks_until_commit(db_url, session_scope):
    # A second engine has its own connections, as another process would.
    other = create_db_engine(db_url)
    try:
        with session_scope() as session:
            record_signin_request(session, ANN, "10.0.0.1", window=WINDOW, now=NOW)
            assert signin_counting_locked(other)
        assert not signin_counting_locked(other)
    finally:
        other.dispose()


def signin_counting_locked(engine):
    """Return whether another connection holds what record_signin_request locks."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = database"
                " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                " AND datname = current_database()"
            )
            [held] = cursor.fetchone()
            assert held in (0, 2), f"expected a lock for the address and one for the client: {held}"
            return held == 2
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        cursor.execute("ROLLBACK")
        return False
    finally:
        connection.close()


def test_portal_actor_not_a_slack_id():
    actor = portal_actor(42)

    assert actor == "email:42"
    assert is_portal_actor(actor)
    assert not is_portal_actor("U0AGENT")
    assert not is_portal_actor(None)
    assert len(portal_actor(10**18)) <= 32


def test_thread_card_shows_email_acceptance():
    facts = DeliveryFacts(
        status=Status.QUALIFIED,
        delivered_by="U0AGENT",
        delivered_at=NOW,
        rating=4,
        recipients=(Recipient(kind="email", value="ann_b*@agency.example"),),
        acceptances=(Acceptance(by="ann_b*@agency.example", at=NOW + timedelta(hours=1)),),
    )

    blocks = [block.to_dict() for block in delivery_card(facts).blocks]

    texts = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    stamp = int((NOW + timedelta(hours=1)).timestamp())
    assert f"Accepted by ann_b*@agency.example at <!date^{stamp}^{{time}} on " in texts[-1]


def test_thread_card_without_acceptance_unchanged():
    facts = DeliveryFacts(status=Status.SPAM, delivered_by="U0AGENT", delivered_at=NOW, notes="x")

    blocks = [block.to_dict() for block in delivery_card(facts).blocks]

    assert not any("Accepted by" in str(block) for block in blocks)
