"""^deliver end to end: the modal, the stored delivery, hand-offs and Accept."""

import pytest

from bot import ids as v
from bot.slackdouble.payloads import new_ts
from storage.contacts import (
    link_conversation,
    set_active_application,
    upsert_application,
    upsert_contact,
)
from storage.conversations import ensure_workspace, find_conversation
from storage.deliveries import list_deliveries, list_recipients
from tests.support import (
    AGENT,
    CHANNEL,
    TEAM,
    DeliverDriver,
    radio,
    select,
    typed,
    users,
)

RECRUITER = "U0RECRUIT"


@pytest.fixture
def recruiter(slack):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
    return RECRUITER


def seed_contact(bot, thread_ts, *, applications=(("Data Engineer", "London"),)):
    bot.slack.add_message(CHANNEL, thread_ts, "U0CASEY", "Hi, I applied last week")
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = upsert_contact(
            session, workspace_id=TEAM, name="Casey Candidate", email="casey@example.com"
        ).contact
        ids = []
        for title, location in applications:
            application = upsert_application(
                session,
                contact_id=contact.id,
                job_title=title,
                job_location=location,
                source="linkedin",
            ).application
            ids.append(application.id)
        set_active_application(session, application)
        link_conversation(
            session,
            workspace_id=TEAM,
            channel_id=CHANNEL,
            thread_ts=thread_ts,
            contact_id=contact.id,
        )
        return contact.id, ids


def stored_deliveries(bot, thread_ts):
    with bot.session_scope() as session:
        conversation = find_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=thread_ts
        )
        deliveries = list_deliveries(session, conversation.id)
        return [(d, list_recipients(session, d.id)) for d in deliveries], conversation


def qualified_values(view, application_id, *, notes="Strong SQL <!channel> & more", rating="4"):
    return {
        v.DELIVER_APPLICATION_BLOCK: {v.DELIVER_APPLICATION_INPUT: select(f"app:{application_id}")},
        v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("qualified")},
        v.DELIVER_NOTES_BLOCK: {v.DELIVER_NOTES_INPUT: typed(notes)},
        v.DELIVER_RATING_BLOCK: {v.DELIVER_RATING_INPUT: radio(rating)},
    }


def test_qualified_delivery_to_recruiter(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)

    step1 = driver.open(root)
    values = qualified_values(step1, application_id)
    step1 = driver.change(step1, v.DELIVER_STATUS_INPUT, values)
    status, response = driver.submit(step1, values)
    step2 = driver.pushed(response)
    status2, response2 = driver.submit(
        step2, {v.DELIVER_USERS_BLOCK: {v.DELIVER_USERS_INPUT: users(recruiter)}}
    )
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == recruiter)
    [card] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == root)

    assert (status, status2) == (200, 200)
    assert response2 == {"response_action": "clear"}
    [(delivery, recipients)], conversation = stored_deliveries(bot, root)
    assert delivery.status == "qualified"
    assert delivery.rating == 4
    assert delivery.notes == "Strong SQL <!channel> & more"
    assert delivery.application_id == application_id
    assert delivery.delivered_by == AGENT
    assert conversation.state == "delivered"
    assert [(r.kind, r.user_id) for r in recipients] == [("user", recruiter)]
    assert dm.ok, dm.error
    assert card.ok, card.error
    dm_text = str(dm.args["blocks"])
    assert "Casey Candidate" in dm_text
    assert "&lt;!channel&gt; &amp; more" in dm_text
    assert "<!channel>" not in dm_text
    assert slack.calls_to("chat.getPermalink")[0].ok
