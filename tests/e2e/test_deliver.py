"""^deliver end to end: each status branch, inline validation, and typed input kept on rebuilds."""

import pytest
from sqlmodel import select as select_rows

from bot import ids as v
from bot.slackdouble.payloads import new_ts
from bot.views.text import escape_mrkdwn
from storage.models import Delivery, DeliveryDraft, DeliveryRecipient, OutboxMessage
from tests.support import (
    AGENT,
    CHANNEL,
    DeliverDriver,
    deliver_through,
    radio,
    seed_contact,
    select,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
    typed,
)

RECRUITER = "U0RECRUIT"


@pytest.fixture
def recruiter(slack):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
    return RECRUITER


def row_counts(bot):
    """Count the rows a Next or a Deliver could have written."""
    with bot.session_scope() as session:
        return {
            model.__name__: len(session.exec(select_rows(model)).all())
            for model in (DeliveryDraft, Delivery, DeliveryRecipient, OutboxMessage)
        }


NOTHING_STORED = {"DeliveryDraft": 0, "Delivery": 0, "DeliveryRecipient": 0, "OutboxMessage": 0}


def block_ids(view):
    return [block.get("block_id") for block in view["blocks"]]


def thread_card(slack, root):
    [card] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == root)
    assert card.ok, card.error
    return card


def test_qualified_delivery_to_recruiter(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    step1 = step1_state(
        "qualified",
        application=f"app:{application_id}",
        notes="Strong SQL <!channel> & more",
        rating=4,
    )

    _step2, response = deliver_through(driver, root, step1, step2_state(recruiter))
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == recruiter)
    card = thread_card(slack, root)

    assert response == {"response_action": "clear"}
    [(delivery, recipients)], conversation = stored_deliveries(bot, root)
    assert delivery.status == "qualified"
    assert delivery.rating == 4
    assert delivery.notes == "Strong SQL <!channel> & more"
    assert delivery.application_id == application_id
    assert delivery.delivered_by == AGENT
    assert conversation.state == "delivered"
    assert [(r.kind, r.user_id) for r in recipients] == [("user", recruiter)]
    assert dm.ok, dm.error
    dm_text = str(dm.args["blocks"])
    assert "Casey Candidate" in dm_text
    assert "&lt;!channel&gt; &amp; more" in dm_text
    assert "<!channel>" not in dm_text
    assert "<!channel>" not in str(card.args["blocks"])
    assert slack.calls_to("chat.getPermalink")[0].ok


# Each status with the fields it needs, whether it takes a recipient, and what is stored.
STATUS_BRANCHES = {
    "qualified": (
        {"notes": "Strong SQL, ready for a tech screen", "rating": 5},
        True,
        {
            "rating": 5,
            "reason": None,
            "reason_text": None,
            "notes": "Strong SQL, ready for a tech screen",
        },
    ),
    "review": (
        {"notes": "Check the visa status", "rating": 3},
        True,
        {"rating": 3, "reason": None, "reason_text": None, "notes": "Check the visa status"},
    ),
    "not_qualified": (
        {"reason": "Not enough experience", "reason_text": "Two years of SQL, the role asks five"},
        False,
        {
            "rating": None,
            "reason": "Not enough experience",
            "reason_text": "Two years of SQL, the role asks five",
            "notes": None,
        },
    ),
    "not_interested": (
        {
            "reason": "Accepted another offer",
            "reason_text": "Signed with a competitor",
            "notes": "Open to contact in a year",
        },
        False,
        {
            "rating": None,
            "reason": "Accepted another offer",
            "reason_text": "Signed with a competitor",
            "notes": "Open to contact in a year",
        },
    ),
    "spam": (
        {"notes": "Crypto offer, not a candidate"},
        False,
        {
            "rating": None,
            "reason": None,
            "reason_text": None,
            "notes": "Crypto offer, not a candidate",
        },
    ),
    "other": (
        {"notes": "Wrote to the wrong company"},
        False,
        {
            "rating": None,
            "reason": None,
            "reason_text": None,
            "notes": "Wrote to the wrong company",
        },
    ),
}

# The blocks each status adds after the status select, and whether the notes are optional.
STATUS_BLOCKS = {
    "qualified": ([v.DELIVER_RATING_BLOCK, v.DELIVER_NOTES_BLOCK], False),
    "review": ([v.DELIVER_RATING_BLOCK, v.DELIVER_NOTES_BLOCK], False),
    "not_qualified": (
        [v.DELIVER_REASON_NOT_QUALIFIED_BLOCK, v.DELIVER_REASON_TEXT_BLOCK, v.DELIVER_NOTES_BLOCK],
        True,
    ),
    "not_interested": (
        [v.DELIVER_REASON_NOT_INTERESTED_BLOCK, v.DELIVER_REASON_TEXT_BLOCK, v.DELIVER_NOTES_BLOCK],
        True,
    ),
    "spam": ([v.DELIVER_NOTES_BLOCK], False),
    "other": ([v.DELIVER_NOTES_BLOCK], False),
}


@pytest.mark.parametrize("status", list(STATUS_BRANCHES))
def test_status_branch_stores_its_fields(bot, slack, recruiter, status):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    fields, takes_recipient, expected = STATUS_BRANCHES[status]
    step1 = step1_state(status, application=f"app:{application_id}", **fields)
    step2 = step2_state(recruiter) if takes_recipient else step2_state()
    driver = DeliverDriver(bot, slack)

    view = driver.open(root)
    view = driver.change(
        view, v.DELIVER_STATUS_INPUT, {v.DELIVER_STATUS_BLOCK: step1[v.DELIVER_STATUS_BLOCK]}
    )
    next_status, next_response = driver.submit(view, step1)
    done_status, done_response = driver.submit(driver.pushed(next_response), step2)
    card = thread_card(slack, root)
    settle_outbox(bot)

    expected_blocks, notes_optional = STATUS_BLOCKS[status]
    view_blocks = block_ids(view)
    assert view_blocks[view_blocks.index(v.DELIVER_STATUS_BLOCK) + 1 :] == expected_blocks
    notes_block = next(b for b in view["blocks"] if b.get("block_id") == v.DELIVER_NOTES_BLOCK)
    assert notes_block.get("optional", False) is notes_optional
    assert (next_status, done_status) == (200, 200)
    assert done_response == {"response_action": "clear"}
    [(delivery, recipients)], _conversation = stored_deliveries(bot, root)
    assert delivery.status == status
    stored = {name: getattr(delivery, name) for name in expected}
    assert stored == expected
    assert delivery.application_id == application_id
    assert [r.user_id for r in recipients] == ([recruiter] if takes_recipient else [])
    card_text = str(card.args["blocks"])
    if expected["reason"]:
        assert expected["reason"] in card_text
        assert expected["reason_text"] in card_text
    if expected["notes"]:
        assert expected["notes"] in card_text
    if not takes_recipient:
        assert "with no recipients" in card_text


def test_negative_status_takes_recipient_too(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state(
        "not_interested",
        application=f"app:{application_id}",
        reason="Role is not a fit",
        reason_text="Wants a management role",
    )

    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(recruiter)
    )
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == recruiter)

    assert response == {"response_action": "clear"}
    assert dm.ok, dm.error
    assert "Not Interested" in str(dm.args["blocks"])
    assert "Wants a management role" in str(dm.args["blocks"])


# Step 1 entries that Next rejects, and the inline errors by block.
STEP1_ERRORS = {
    "notes missing": (
        {"status": "qualified", "rating": 4},
        {
            v.DELIVER_NOTES_BLOCK: "Notes are required for Qualified: "
            "say what makes the candidate a fit."
        },
    ),
    "rating missing": (
        {"status": "qualified", "notes": "Strong SQL"},
        {v.DELIVER_RATING_BLOCK: "Choose a rating from 1 to 5."},
    ),
    "review without both": (
        {"status": "review"},
        {
            v.DELIVER_RATING_BLOCK: "Choose a rating from 1 to 5.",
            v.DELIVER_NOTES_BLOCK: "Notes are required for Review: "
            "say what the reviewer should check.",
        },
    ),
    "reason missing": (
        {"status": "not_qualified", "reason_text": "Too junior"},
        {v.DELIVER_REASON_NOT_QUALIFIED_BLOCK: "Choose a reason."},
    ),
    "reason text missing": (
        {"status": "not_interested", "reason": "Compensation too low"},
        {v.DELIVER_REASON_TEXT_BLOCK: "Describe the reason in your own words."},
    ),
    "reason from other list": (
        {"status": "not_qualified", "reason": "Accepted another offer", "reason_text": "Signed"},
        {
            v.DELIVER_REASON_NOT_QUALIFIED_BLOCK: "'Accepted another offer' is not a reason for "
            "Not Qualified. Choose one from the list."
        },
    ),
    "spam notes missing": (
        {"status": "spam"},
        {v.DELIVER_NOTES_BLOCK: "Notes are required for Spam: say why this is spam."},
    ),
    "other notes missing": (
        {"status": "other"},
        {v.DELIVER_NOTES_BLOCK: "Notes are required for Other: say what happened."},
    ),
    "notes too long": (
        {"status": "spam", "notes": "x" * 3001},
        {
            v.DELIVER_NOTES_BLOCK: "Notes: 3,001 characters, over the limit of 3,000. "
            "Remove 1 character."
        },
    ),
    "optional notes too long": (
        {
            "status": "not_qualified",
            "reason": "Other",
            "reason_text": "See notes",
            "notes": "y" * 3005,
        },
        {
            v.DELIVER_NOTES_BLOCK: "Notes: 3,005 characters, over the limit of 3,000. "
            "Remove 5 characters."
        },
    ),
}


@pytest.mark.parametrize("case", list(STEP1_ERRORS))
def test_step1_error_comes_back_inline(bot, slack, case):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    entries, expected_errors = STEP1_ERRORS[case]
    step1 = step1_state(application=f"app:{application_id}", **entries)
    driver = DeliverDriver(bot, slack)
    view = driver.open(root)
    view = driver.change(
        view, v.DELIVER_STATUS_INPUT, {v.DELIVER_STATUS_BLOCK: step1[v.DELIVER_STATUS_BLOCK]}
    )

    status, response = driver.submit(view, step1)

    assert status == 200
    assert response == {"response_action": "errors", "errors": expected_errors}
    assert set(expected_errors) <= set(block_ids(view)), "an error names a block not in the view"
    assert row_counts(bot) == NOTHING_STORED


def test_step2_invalid_emails_listed_inline(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state("qualified", application=f"app:{application_id}", notes="Fit", rating=4)
    emails = "sam@example, ok@example.com; not-an-address <jo@example.org>"

    step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(recruiter, emails=emails)
    )

    assert response == {
        "response_action": "errors",
        "errors": {
            v.DELIVER_EMAILS_BLOCK: "These are not valid email addresses: 'sam@example', "
            "'not-an-address'. Correct them or remove them."
        },
    }
    assert v.DELIVER_EMAILS_BLOCK in block_ids(step2)
    counts = row_counts(bot)
    assert counts["Delivery"] == 0
    assert counts["DeliveryRecipient"] == 0
    assert counts["OutboxMessage"] == 0
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("status", ["qualified", "review"])
def test_step2_recipient_required_inline(bot, slack, status):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state(status, application=f"app:{application_id}", notes="Fit", rating=4)
    label = "Qualified" if status == "qualified" else "Review"

    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(emails="   ")
    )

    assert response == {
        "response_action": "errors",
        "errors": {
            v.DELIVER_USERS_BLOCK: f"Deliveries marked {label} need a recipient. "
            "Choose a Slack user or a team, or enter an email address."
        },
    }
    counts = row_counts(bot)
    assert counts["Delivery"] == 0
    assert counts["OutboxMessage"] == 0
    assert slack.calls_to("chat.postMessage") == []


def test_3000_character_notes_escaped_everywhere(bot, slack, recruiter):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    notes = ("&<>" + "<!channel>" + "<@U0BOSS>") * 200
    notes = notes[:3000]
    step1 = step1_state("qualified", application=f"app:{application_id}", notes=notes, rating=5)

    step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(recruiter)
    )
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == recruiter)
    card = thread_card(slack, root)

    assert len(notes) == 3000
    assert response == {"response_action": "clear"}
    [(delivery, _recipients)], _conversation = stored_deliveries(bot, root)
    assert delivery.notes == notes
    assert "<!channel>" not in str(step2["blocks"])
    assert dm.ok, dm.error
    for message in (card, dm):
        sections = [
            block["text"]["text"]
            for block in message.args["blocks"]
            if block["type"] == "section" and "text" in block
        ]
        start = next(i for i, text in enumerate(sections) if text.startswith("*Notes*\n"))
        chunks = [sections[start].removeprefix("*Notes*\n")]
        # The escaped notes contain no spaces, so every further chunk starts with an entity.
        for text in sections[start + 1 :]:
            if not text.startswith("&"):
                break
            chunks.append(text)
        assert len(chunks) > 1, "notes this long take several sections"
        assert "".join(chunks) == escape_mrkdwn(notes)
        assert all(len(text) <= 3000 for text in sections)
        assert "<!channel>" not in str(message.args["blocks"])
        assert "<@U0BOSS>" not in str(message.args["blocks"])
        assert "<!channel>" not in message.args["text"]


def test_typed_values_survive_status_changes(bot, slack):
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    driver = DeliverDriver(bot, slack)
    view = driver.open(root)
    chosen = {
        v.DELIVER_APPLICATION_BLOCK: {v.DELIVER_APPLICATION_INPUT: select(f"app:{application_id}")}
    }

    qualified = driver.change(
        view,
        v.DELIVER_STATUS_INPUT,
        {**chosen, v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("qualified")}},
    )
    review = driver.change(
        qualified,
        v.DELIVER_STATUS_INPUT,
        {
            **chosen,
            v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("review")},
            v.DELIVER_RATING_BLOCK: {v.DELIVER_RATING_INPUT: radio("2")},
            v.DELIVER_NOTES_BLOCK: {v.DELIVER_NOTES_INPUT: typed("Ask about the gap in 2021")},
        },
    )
    not_qualified = driver.change(
        review,
        v.DELIVER_STATUS_INPUT,
        {
            **chosen,
            v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("not_qualified")},
            v.DELIVER_RATING_BLOCK: {v.DELIVER_RATING_INPUT: radio("2")},
            v.DELIVER_NOTES_BLOCK: {v.DELIVER_NOTES_INPUT: typed("Ask about the gap in 2021")},
        },
    )
    not_interested = driver.change(
        not_qualified,
        v.DELIVER_STATUS_INPUT,
        {
            **chosen,
            v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("not_interested")},
            v.DELIVER_REASON_NOT_QUALIFIED_BLOCK: {v.DELIVER_REASON_INPUT: select("Other")},
            v.DELIVER_REASON_TEXT_BLOCK: {v.DELIVER_REASON_TEXT_INPUT: typed("Moving abroad")},
            v.DELIVER_NOTES_BLOCK: {v.DELIVER_NOTES_INPUT: typed("Ask about the gap in 2021")},
        },
    )

    def element(view, block_id):
        return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]

    assert element(review, v.DELIVER_RATING_BLOCK)["initial_option"]["value"] == "2"
    assert element(review, v.DELIVER_NOTES_BLOCK)["initial_value"] == "Ask about the gap in 2021"
    assert element(review, v.DELIVER_STATUS_BLOCK)["initial_option"]["value"] == "review"
    assert (
        element(review, v.DELIVER_APPLICATION_BLOCK)["initial_option"]["value"]
        == f"app:{application_id}"
    )
    assert v.DELIVER_RATING_BLOCK not in block_ids(not_qualified)
    assert (
        element(not_qualified, v.DELIVER_NOTES_BLOCK)["initial_value"]
        == "Ask about the gap in 2021"
    )
    assert "initial_option" not in element(not_qualified, v.DELIVER_REASON_NOT_QUALIFIED_BLOCK)
    # "Other" is in both reason lists, so it carries over to the other block id.
    reason = element(not_interested, v.DELIVER_REASON_NOT_INTERESTED_BLOCK)
    assert reason["initial_option"]["value"] == "Other"
    assert element(not_interested, v.DELIVER_REASON_TEXT_BLOCK)["initial_value"] == "Moving abroad"
    assert (
        element(not_interested, v.DELIVER_NOTES_BLOCK)["initial_value"]
        == "Ask about the gap in 2021"
    )
    assert v.DELIVER_REASON_NOT_QUALIFIED_BLOCK not in block_ids(not_interested)


def test_typed_contact_survives_status_change(bot, slack):
    root = new_ts()
    slack.add_message(CHANNEL, root, "U0CASEY", "Hello, is the job still open?")
    driver = DeliverDriver(bot, slack)
    view = driver.open(root)
    contact = {
        v.DELIVER_CONTACT_NAME_BLOCK: {v.DELIVER_CONTACT_NAME_INPUT: typed("Dana New")},
        v.DELIVER_CONTACT_EMAIL_BLOCK: {v.DELIVER_CONTACT_EMAIL_INPUT: typed("dana@example.com")},
        v.DELIVER_CONTACT_PHONE_BLOCK: {v.DELIVER_CONTACT_PHONE_INPUT: typed("+44 20 7946 0958")},
        v.DELIVER_JOB_TITLE_BLOCK: {v.DELIVER_JOB_TITLE_INPUT: typed("Analyst")},
        v.DELIVER_JOB_LOCATION_BLOCK: {v.DELIVER_JOB_LOCATION_INPUT: typed("Leeds")},
    }

    rebuilt = driver.change(
        view,
        v.DELIVER_STATUS_INPUT,
        {**contact, v.DELIVER_STATUS_BLOCK: {v.DELIVER_STATUS_INPUT: select("spam")}},
    )

    initial = {
        block["block_id"]: block["element"].get("initial_value")
        for block in rebuilt["blocks"]
        if block.get("block_id") in contact
    }
    assert initial == {
        v.DELIVER_CONTACT_NAME_BLOCK: "Dana New",
        v.DELIVER_CONTACT_EMAIL_BLOCK: "dana@example.com",
        v.DELIVER_CONTACT_PHONE_BLOCK: "+44 20 7946 0958",
        v.DELIVER_JOB_TITLE_BLOCK: "Analyst",
        v.DELIVER_JOB_LOCATION_BLOCK: "Leeds",
    }
    assert v.DELIVER_NOTES_BLOCK in block_ids(rebuilt)
