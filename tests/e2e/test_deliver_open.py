"""^deliver end to end: opening the modal, stale triggers, new contacts, many applications."""

import json
from datetime import timedelta

from sqlmodel import select as select_rows

from bot import ids as v
from bot.slackdouble.payloads import (
    DEFAULT_APP_ID,
    VERIFICATION_TOKEN,
    block_actions,
    message_event,
    message_shortcut,
    new_ts,
    team_object,
    user_object,
)
from storage.contacts import list_applications
from storage.deliveries import purge_drafts
from storage.models import Contact, Delivery, DeliveryDraft, utcnow
from tests.support import (
    AGENT,
    CHANNEL,
    TEAM,
    DeliverDriver,
    seed_contact,
    select,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
    typed,
)


def expire_triggers(slack):
    """Move the double's clock past the life of every trigger issued so far."""
    real_clock = slack.clock
    offset = slack.trigger_ttl + 1

    def advanced_clock():
        return real_clock() + offset

    slack.clock = advanced_clock


def rows_of(bot, model):
    with bot.session_scope() as session:
        return session.exec(select_rows(model)).all()


def ephemerals_to_agent(slack):
    return [c for c in slack.calls_to("chat.postEphemeral") if c.args.get("user") == AGENT]


def test_expired_trigger_on_button_asks_to_click_again(bot, slack):
    root = new_ts()
    slack.add_message(CHANNEL, root, "U0CASEY", "Hi, I applied last week")
    bot.post_and_settle(message_event("^deliver", user=AGENT, channel=CHANNEL, thread_ts=root))
    [offer] = slack.calls_to("chat.postEphemeral")
    button = offer.args["blocks"][1]["elements"][0]
    trigger_id = slack.issue_trigger_id(user_id=AGENT)
    slack.trigger_ttl = 0.5
    expire_triggers(slack)

    status = bot.post_and_settle(
        block_actions(
            v.OPEN_DELIVER_MODAL,
            user=AGENT,
            value=button["value"],
            trigger_id=trigger_id,
            channel=CHANNEL,
        )
    )

    assert status == 200
    [attempt] = slack.calls_to("views.open")
    assert attempt.error == "expired_trigger_id"
    assert slack.calls_to("views.update") == []
    [_offer, told] = ephemerals_to_agent(slack)
    assert told.ok, told.error
    assert told.args["channel"] == CHANNEL
    assert "click the button again" in told.args["text"]
    assert "Nothing was saved" in told.args["text"]
    assert rows_of(bot, DeliveryDraft) == []
    assert rows_of(bot, Delivery) == []


def shortcut_on(slack, root, trigger_id):
    return message_shortcut(
        v.SHORTCUT_DELIVER,
        user=AGENT,
        channel=CHANNEL,
        message_ts=root,
        trigger_id=trigger_id,
        text="Hi, I applied last week",
        message_user="U0CASEY",
    )


def test_shortcut_opens_modal_for_thread(bot, slack):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)

    status = bot.post_and_settle(shortcut_on(slack, root, slack.issue_trigger_id(user_id=AGENT)))

    assert status == 200
    [opened] = slack.calls_to("views.open")
    assert opened.ok, opened.error
    assert opened.args["view"]["callback_id"] == v.DELIVER_MODAL
    [filled] = slack.calls_to("views.update")
    assert filled.ok, filled.error
    view = slack.view(opened.response["view"]["id"])
    assert json.loads(view["private_metadata"]) == {
        "team": TEAM,
        "channel": CHANNEL,
        "thread_ts": root,
    }
    picker = next(b for b in view["blocks"] if b.get("block_id") == v.DELIVER_APPLICATION_BLOCK)
    assert picker["element"]["initial_option"]["value"] == f"app:{application_id}"
    assert ephemerals_to_agent(slack) == []


def test_expired_trigger_on_shortcut_asks_to_retry(bot, slack):
    root = new_ts()
    seed_contact(bot, root)
    trigger_id = slack.issue_trigger_id(user_id=AGENT)
    slack.trigger_ttl = 0.5
    expire_triggers(slack)

    status = bot.post_and_settle(shortcut_on(slack, root, trigger_id))

    assert status == 200
    [attempt] = slack.calls_to("views.open")
    assert attempt.error == "expired_trigger_id"
    [told] = ephemerals_to_agent(slack)
    assert told.ok, told.error
    assert "click the button again" in told.args["text"]
    assert rows_of(bot, DeliveryDraft) == []
    assert rows_of(bot, Delivery) == []


def test_new_contact_and_application_stored(bot, slack):
    root = new_ts()
    slack.add_message(CHANNEL, root, "U0DANA", "Hello, is the analyst job still open?")
    driver = DeliverDriver(bot, slack)
    step1 = step1_state("spam", notes="Asked for money up front")
    step1.update(
        {
            v.DELIVER_CONTACT_NAME_BLOCK: {v.DELIVER_CONTACT_NAME_INPUT: typed("Dana New")},
            v.DELIVER_CONTACT_EMAIL_BLOCK: {
                v.DELIVER_CONTACT_EMAIL_INPUT: typed("Dana@Example.COM")
            },
            v.DELIVER_CONTACT_PHONE_BLOCK: {
                v.DELIVER_CONTACT_PHONE_INPUT: typed("+44 (20) 7946-0958")
            },
            v.DELIVER_JOB_TITLE_BLOCK: {v.DELIVER_JOB_TITLE_INPUT: typed("Analyst")},
            v.DELIVER_JOB_LOCATION_BLOCK: {v.DELIVER_JOB_LOCATION_INPUT: typed("Leeds")},
        }
    )

    view = driver.open(root)
    view = driver.change(
        view, v.DELIVER_STATUS_INPUT, {v.DELIVER_STATUS_BLOCK: step1[v.DELIVER_STATUS_BLOCK]}
    )
    _status, response = driver.submit(view, step1)
    step2 = driver.pushed(response)
    _status, done = driver.submit(step2, step2_state())
    slack.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == root)
    settle_outbox(bot)

    assert v.DELIVER_APPLICATION_BLOCK not in [b.get("block_id") for b in view["blocks"]]
    summary = step2["blocks"][0]["text"]["text"]
    assert "*Contact:* Dana New" in summary
    assert "*Application:* Analyst · Leeds (new)" in summary
    assert done == {"response_action": "clear"}
    [(delivery, _recipients)], conversation = stored_deliveries(bot, root)
    [contact] = rows_of(bot, Contact)
    assert (contact.name, contact.email, contact.phone) == (
        "Dana New",
        "dana@example.com",
        "+442079460958",
    )
    assert contact.workspace_id == TEAM
    assert conversation.contact_id == contact.id
    with bot.session_scope() as session:
        [application] = list_applications(session, contact_id=contact.id)
    assert (application.job_title, application.job_location) == ("Analyst", "Leeds")
    assert application.active is True
    assert application.state == "delivered"
    assert delivery.contact_id == contact.id
    assert delivery.application_id == application.id
    assert delivery.status == "spam"


def test_new_contact_needs_name_and_address(bot, slack):
    root = new_ts()
    slack.add_message(CHANNEL, root, "U0DANA", "Hello")
    driver = DeliverDriver(bot, slack)
    step1 = step1_state("other", notes="Wrong number")
    step1[v.DELIVER_CONTACT_EMAIL_BLOCK] = {v.DELIVER_CONTACT_EMAIL_INPUT: typed("dana@nowhere")}
    view = driver.open(root)
    view = driver.change(
        view, v.DELIVER_STATUS_INPUT, {v.DELIVER_STATUS_BLOCK: step1[v.DELIVER_STATUS_BLOCK]}
    )

    status, response = driver.submit(view, step1)

    assert status == 200
    assert response == {
        "response_action": "errors",
        "errors": {
            v.DELIVER_CONTACT_NAME_BLOCK: "Enter the contact's name.",
            v.DELIVER_CONTACT_EMAIL_BLOCK: "'dana@nowhere' is not a valid email address. "
            "Enter it as name@example.com.",
        },
    }
    assert rows_of(bot, Contact) == []
    assert rows_of(bot, DeliveryDraft) == []


def block_suggestion(view, *, user, value):
    """Build the options request Slack sends while the agent types in an external select."""
    return {
        "type": "block_suggestion",
        "user": user_object(user, TEAM),
        "container": {"type": "view", "view_id": view["id"]},
        "api_app_id": DEFAULT_APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": v.DELIVER_APPLICATION_INPUT,
        "block_id": v.DELIVER_APPLICATION_BLOCK,
        "value": value,
        "team": team_object(TEAM),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
    }


def load_options(bot, view, value):
    status, _headers, body = bot.post(block_suggestion(view, user=AGENT, value=value))
    bot.executor.wait_idle()
    assert status == 200
    return json.loads(body)["options"]


def test_many_applications_use_external_select(bot, slack):
    root = new_ts()
    titles = [(f"Data Engineer {number:03d}", "London") for number in range(1, 102)]
    _contact_id, application_ids = seed_contact(bot, root, applications=titles)
    driver = DeliverDriver(bot, slack)

    view = driver.open(root)
    found = load_options(bot, view, "engineer 042")
    everything = load_options(bot, view, "")
    nothing = load_options(bot, view, "zzz")

    picker = next(b for b in view["blocks"] if b.get("block_id") == v.DELIVER_APPLICATION_BLOCK)
    assert picker["element"]["type"] == "external_select"
    assert picker["element"]["min_query_length"] == 0
    assert picker["element"]["initial_option"]["value"] == f"app:{application_ids[-1]}"
    assert "101 applications" in picker["hint"]["text"]
    assert [o["value"] for o in found] == [f"app:{application_ids[41]}"]
    assert found[0]["text"]["text"].startswith("Data Engineer 042 · London · linkedin")
    assert len(everything) == 100
    assert [o["value"] for o in everything[-2:]] == ["new", "none"]
    assert everything[0]["value"] == f"app:{application_ids[-1]}"
    assert nothing == []


def test_application_chosen_from_loaded_options(bot, slack):
    root = new_ts()
    titles = [(f"Data Engineer {number:03d}", "London") for number in range(1, 102)]
    _contact_id, application_ids = seed_contact(bot, root, applications=titles)
    driver = DeliverDriver(bot, slack)
    view = driver.open(root)
    [option] = load_options(bot, view, "Engineer 007")
    chosen = {"type": "external_select", "selected_option": option}
    step1 = step1_state("other", notes="Asked about a different role")
    step1[v.DELIVER_APPLICATION_BLOCK] = {v.DELIVER_APPLICATION_INPUT: chosen}

    view = driver.change(
        view,
        v.DELIVER_APPLICATION_INPUT,
        {v.DELIVER_APPLICATION_BLOCK: step1[v.DELIVER_APPLICATION_BLOCK]},
    )
    view = driver.change(view, v.DELIVER_STATUS_INPUT, step1)
    _status, response = driver.submit(view, step1)
    _status, done = driver.submit(driver.pushed(response), step2_state())
    settle_outbox(bot)

    picker = next(b for b in view["blocks"] if b.get("block_id") == v.DELIVER_APPLICATION_BLOCK)
    assert picker["element"]["initial_option"]["value"] == option["value"]
    assert done == {"response_action": "clear"}
    [(delivery, _recipients)], _conversation = stored_deliveries(bot, root)
    assert delivery.application_id == application_ids[6]


def test_new_application_for_known_contact(bot, slack):
    root = new_ts()
    contact_id, [old_application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    new_choice = {v.DELIVER_APPLICATION_BLOCK: {v.DELIVER_APPLICATION_INPUT: select("new")}}
    step1 = step1_state("other", notes="Applied again for a second role")
    step1.update(new_choice)
    step1[v.DELIVER_JOB_TITLE_BLOCK] = {v.DELIVER_JOB_TITLE_INPUT: typed("Platform Engineer")}
    step1[v.DELIVER_JOB_LOCATION_BLOCK] = {v.DELIVER_JOB_LOCATION_INPUT: typed("Remote")}

    view = driver.open(root)
    view = driver.change(view, v.DELIVER_APPLICATION_INPUT, new_choice)
    _status, response = driver.submit(view, step1)
    _status, done = driver.submit(driver.pushed(response), step2_state())
    settle_outbox(bot)

    view_blocks = [b.get("block_id") for b in view["blocks"]]
    assert v.DELIVER_JOB_TITLE_BLOCK in view_blocks
    assert v.DELIVER_JOB_LOCATION_BLOCK in view_blocks
    assert done == {"response_action": "clear"}
    [(delivery, _recipients)], _conversation = stored_deliveries(bot, root)
    with bot.session_scope() as session:
        applications = {a.id: a for a in list_applications(session, contact_id=contact_id)}
    assert len(applications) == 2
    new = applications[delivery.application_id]
    assert (new.job_title, new.job_location, new.active) == ("Platform Engineer", "Remote", True)
    assert applications[old_application_id].active is False
    assert delivery.contact_id == contact_id


def test_deliver_after_draft_lost_asks_to_restart(bot, slack):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    step1 = step1_state("spam", application=f"app:{application_id}", notes="Bulk message")
    view = driver.open(root)
    view = driver.change(
        view, v.DELIVER_STATUS_INPUT, {v.DELIVER_STATUS_BLOCK: step1[v.DELIVER_STATUS_BLOCK]}
    )
    _status, response = driver.submit(view, step1)
    step2 = driver.pushed(response)
    with bot.session_scope() as session:
        purge_drafts(session, older_than=utcnow() + timedelta(minutes=1))

    status, done = driver.submit(step2, step2_state())

    assert status == 200
    assert done == {
        "response_action": "errors",
        "errors": {v.DELIVER_USERS_BLOCK: "This form expired. Close it and type ^deliver again."},
    }
    assert rows_of(bot, Delivery) == []
