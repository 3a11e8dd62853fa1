"""The portal over HTTP: the list, a delivery's card and transcript, and Accept shown in Slack."""

from bot.slackdouble.payloads import message_event, new_ts
from storage import access
from storage.deliveries import list_recipients
from storage.models import DeliveryRecipient
from storage.portal import portal_actor
from tests.portal.support import ANN, BEN, csrf_of, seed_delivery, signed_in_client
from tests.support import (
    AGENT,
    CHANNEL,
    DeliverDriver,
    deliver_through,
    seed_contact,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
)


def deliver_to_email(bot, slack, root, email):
    """Deliver the thread to an address outside Slack and send the outbox, which grants it.

    Before the delivery, the candidate writes in the thread and the agent adds a note.
    """
    _contact_id, [application_id] = seed_contact(bot, root)
    bot.post_and_settle(
        message_event("I know SQL and dbt", user="U0CASEY", channel=CHANNEL, thread_ts=root)
    )
    bot.post_and_settle(
        message_event(
            "^note Ask about the notice period", user=AGENT, channel=CHANNEL, thread_ts=root
        )
    )
    step1 = step1_state(
        "qualified", application=f"app:{application_id}", notes="Strong SQL & dbt", rating=4
    )
    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(emails=email)
    )
    assert response == {"response_action": "clear"}
    settle_outbox(bot)
    [(delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    return delivery, recipient


def thread_card_of(slack, root):
    [card] = [
        call
        for call in slack.calls_to("chat.postMessage")
        if call.args["channel"] == CHANNEL and call.args.get("thread_ts") == root
    ]
    assert card.ok, card.error
    return card


def section_texts(blocks):
    return [block["text"]["text"] for block in blocks if block["type"] == "section"]


def test_list_newest_first(bot):
    older = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=new_ts(),
        contact_name="Casey Older",
        message="first",
        note="n1",
    )
    newer = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=new_ts(),
        contact_name="Drew Newer",
        message="second",
        note="n2",
    )
    client = signed_in_client(bot, ANN)

    page = client.get("/portal/deliveries")

    assert page.status_code == 200
    assert page.text.index("Drew Newer") < page.text.index("Casey Older")
    assert f'href="/portal/deliveries/{newer.delivery_id}"' in page.text
    assert f'href="/portal/deliveries/{older.delivery_id}"' in page.text
    assert "Qualified" in page.text
    assert ANN in page.text


def test_delivery_shows_card_and_transcript(bot):
    seeded = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=new_ts(),
        contact_name="Casey <Candidate>",
        message="I know SQL <script>alert(1)</script>",
        note="Internal: ask about notice period",
    )
    client = signed_in_client(bot, ANN)

    page = client.get(f"/portal/deliveries/{seeded.delivery_id}")

    assert page.status_code == 200
    assert "Casey &lt;Candidate&gt;" in page.text
    assert "<script>" not in page.text
    assert "I know SQL &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Internal: ask about notice period" in page.text
    assert f"Strong candidate for {ANN}" in page.text
    assert "Data Engineer" in page.text
    assert "★★★★☆" in page.text
    assert "Ann Agent" in page.text
    assert '<button type="submit">Accept</button>' in page.text


def test_transcript_hides_other_recipients(bot):
    thread_ts = new_ts()
    to_ann = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=thread_ts,
        contact_name="Casey",
        message="hello",
        note="a note",
    )
    seed_delivery(
        bot.session_scope,
        email=BEN,
        thread_ts=thread_ts,
        contact_name="Casey",
        message="hello",
        note="another note",
    )
    client = signed_in_client(bot, ANN)

    page = client.get(f"/portal/deliveries/{to_ann.delivery_id}")
    text_file = client.get(f"/portal/deliveries/{to_ann.delivery_id}/transcript.txt")

    assert page.status_code == 200
    assert text_file.status_code == 200
    assert ANN in text_file.text
    assert BEN not in page.text
    assert BEN not in text_file.text


def test_transcript_file_downloads(bot):
    seeded = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=new_ts(),
        contact_name="Casey",
        message="hello from the candidate",
        note="a note",
    )
    client = signed_in_client(bot, ANN)

    response = client.get(f"/portal/deliveries/{seeded.delivery_id}/transcript.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "attachment" in response.headers["content-disposition"]
    assert "hello from the candidate" in response.text
    assert "a note" in response.text
    assert response.text.startswith("Contact: Casey\n")


def test_conversation_redirects_to_delivery(bot):
    seeded = seed_delivery(
        bot.session_scope, email=ANN, thread_ts=new_ts(), contact_name="C", message="m", note="n"
    )
    client = signed_in_client(bot, ANN)

    response = client.get(f"/portal/conversations/{seeded.conversation_id}")

    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/deliveries/{seeded.delivery_id}"


def test_accept_updates_agent_card(bot, slack):
    root = new_ts()
    delivery, recipient = deliver_to_email(bot, slack, root, ANN)
    card = thread_card_of(slack, root)
    assert not any("Accepted by" in text for text in section_texts(card.args["blocks"]))
    client = signed_in_client(bot, ANN)
    page = client.get(f"/portal/deliveries/{delivery.id}")

    response = client.post(
        f"/portal/deliveries/{delivery.id}/accept", {"csrf_token": csrf_of(page)}
    )
    settle_outbox(bot)

    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/deliveries/{delivery.id}"
    [update] = slack.calls_to("chat.update")
    assert update.ok, update.error
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, card.response["ts"])
    texts = section_texts(update.args["blocks"])
    assert any(text.startswith(f"Accepted by {ANN} at <!date^") for text in texts), texts
    with bot.session_scope() as session:
        [stored] = list_recipients(session, delivery.id)
        user = access.find_restricted_user(session, ANN)
    assert stored.accepted_by == portal_actor(user.id)
    assert stored.accepted_at is not None
    after = client.get(f"/portal/deliveries/{delivery.id}")
    assert "You accepted this hand-off on" in after.text
    assert '<button type="submit">Accept</button>' not in after.text


def test_accept_twice_updates_once(bot, slack):
    root = new_ts()
    delivery, _recipient = deliver_to_email(bot, slack, root, ANN)
    client = signed_in_client(bot, ANN)
    token = csrf_of(client.get(f"/portal/deliveries/{delivery.id}"))

    first = client.post(f"/portal/deliveries/{delivery.id}/accept", {"csrf_token": token})
    second = client.post(f"/portal/deliveries/{delivery.id}/accept", {"csrf_token": token})
    settle_outbox(bot)

    assert first.status_code == 303
    assert second.status_code == 303
    assert len(slack.calls_to("chat.update")) == 1
    with bot.session_scope() as session:
        accepted = session.get(DeliveryRecipient, _recipient.id)
    assert accepted.accepted_at is not None
