"""The App Home queries: waiting conversations, hand-offs to a user, recent home viewers."""

from datetime import timedelta

import sqlalchemy as sa

from storage.deliveries import (
    NewRecipient,
    accept_recipient,
    create_delivery,
    list_recipients,
    set_recipient_state,
)
from storage.messages import mark_unread
from storage.models import Conversation, utcnow
from storage.queue import (
    handoff_users,
    handoffs_for,
    recent_home_viewers,
    record_home_opened,
    waiting_queue,
)
from storage.teams import add_team
from tests.storage.test_deliveries import a_conversation, new_delivery


def test_waiting_queue_groups_and_orders(session_scope):
    now = utcnow()
    with session_scope() as session:
        rows = {}
        for index, (holder, hours) in enumerate(
            [(None, 1), (None, 5), ("U1", 2), ("U2", 9), (None, 3)]
        ):
            conversation = a_conversation(session, f"1700000000.{index:06d}")
            mark_unread(session, conversation.id, now=now - timedelta(hours=hours))
            session.execute(
                sa.update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(claimed_by=holder)
            )
            rows[index] = conversation.id
        a_conversation(session, "1700000000.000099")  # answered: not waiting

    with session_scope() as session:
        queue = waiting_queue(session, workspace_id="T1", user_id="U1", limit=2)

    assert [row.conversation_id for row in queue.mine] == [rows[2]]
    assert queue.mine_total == 1
    assert [row.conversation_id for row in queue.unclaimed] == [rows[1], rows[4]]
    assert queue.unclaimed_total == 3
    assert queue.claimed_by_others == 1


def test_handoffs_reach_user_directly_and_through_teams(session_scope):
    with session_scope() as session:
        team = add_team(session, workspace_id="T1", name="Hiring", members=["U7", "U8"])
        conversation = a_conversation(session)
        direct, _ = create_delivery(
            session, new_delivery(conversation, "V1", recipients=[NewRecipient("user", "U7")])
        )
        both, _ = create_delivery(
            session,
            new_delivery(
                conversation,
                "V2",
                recipients=[NewRecipient("user", "U7"), NewRecipient("team", team_id=team.id)],
            ),
        )
        by_email, _ = create_delivery(
            session,
            new_delivery(conversation, "V3", recipients=[NewRecipient("email", email="x@y.co")]),
        )
        [email_recipient] = list_recipients(session, by_email.id)
        set_recipient_state(session, email_recipient.id, "notified", user_id="U7")
        create_delivery(
            session, new_delivery(conversation, "V4", recipients=[NewRecipient("user", "U9")])
        )
        [first] = list_recipients(session, direct.id)
        accept_recipient(session, first.id, user_id="U7")
        ids = (direct.id, both.id, by_email.id)

    with session_scope() as session:
        handoffs = handoffs_for(session, workspace_id="T1", user_id="U7", limit=10)
        member = handoffs_for(session, workspace_id="T1", user_id="U8", limit=10)
        users = handoff_users(session, ids[1])

    direct_id, both_id, email_id = ids
    assert [row.delivery_id for row in handoffs.rows] == [email_id, both_id, direct_id]
    assert (handoffs.total, handoffs.unaccepted_total) == (3, 2)
    assert handoffs.rows[2].accepted_by == "U7"
    assert handoffs.rows[1].team_name == "Hiring"
    assert [row.delivery_id for row in member.rows] == [both_id]
    assert users == {"U7", "U8"}


def test_recent_home_viewers_filters_time_and_users(session_scope):
    now = utcnow()
    with session_scope() as session:
        record_home_opened(session, workspace_id="T1", user_id="U1", now=now)
        record_home_opened(session, workspace_id="T1", user_id="U2", now=now - timedelta(hours=9))
        record_home_opened(session, workspace_id="T1", user_id="U3", now=now)
        record_home_opened(session, workspace_id="T2", user_id="U4", now=now)

    since = now - timedelta(hours=8)
    with session_scope() as session:
        everyone = recent_home_viewers(session, workspace_id="T1", since=since)
        some = recent_home_viewers(session, workspace_id="T1", since=since, among={"U1", "U2"})
        nobody = recent_home_viewers(session, workspace_id="T1", since=since, among=set())

    assert everyone == {"U1", "U3"}
    assert some == {"U1"}
    assert nobody == set()
