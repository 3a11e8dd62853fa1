import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import ids
from bot.addresses import normalize_email, normalize_phone
from bot.outcomes import DEFAULT_REASONS, Status
from bot.slackdouble.validation import MODAL, message_block_problems, view_problems
from bot.threads import ThreadRef
from bot.views.deliver import (
    REASON_BLOCKS,
    ApplicationChoice,
    ContactFacts,
    DeliverContext,
    Step1Summary,
    Step1Values,
    Step2Values,
    TeamChoice,
    parse_email_list,
    read_step1,
    read_step2,
    validate_step1,
    validate_step2,
)
from bot.views.deliver_cards import (
    Card,
    DeliveryFacts,
    PreviousDelivery,
    Recipient,
    delivery_card,
    handoff_card,
)
from bot.views.deliver_modal import (
    application_label,
    application_options,
    loading_view,
    step1_view,
    step2_view,
    summarize_step1,
)

METADATA = json.dumps({"conversation_id": 42})
WHEN = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
CONTACT = ContactFacts(name="Jane Doe", email="jane@example.com", phone="+442079460958")


def application(number: int, *, active: bool = False, **changes: Any) -> ApplicationChoice:
    fields: dict[str, Any] = {
        "id": number,
        "job_title": f"Data Engineer {number}",
        "job_location": "London",
        "source": "linkedin",
        "applied_at": WHEN - timedelta(days=number),
        "active": active,
    }
    fields.update(changes)
    return ApplicationChoice(**fields)


APPLICATIONS = (application(1), application(2, active=True), application(3))
CONTEXT = DeliverContext(contact=CONTACT, applications=APPLICATIONS)


def many_applications(count: int, *, active: int) -> DeliverContext:
    applications = tuple(application(n, active=n == active) for n in range(1, count + 1))
    return DeliverContext(contact=CONTACT, applications=applications)


def modal_problems(view) -> list[str]:
    return view_problems(view.to_dict(), view_type=MODAL)


def card_problems(card: Card) -> list[str]:
    return message_block_problems([block.to_dict() for block in card.blocks])


def blocks_by_id(view) -> dict[str, dict]:
    return {block["block_id"]: block for block in view.to_dict()["blocks"] if "block_id" in block}


def submitted_state(view) -> dict[str, Any]:
    """Return the state.values Slack would send for a view left as it was opened."""
    state: dict[str, Any] = {}
    for block in view.to_dict()["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            value: dict[str, Any] = {"value": element.get("initial_value")}
        elif kind in ("static_select", "external_select", "radio_buttons"):
            value = {"selected_option": element.get("initial_option")}
        elif kind == "multi_users_select":
            value = {"selected_users": element.get("initial_users", [])}
        elif kind == "multi_static_select":
            value = {"selected_options": element.get("initial_options", [])}
        else:
            raise AssertionError(f"unexpected element type {kind}")
        state[block["block_id"]] = {element["action_id"]: {"type": kind, **value}}
    return state


def card_text(card: Card) -> str:
    return json.dumps([block.to_dict() for block in card.blocks], ensure_ascii=False)


def facts(**changes: Any) -> DeliveryFacts:
    fields: dict[str, Any] = {
        "status": Status.QUALIFIED,
        "delivered_by": "U0AGENT",
        "delivered_at": WHEN,
        "rating": 4,
        "notes": "Strong SQL, wants hybrid work.",
        "recipients": (Recipient("user", "U0RECRUIT"),),
        "contact": CONTACT,
        "application": APPLICATIONS[1],
    }
    fields.update(changes)
    return DeliveryFacts(**fields)


# Loading view and step 1


def test_loading_view_is_valid_modal():
    thread = ThreadRef(team="T1", channel="C1", thread_ts="1709544600.000100")

    view = loading_view(thread)

    assert modal_problems(view) == []
    assert view.to_dict()["callback_id"] == ids.DELIVER_MODAL
    assert ThreadRef.from_metadata(view.to_dict()["private_metadata"]) == thread


def test_step1_chrome():
    view = step1_view(CONTEXT, Step1Values(), metadata=METADATA).to_dict()

    assert view["callback_id"] == ids.DELIVER_MODAL
    assert view["title"]["text"] == "Deliver conversation"
    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"] == "Next"
    assert view["close"]["text"] == "Cancel"
    assert view["private_metadata"] == METADATA


def test_step1_before_status_shows_picker_status_hint():
    view = step1_view(CONTEXT, Step1Values(), metadata=METADATA)

    assert modal_problems(view) == []
    assert list(blocks_by_id(view)) == [ids.DELIVER_APPLICATION_BLOCK, ids.DELIVER_STATUS_BLOCK]
    last = view.to_dict()["blocks"][-1]
    assert last["type"] == "context"
    assert "Choose a status" in last["elements"][0]["text"]


def test_step1_status_select_dispatches_actions():
    status = blocks_by_id(step1_view(CONTEXT, Step1Values(), metadata=METADATA))[
        ids.DELIVER_STATUS_BLOCK
    ]

    assert status["dispatch_action"] is True
    assert status["element"]["type"] == "static_select"
    assert status["element"]["action_id"] == ids.DELIVER_STATUS_INPUT
    labels = [option["text"]["text"] for option in status["element"]["options"]]
    assert labels == [
        "Qualified",
        "Not Qualified",
        "Not Interested",
        "Review",
        "Spam",
        "Other",
    ]


EXPECTED_BRANCH_BLOCKS = {
    Status.QUALIFIED: [ids.DELIVER_RATING_BLOCK, ids.DELIVER_NOTES_BLOCK],
    Status.REVIEW: [ids.DELIVER_RATING_BLOCK, ids.DELIVER_NOTES_BLOCK],
    Status.NOT_QUALIFIED: [
        ids.DELIVER_REASON_NOT_QUALIFIED_BLOCK,
        ids.DELIVER_REASON_TEXT_BLOCK,
        ids.DELIVER_NOTES_BLOCK,
    ],
    Status.NOT_INTERESTED: [
        ids.DELIVER_REASON_NOT_INTERESTED_BLOCK,
        ids.DELIVER_REASON_TEXT_BLOCK,
        ids.DELIVER_NOTES_BLOCK,
    ],
    Status.SPAM: [ids.DELIVER_NOTES_BLOCK],
    Status.OTHER: [ids.DELIVER_NOTES_BLOCK],
}


@pytest.mark.parametrize("status", list(Status))
def test_step1_each_status_branch(status):
    view = step1_view(CONTEXT, Step1Values(status=status), metadata=METADATA)

    assert modal_problems(view) == []
    block_ids = list(blocks_by_id(view))
    assert block_ids[:2] == [ids.DELIVER_APPLICATION_BLOCK, ids.DELIVER_STATUS_BLOCK]
    assert block_ids[2:] == EXPECTED_BRANCH_BLOCKS[status]


@pytest.mark.parametrize("status", list(Status))
def test_step1_each_status_branch_without_contact(status):
    context = DeliverContext(contact=None)

    view = step1_view(context, Step1Values(status=status), metadata=METADATA)

    assert modal_problems(view) == []
    assert (
        list(blocks_by_id(view))[-len(EXPECTED_BRANCH_BLOCKS[status]) :]
        == (EXPECTED_BRANCH_BLOCKS[status])
    )


@pytest.mark.parametrize("status", [Status.QUALIFIED, Status.REVIEW])
def test_step1_rated_statuses_require_rating_and_notes(status):
    blocks = blocks_by_id(step1_view(CONTEXT, Step1Values(status=status), metadata=METADATA))

    rating = blocks[ids.DELIVER_RATING_BLOCK]
    assert rating.get("optional") is not True
    assert rating["element"]["type"] == "radio_buttons"
    texts = [option["text"]["text"] for option in rating["element"]["options"]]
    assert [option["value"] for option in rating["element"]["options"]] == ["5", "4", "3", "2", "1"]
    assert texts[0].startswith("★★★★★")
    assert texts[-1].startswith("★☆☆☆☆")
    assert blocks[ids.DELIVER_NOTES_BLOCK]["optional"] is False


@pytest.mark.parametrize("status", [Status.NOT_QUALIFIED, Status.NOT_INTERESTED])
def test_step1_negative_statuses_have_reason_list(status):
    blocks = blocks_by_id(step1_view(CONTEXT, Step1Values(status=status), metadata=METADATA))

    reason = blocks[REASON_BLOCKS[status]]
    values = [option["value"] for option in reason["element"]["options"]]
    assert tuple(values) == DEFAULT_REASONS[status]
    assert values[-1] == "Other"
    assert blocks[ids.DELIVER_REASON_TEXT_BLOCK]["optional"] is False
    assert blocks[ids.DELIVER_NOTES_BLOCK]["optional"] is True


def test_step1_reason_lists_differ_by_block_id():
    assert ids.DELIVER_REASON_NOT_QUALIFIED_BLOCK != ids.DELIVER_REASON_NOT_INTERESTED_BLOCK


@pytest.mark.parametrize(("status", "why"), [(Status.SPAM, "spam"), (Status.OTHER, "Other")])
def test_step1_notes_label_says_why(status, why):
    notes = blocks_by_id(step1_view(CONTEXT, Step1Values(status=status), metadata=METADATA))[
        ids.DELIVER_NOTES_BLOCK
    ]

    assert notes["optional"] is False
    assert notes["hint"]["text"].startswith("Required")
    assert why in notes["label"]["text"] + notes["hint"]["text"]


def test_step1_workspace_reasons_replace_defaults():
    context = DeliverContext(
        contact=CONTACT,
        applications=APPLICATIONS,
        reason_override={"not_qualified": ["No driving licence", "Too junior"]},
    )

    view = step1_view(context, Step1Values(status=Status.NOT_QUALIFIED), metadata=METADATA)

    reason = blocks_by_id(view)[ids.DELIVER_REASON_NOT_QUALIFIED_BLOCK]
    values = [option["value"] for option in reason["element"]["options"]]
    assert values == ["No driving licence", "Too junior", "Other"]
    assert modal_problems(view) == []


def test_step1_notes_block_id_same_in_every_branch():
    for status in Status:
        blocks = blocks_by_id(step1_view(CONTEXT, Step1Values(status=status), metadata=METADATA))
        notes = blocks[ids.DELIVER_NOTES_BLOCK]
        assert notes["element"]["action_id"] == ids.DELIVER_NOTES_INPUT
        assert notes["element"]["max_length"] == 3000


def test_step1_metadata_too_long_rejected():
    with pytest.raises(ValueError, match="ids only"):
        step1_view(CONTEXT, Step1Values(), metadata="x" * 3001)


# Application picker


def test_application_label_has_all_parts():
    label = application_label(
        ApplicationChoice(
            id=1,
            job_title="Data Engineer",
            job_location="London",
            source="linkedin",
            applied_at=datetime(2024, 3, 4, tzinfo=UTC),
        )
    )

    assert label == "Data Engineer · London · linkedin · 2024-03-04"


def test_application_label_skips_missing_parts():
    assert application_label(ApplicationChoice(id=1, job_title="Nurse")) == "Nurse"


def test_application_label_shortens_to_option_limit():
    long = ApplicationChoice(
        id=1,
        job_title="Senior Principal Staff Distributed Systems Data Platform Engineer " * 2,
        job_location="Greater London Metropolitan Area, United Kingdom",
        source="employee-referral-programme-2024",
        applied_at=datetime(2024, 3, 4, tzinfo=UTC),
    )

    label = application_label(long)

    assert len(label) <= 75
    assert label.endswith(" · 2024-03-04")
    assert label.startswith("Senior Principal")
    assert label.count(" · ") == 3


def test_application_label_collapses_line_breaks():
    label = application_label(ApplicationChoice(id=1, job_title="Data\nEngineer"))

    assert label == "Data Engineer"


def test_step1_static_picker_preselects_active():
    view = step1_view(CONTEXT, Step1Values(), metadata=METADATA)

    picker = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]
    element = picker["element"]
    assert picker["dispatch_action"] is True
    assert element["type"] == "static_select"
    assert element["initial_option"]["value"] == "app:2"
    groups = element["option_groups"]
    assert [option["value"] for option in groups[0]["options"]] == ["app:2", "app:1", "app:3"]
    assert [option["value"] for option in groups[1]["options"]] == ["new", "none"]
    first = groups[0]["options"][0]["text"]["text"]
    assert first == "Data Engineer 2 · London · linkedin · 2024-03-02"


def test_step1_picker_keeps_chosen_application():
    view = step1_view(CONTEXT, Step1Values(application="app:3"), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert element["initial_option"]["value"] == "app:3"


def test_step1_picker_without_applications():
    context = DeliverContext(contact=CONTACT)

    view = step1_view(context, Step1Values(), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert modal_problems(view) == []
    assert "initial_option" not in element
    assert [group["label"]["text"] for group in element["option_groups"]] == ["Or"]


def test_step1_100_applications_use_static_select():
    view = step1_view(many_applications(100, active=50), Step1Values(), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert modal_problems(view) == []
    assert element["type"] == "static_select"
    assert len(element["option_groups"][0]["options"]) == 100


def test_step1_over_100_applications_use_external_select():
    context = many_applications(101, active=77)

    view = step1_view(context, Step1Values(), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert modal_problems(view) == []
    assert element["type"] == "external_select"
    assert element["action_id"] == ids.DELIVER_APPLICATION_INPUT
    assert element["min_query_length"] == 0
    assert element["initial_option"]["value"] == "app:77"
    # Slack requires the initial option to match one the options request returns.
    loaded = [option.to_dict() for option in application_options(context.applications, "")]
    assert element["initial_option"] in loaded


def test_step1_external_select_keeps_special_choice():
    context = many_applications(150, active=1)

    view = step1_view(context, Step1Values(application="none"), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert element["initial_option"]["value"] == "none"
    loaded = [option.to_dict() for option in application_options(context.applications, "no app")]
    assert element["initial_option"] in loaded


def test_application_options_at_most_100_with_specials():
    context = many_applications(250, active=10)

    options = application_options(context.applications, "")

    assert len(options) == 100
    assert options[0].value == "app:10"
    assert [option.value for option in options[-2:]] == ["new", "none"]


def test_application_options_filter_ignores_case():
    applications = (
        application(1, job_title="Data Engineer"),
        application(2, job_title="Nurse", job_location="Leeds"),
        application(3, job_title="Senior DATA analyst"),
    )

    options = application_options(applications, "  data ")

    assert [option.value for option in options] == ["app:1", "app:3"]


def test_application_options_match_date_and_source():
    applications = (application(1), application(2, source="indeed"))

    assert [option.value for option in application_options(applications, "INDEED")] == ["app:2"]
    dated = application_options(applications, "2024-03-03")
    assert [option.value for option in dated] == ["app:1"]


def test_application_options_find_specials():
    options = application_options(APPLICATIONS, "new app")

    assert [option.value for option in options] == ["new"]


def test_application_options_no_match_is_empty():
    assert application_options(APPLICATIONS, "astronaut") == []


def test_step1_new_application_shows_job_inputs():
    view = step1_view(CONTEXT, Step1Values(application="new"), metadata=METADATA)

    blocks = blocks_by_id(view)
    assert modal_problems(view) == []
    assert blocks[ids.DELIVER_JOB_TITLE_BLOCK]["optional"] is False
    assert blocks[ids.DELIVER_JOB_LOCATION_BLOCK]["optional"] is True
    assert list(blocks).index(ids.DELIVER_JOB_TITLE_BLOCK) == 1


def test_step1_without_contact_shows_contact_inputs():
    view = step1_view(DeliverContext(contact=None), Step1Values(), metadata=METADATA)

    blocks = blocks_by_id(view)
    assert modal_problems(view) == []
    assert ids.DELIVER_APPLICATION_BLOCK not in blocks
    assert blocks[ids.DELIVER_CONTACT_NAME_BLOCK]["optional"] is False
    assert blocks[ids.DELIVER_CONTACT_EMAIL_BLOCK]["optional"] is True
    assert blocks[ids.DELIVER_CONTACT_PHONE_BLOCK]["optional"] is True
    assert blocks[ids.DELIVER_JOB_TITLE_BLOCK]["optional"] is True
    assert blocks[ids.DELIVER_JOB_LOCATION_BLOCK]["optional"] is True


def test_step1_contact_line_is_escaped():
    context = DeliverContext(contact=ContactFacts(name="<!channel> & co"))

    view = step1_view(context, Step1Values(), metadata=METADATA).to_dict()

    assert view["blocks"][0]["elements"][0]["text"] == "Contact: &lt;!channel&gt; &amp; co"


# Typed values across a rebuild


def test_read_step1_round_trips_every_field():
    values = Step1Values(
        application="new",
        job_title="Data Engineer",
        job_location="Leeds",
        status=Status.QUALIFIED,
        rating=4,
        notes="Strong SQL & <!channel>",
    )

    view = step1_view(CONTEXT, values, metadata=METADATA)

    assert read_step1(submitted_state(view)) == values


def test_read_step1_round_trips_new_contact():
    values = Step1Values(
        contact_name="Sam Roe",
        contact_email="sam@example.com",
        contact_phone="+44 20 7946 0958",
        job_title="Nurse",
        status=Status.NOT_INTERESTED,
        reason="Stopped responding",
        reason_text="No reply after three messages",
        notes="Try again in spring",
    )

    view = step1_view(DeliverContext(contact=None), values, metadata=METADATA)

    assert read_step1(submitted_state(view)) == values


def test_typed_values_survive_status_change():
    first = step1_view(
        CONTEXT,
        Step1Values(application="app:3", status=Status.QUALIFIED, rating=5, notes="Great fit"),
        metadata=METADATA,
    )
    state = submitted_state(first)
    state[ids.DELIVER_STATUS_BLOCK][ids.DELIVER_STATUS_INPUT]["selected_option"] = {
        "value": "review"
    }

    second = step1_view(CONTEXT, read_step1(state), metadata=METADATA)

    blocks = blocks_by_id(second)
    assert modal_problems(second) == []
    assert blocks[ids.DELIVER_STATUS_BLOCK]["element"]["initial_option"]["value"] == "review"
    assert blocks[ids.DELIVER_NOTES_BLOCK]["element"]["initial_value"] == "Great fit"
    assert blocks[ids.DELIVER_RATING_BLOCK]["element"]["initial_option"]["value"] == "5"
    assert blocks[ids.DELIVER_APPLICATION_BLOCK]["element"]["initial_option"]["value"] == "app:3"


def test_notes_survive_change_to_status_without_rating():
    first = step1_view(
        CONTEXT, Step1Values(status=Status.QUALIFIED, rating=3, notes="Keep me"), metadata=METADATA
    )
    state = submitted_state(first)
    state[ids.DELIVER_STATUS_BLOCK][ids.DELIVER_STATUS_INPUT]["selected_option"] = {"value": "spam"}

    second = step1_view(CONTEXT, read_step1(state), metadata=METADATA)

    blocks = blocks_by_id(second)
    assert ids.DELIVER_RATING_BLOCK not in blocks
    assert blocks[ids.DELIVER_NOTES_BLOCK]["element"]["initial_value"] == "Keep me"
    assert modal_problems(second) == []


def test_typed_values_survive_application_change():
    first = step1_view(
        CONTEXT,
        Step1Values(application="app:1", status=Status.SPAM, notes="Bot account"),
        metadata=METADATA,
    )
    state = submitted_state(first)
    state[ids.DELIVER_APPLICATION_BLOCK][ids.DELIVER_APPLICATION_INPUT]["selected_option"] = {
        "value": "new"
    }

    second = step1_view(CONTEXT, read_step1(state), metadata=METADATA)

    blocks = blocks_by_id(second)
    assert ids.DELIVER_JOB_TITLE_BLOCK in blocks
    assert blocks[ids.DELIVER_NOTES_BLOCK]["element"]["initial_value"] == "Bot account"
    assert blocks[ids.DELIVER_STATUS_BLOCK]["element"]["initial_option"]["value"] == "spam"


def test_shared_reason_survives_status_change():
    first = step1_view(
        CONTEXT,
        Step1Values(status=Status.NOT_QUALIFIED, reason="Other", reason_text="Odd case"),
        metadata=METADATA,
    )
    state = submitted_state(first)
    state[ids.DELIVER_STATUS_BLOCK][ids.DELIVER_STATUS_INPUT]["selected_option"] = {
        "value": "not_interested"
    }

    second = step1_view(CONTEXT, read_step1(state), metadata=METADATA)

    blocks = blocks_by_id(second)
    reason = blocks[ids.DELIVER_REASON_NOT_INTERESTED_BLOCK]["element"]
    assert reason["initial_option"]["value"] == "Other"
    assert blocks[ids.DELIVER_REASON_TEXT_BLOCK]["element"]["initial_value"] == "Odd case"
    assert modal_problems(second) == []


def test_reason_missing_from_new_list_is_not_preselected():
    values = Step1Values(status=Status.NOT_INTERESTED, reason="Not enough experience")

    view = step1_view(CONTEXT, values, metadata=METADATA)

    reason = blocks_by_id(view)[ids.DELIVER_REASON_NOT_INTERESTED_BLOCK]["element"]
    assert "initial_option" not in reason
    assert modal_problems(view) == []


def test_rating_outside_range_is_not_preselected():
    view = step1_view(CONTEXT, Step1Values(status=Status.QUALIFIED, rating=9), metadata=METADATA)

    rating = blocks_by_id(view)[ids.DELIVER_RATING_BLOCK]["element"]
    assert "initial_option" not in rating
    assert modal_problems(view) == []


def test_unknown_application_falls_back_to_active():
    view = step1_view(CONTEXT, Step1Values(application="app:999"), metadata=METADATA)

    element = blocks_by_id(view)[ids.DELIVER_APPLICATION_BLOCK]["element"]
    assert element["initial_option"]["value"] == "app:2"


# Readers


def test_read_step1_empty_state():
    assert read_step1({}) == Step1Values()


def test_read_step1_tolerates_odd_state():
    state = {
        ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: {"selected_option": None}},
        ids.DELIVER_NOTES_BLOCK: {ids.DELIVER_NOTES_INPUT: {"value": None}},
        ids.DELIVER_RATING_BLOCK: {ids.DELIVER_RATING_INPUT: {"selected_option": {"value": "--3"}}},
        ids.DELIVER_REASON_TEXT_BLOCK: "not a dict",
        ids.DELIVER_APPLICATION_BLOCK: {"other_action": {"selected_option": {"value": "app:1"}}},
    }

    assert read_step1(state) == Step1Values()


def test_read_step1_unknown_status_is_none():
    state = {
        ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: {"selected_option": {"value": "x"}}}
    }

    assert read_step1(state).status is None


def test_read_step1_strips_text():
    state = {ids.DELIVER_NOTES_BLOCK: {ids.DELIVER_NOTES_INPUT: {"value": "  hello \n"}}}

    assert read_step1(state).notes == "hello"


def test_step1_values_data_round_trip():
    values = Step1Values(application="app:2", status=Status.REVIEW, rating=3, notes="n")

    data = json.loads(json.dumps(values.to_data()))

    assert Step1Values.from_data({**data, "unknown": 1}) == values


def test_application_id_of_values():
    assert Step1Values(application="app:12").application_id == 12
    assert Step1Values(application="new").application_id is None
    assert Step1Values(application="app:x").application_id is None
    assert Step1Values().application_id is None


def test_read_step2_all_fields():
    state = {
        ids.DELIVER_USERS_BLOCK: {ids.DELIVER_USERS_INPUT: {"selected_users": ["U1", "U2"]}},
        ids.DELIVER_TEAMS_BLOCK: {
            ids.DELIVER_TEAMS_INPUT: {
                "selected_options": [{"value": "3"}, {"value": "bad"}, {"value": "7"}]
            }
        },
        ids.DELIVER_EMAILS_BLOCK: {ids.DELIVER_EMAILS_INPUT: {"value": " a@example.com "}},
    }

    assert read_step2(state) == Step2Values(
        user_ids=("U1", "U2"), team_ids=(3, 7), emails_text="a@example.com"
    )


def test_read_step2_missing_blocks():
    assert read_step2({}) == Step2Values()


# Step 1 validation


def valid_step1(**changes: Any) -> Step1Values:
    fields: dict[str, Any] = {
        "application": "app:2",
        "status": Status.QUALIFIED,
        "rating": 4,
        "notes": "Strong SQL",
    }
    fields.update(changes)
    return Step1Values(**fields)


def test_validate_step1_accepts_complete_values():
    assert validate_step1(valid_step1(), CONTEXT) == {}


def test_validate_step1_accepts_negative_without_notes():
    values = valid_step1(
        status=Status.NOT_QUALIFIED,
        rating=None,
        reason="Not enough experience",
        reason_text="Two years, role needs five",
        notes="",
    )

    assert validate_step1(values, CONTEXT) == {}


@pytest.mark.parametrize(
    ("changes", "block_id", "message"),
    [
        ({"status": None}, ids.DELIVER_STATUS_BLOCK, "Choose a status."),
        (
            {"application": None},
            ids.DELIVER_APPLICATION_BLOCK,
            "Choose an application, New application or No application.",
        ),
        (
            {"application": "app:999"},
            ids.DELIVER_APPLICATION_BLOCK,
            "That application is no longer on file. Choose another.",
        ),
        (
            {"application": "new"},
            ids.DELIVER_JOB_TITLE_BLOCK,
            "Enter the job title of the new application.",
        ),
        ({"rating": None}, ids.DELIVER_RATING_BLOCK, "Choose a rating from 1 to 5."),
        (
            {"rating": 7},
            ids.DELIVER_RATING_BLOCK,
            "A rating of 7 is outside 1 to 5. Choose 1 to 5 stars.",
        ),
        (
            {"rating": 0},
            ids.DELIVER_RATING_BLOCK,
            "A rating of 0 is outside 1 to 5. Choose 1 to 5 stars.",
        ),
        (
            {"notes": ""},
            ids.DELIVER_NOTES_BLOCK,
            "Notes are required for Qualified: say what makes the candidate a fit.",
        ),
        (
            {"notes": "x" * 3214},
            ids.DELIVER_NOTES_BLOCK,
            "Notes: 3,214 characters, over the limit of 3,000. Remove 214 characters.",
        ),
        (
            {"application": "new", "job_title": "x" * 151},
            ids.DELIVER_JOB_TITLE_BLOCK,
            "Job title: 151 characters, over the limit of 150. Remove 1 character.",
        ),
    ],
)
def test_validate_step1_error(changes, block_id, message):
    errors = validate_step1(valid_step1(**changes), CONTEXT)

    assert errors == {block_id: message}


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.REVIEW, "Notes are required for Review: say what the reviewer should check."),
        (Status.SPAM, "Notes are required for Spam: say why this is spam."),
        (Status.OTHER, "Notes are required for Other: say what happened."),
    ],
)
def test_validate_step1_notes_required_by_status(status, message):
    errors = validate_step1(valid_step1(status=status, notes=""), CONTEXT)

    assert errors == {ids.DELIVER_NOTES_BLOCK: message}


def test_validate_step1_negative_missing_reason_and_text():
    values = valid_step1(status=Status.NOT_INTERESTED, rating=None, notes="")

    errors = validate_step1(values, CONTEXT)

    assert errors == {
        ids.DELIVER_REASON_NOT_INTERESTED_BLOCK: "Choose a reason.",
        ids.DELIVER_REASON_TEXT_BLOCK: "Describe the reason in your own words.",
    }


def test_validate_step1_reason_not_in_list():
    values = valid_step1(
        status=Status.NOT_INTERESTED, reason="Not enough experience", reason_text="because"
    )

    errors = validate_step1(values, CONTEXT)

    assert errors == {
        ids.DELIVER_REASON_NOT_INTERESTED_BLOCK: (
            "'Not enough experience' is not a reason for Not Interested. Choose one from the list."
        )
    }


def test_validate_step1_reason_text_too_long():
    values = valid_step1(
        status=Status.NOT_QUALIFIED, reason="Other", reason_text="y" * 3001, notes=""
    )

    errors = validate_step1(values, CONTEXT)

    assert errors == {
        ids.DELIVER_REASON_TEXT_BLOCK: (
            "Reason in your words: 3,001 characters, over the limit of 3,000. Remove 1 character."
        )
    }


def test_validate_step1_optional_notes_too_long():
    values = valid_step1(
        status=Status.NOT_QUALIFIED, reason="Other", reason_text="why", notes="n" * 4000
    )

    errors = validate_step1(values, CONTEXT)

    assert errors[ids.DELIVER_NOTES_BLOCK].startswith("Notes: 4,000 characters")


def test_validate_step1_reports_every_problem_at_once():
    values = Step1Values(status=Status.QUALIFIED)

    errors = validate_step1(values, CONTEXT)

    assert set(errors) == {
        ids.DELIVER_APPLICATION_BLOCK,
        ids.DELIVER_RATING_BLOCK,
        ids.DELIVER_NOTES_BLOCK,
    }


def new_contact(**changes: Any) -> Step1Values:
    fields: dict[str, Any] = {
        "contact_name": "Sam Roe",
        "contact_email": "sam@example.com",
        "status": Status.SPAM,
        "notes": "Sells crypto",
    }
    fields.update(changes)
    return Step1Values(**fields)


NO_CONTACT = DeliverContext(contact=None)


def test_validate_new_contact_accepts_email_or_phone():
    assert validate_step1(new_contact(), NO_CONTACT) == {}
    assert (
        validate_step1(new_contact(contact_email="", contact_phone="020 7946 0958"), NO_CONTACT)
        == {}
    )


@pytest.mark.parametrize(
    ("changes", "block_id", "message"),
    [
        ({"contact_name": ""}, ids.DELIVER_CONTACT_NAME_BLOCK, "Enter the contact's name."),
        (
            {"contact_email": "", "contact_phone": ""},
            ids.DELIVER_CONTACT_EMAIL_BLOCK,
            "Enter an email address or a phone number, so the contact can be found again.",
        ),
        (
            {"contact_email": "bob@"},
            ids.DELIVER_CONTACT_EMAIL_BLOCK,
            "'bob@' is not a valid email address. Enter it as name@example.com.",
        ),
        (
            {"contact_phone": "12ab"},
            ids.DELIVER_CONTACT_PHONE_BLOCK,
            "'12ab' is not a valid phone number. Enter 7 to 15 digits, optionally after a +. "
            "Spaces, dots, dashes and brackets are allowed.",
        ),
        (
            {"job_location": "z" * 200},
            ids.DELIVER_JOB_LOCATION_BLOCK,
            "Job location: 200 characters, over the limit of 150. Remove 50 characters.",
        ),
    ],
)
def test_validate_new_contact_error(changes, block_id, message):
    errors = validate_step1(new_contact(**changes), NO_CONTACT)

    assert errors == {block_id: message}


def test_validate_new_contact_ignores_application_choice():
    assert validate_step1(new_contact(application=None), NO_CONTACT) == {}


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Sam@Example.COM", "sam@example.com"),
        (" sam.roe+jobs@mail.example.co.uk ", "sam.roe+jobs@mail.example.co.uk"),
        ("bob@", None),
        ("bob@example", None),
        ("bob example.com", None),
        ("@example.com", None),
        ("a@b@example.com", None),
        # Quotes, comments and control characters would give one mailbox two spellings.
        ('"ann"@example.com', None),
        ("(cc)x@client.example", None),
        ("a\x00b@example.com", None),
        ("a..b@example.com", None),
        ("o'neil@example.com", "o'neil@example.com"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
        ("x" * 65 + "@example.com", None),
        ("x@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 63 + "." + "g" * 61, None),
    ],
)
def test_normalize_email(typed, normalized):
    assert normalize_email(typed) == normalized


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("(020) 7946-0958", "02079460958"),
        ("020.7946.0958", "02079460958"),
        ("12345", None),
        ("12ab3456789", None),
        ("1234567890123456", None),
        ("44+2079460958", None),
    ],
)
def test_normalize_phone(typed, normalized):
    assert normalize_phone(typed) == normalized


# Step 2


def test_parse_email_list_separators():
    emails = parse_email_list("a@example.com, b@example.com;c@example.com\n d@example.com\te@x.io")

    assert emails.valid == (
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@x.io",
    )
    assert emails.invalid == ()


def test_parse_email_list_drops_repeats_of_any_case():
    emails = parse_email_list("Sam@Example.com, sam@example.com; SAM@EXAMPLE.COM bob@, BOB@")

    assert emails.valid == ("sam@example.com",)
    assert emails.invalid == ("bob@",)


def test_parse_email_list_collects_invalid_as_typed():
    emails = parse_email_list("ok@example.com, Bob@, not-an-address ,, ;")

    assert emails.valid == ("ok@example.com",)
    assert emails.invalid == ("Bob@", "not-an-address")


def test_parse_email_list_strips_angle_brackets():
    assert parse_email_list("<sam@example.com>").valid == ("sam@example.com",)


@pytest.mark.parametrize("text", ["", "  ", ",;, ;"])
def test_parse_email_list_empty(text):
    emails = parse_email_list(text)

    assert emails.valid == ()
    assert emails.invalid == ()


@pytest.mark.parametrize("status", [Status.QUALIFIED, Status.REVIEW])
def test_validate_step2_requires_recipient(status):
    errors = validate_step2(Step2Values(), status=status)

    assert errors == {
        ids.DELIVER_USERS_BLOCK: (
            f"Deliveries marked {status.label} need a recipient. "
            "Choose a Slack user or a team, or enter an email address."
        )
    }


@pytest.mark.parametrize(
    "status", [Status.NOT_QUALIFIED, Status.NOT_INTERESTED, Status.SPAM, Status.OTHER]
)
def test_validate_step2_recipient_optional(status):
    assert validate_step2(Step2Values(), status=status) == {}


@pytest.mark.parametrize(
    "values",
    [
        Step2Values(user_ids=("U1",)),
        Step2Values(team_ids=(3,)),
        Step2Values(emails_text="sam@example.com"),
    ],
)
def test_validate_step2_any_recipient_kind_counts(values):
    assert validate_step2(values, status=Status.QUALIFIED) == {}


def test_validate_step2_override_rule():
    assert validate_step2(Step2Values(), status=Status.SPAM, required_override={"spam": True})
    assert (
        validate_step2(
            Step2Values(), status=Status.QUALIFIED, required_override={"qualified": False}
        )
        == {}
    )


def test_validate_step2_invalid_email_named():
    errors = validate_step2(Step2Values(emails_text="bob@"), status=Status.SPAM)

    assert errors == {
        ids.DELIVER_EMAILS_BLOCK: "'bob@' is not a valid email address. Correct it or remove it."
    }


def test_validate_step2_invalid_emails_listed():
    values = Step2Values(user_ids=("U1",), emails_text="a@, b@, ok@example.com, c@")

    errors = validate_step2(values, status=Status.QUALIFIED)

    assert errors == {
        ids.DELIVER_EMAILS_BLOCK: (
            "These are not valid email addresses: 'a@', 'b@', 'c@'. Correct them or remove them."
        )
    }


def test_validate_step2_many_invalid_emails_counted():
    values = Step2Values(emails_text=" ".join(f"bad{n}@" for n in range(8)))

    message = validate_step2(values, status=Status.SPAM)[ids.DELIVER_EMAILS_BLOCK]

    assert "'bad4@' and 3 more." in message


def test_validate_step2_invalid_emails_not_recipients():
    errors = validate_step2(Step2Values(emails_text="bob@"), status=Status.QUALIFIED)

    assert set(errors) == {ids.DELIVER_EMAILS_BLOCK, ids.DELIVER_USERS_BLOCK}


SUMMARY = Step1Summary(
    contact_name="Jane Doe",
    application="Data Engineer · London · linkedin · 2024-03-02",
    status=Status.QUALIFIED,
    rating=4,
    notes="Strong SQL",
)
TEAMS = [TeamChoice(id=1, name="Sales"), TeamChoice(id=2, name="Engineering hiring")]


def test_step2_chrome_and_blocks():
    view = step2_view(SUMMARY, TEAMS, metadata=METADATA)

    data = view.to_dict()
    assert modal_problems(view) == []
    assert data["callback_id"] == ids.DELIVER_RECIPIENTS_MODAL
    assert data["submit"]["text"] == "Deliver"
    assert data["close"]["text"] == "Back"
    assert data["private_metadata"] == METADATA
    blocks = blocks_by_id(view)
    assert list(blocks) == [
        ids.DELIVER_USERS_BLOCK,
        ids.DELIVER_TEAMS_BLOCK,
        ids.DELIVER_EMAILS_BLOCK,
    ]
    assert all(block["optional"] is True for block in blocks.values())
    assert blocks[ids.DELIVER_USERS_BLOCK]["element"]["type"] == "multi_users_select"
    assert blocks[ids.DELIVER_TEAMS_BLOCK]["element"]["type"] == "multi_static_select"
    assert blocks[ids.DELIVER_EMAILS_BLOCK]["element"]["type"] == "plain_text_input"


def test_step2_without_teams_omits_block():
    view = step2_view(SUMMARY, [], metadata=METADATA)

    assert modal_problems(view) == []
    assert ids.DELIVER_TEAMS_BLOCK not in blocks_by_id(view)


def test_step2_many_teams_grouped():
    teams = [TeamChoice(id=n, name=f"Team {n}") for n in range(1, 251)]

    view = step2_view(SUMMARY, teams, metadata=METADATA, values=Step2Values(team_ids=(250,)))

    element = blocks_by_id(view)[ids.DELIVER_TEAMS_BLOCK]["element"]
    assert modal_problems(view) == []
    assert [len(group["options"]) for group in element["option_groups"]] == [100, 100, 50]
    assert element["initial_options"][0]["value"] == "250"


def test_step2_keeps_values():
    values = Step2Values(user_ids=("U1", "U2"), team_ids=(2, 99), emails_text="a@example.com")

    view = step2_view(SUMMARY, TEAMS, metadata=METADATA, values=values)

    assert modal_problems(view) == []
    assert read_step2(submitted_state(view)) == Step2Values(
        user_ids=("U1", "U2"), team_ids=(2,), emails_text="a@example.com"
    )


def test_step2_summary_lists_step1():
    summary = Step1Summary(
        contact_name="Jane <!channel>",
        application="No application",
        status=Status.NOT_QUALIFIED,
        reason="Other",
        reason_text="Needs <@U1> & visa",
        notes="Call back",
    )

    view = step2_view(summary, TEAMS, metadata=METADATA).to_dict()

    main = view["blocks"][0]["text"]["text"]
    assert "*Contact:* Jane &lt;!channel&gt;" in main
    assert "*Application:* No application" in main
    assert "*Status:* Not Qualified" in main
    assert "*Reason:* Other" in main
    assert "Needs &lt;@U1&gt; &amp; visa" in main
    assert view["blocks"][1]["text"]["text"] == "*Notes:* Call back"


def test_step2_summary_shows_stars():
    main = step2_view(SUMMARY, TEAMS, metadata=METADATA).to_dict()["blocks"][0]["text"]["text"]

    assert "*Status:* Qualified  ★★★★☆" in main


def test_step2_summary_shortens_notes():
    summary = Step1Summary(
        contact_name="Jane", application="x", status=Status.SPAM, notes="word " * 400
    )

    notes = step2_view(summary, [], metadata=METADATA).to_dict()["blocks"][1]["text"]["text"]

    assert notes.endswith("…")
    assert len(notes) <= len("*Notes:* ") + 300


def test_step2_summary_worst_case_valid():
    summary = Step1Summary(
        contact_name="&" * 150,
        application="&" * 500,
        status=Status.NOT_QUALIFIED,
        reason="&" * 75,
        reason_text="&" * 3000,
        notes="&" * 3000,
    )

    assert modal_problems(step2_view(summary, TEAMS, metadata=METADATA)) == []


def test_summarize_step1_application_on_file():
    summary = summarize_step1(CONTEXT, valid_step1())

    assert summary == Step1Summary(
        contact_name="Jane Doe",
        application="Data Engineer 2 · London · linkedin · 2024-03-02",
        status=Status.QUALIFIED,
        rating=4,
        notes="Strong SQL",
    )


def test_summarize_step1_new_application():
    values = valid_step1(application="new", job_title="Nurse", job_location="Leeds")

    assert summarize_step1(CONTEXT, values).application == "Nurse · Leeds (new)"


def test_summarize_step1_no_application():
    assert summarize_step1(CONTEXT, valid_step1(application="none")).application == (
        "No application"
    )


def test_summarize_step1_new_contact():
    values = new_contact(job_title="Nurse")

    summary = summarize_step1(NO_CONTACT, values)

    assert summary.contact_name == "Sam Roe"
    assert summary.application == "Nurse (new)"


def test_summarize_step1_drops_fields_of_other_branches():
    values = valid_step1(status=Status.SPAM, reason="Other", reason_text="left over")

    summary = summarize_step1(CONTEXT, values)

    assert summary.rating is None
    assert summary.reason is None
    assert summary.reason_text == ""


def test_summarize_step1_without_status_raises():
    with pytest.raises(ValueError, match="no status"):
        summarize_step1(CONTEXT, Step1Values())


# Cards


@pytest.mark.parametrize("status", list(Status))
def test_delivery_card_each_status_valid(status):
    card = delivery_card(
        facts(
            status=status,
            rating=4 if status.rating_required else None,
            reason="Other" if status.has_reason else None,
            reason_text="Because" if status.has_reason else "",
        )
    )

    assert card_problems(card) == []
    assert status.label in card_text(card)
    assert card.text.startswith(f"Delivered as {status.label}")


def test_delivery_card_content():
    card = delivery_card(
        facts(
            recipients=(
                Recipient("user", "U0RECRUIT"),
                Recipient("team", "Sales"),
                Recipient("email", "pat@example.com"),
            )
        )
    )

    text = card_text(card)
    assert "*Delivered: Qualified*  ★★★★☆" in text
    assert "*Application:* Data Engineer 2 · London · linkedin" in text
    assert "Strong SQL, wants hybrid work." in text
    assert (
        "Delivered by <@U0AGENT> to <@U0RECRUIT>, the Sales team and pat@example.com on "
        "<!date^1709544600^{date_short_pretty} at {time}|2024-03-04 09:30 UTC>." in text
    )
    assert card.text == "Delivered as Qualified, 4 of 5 stars, to 3 recipients"


def test_delivery_card_without_recipients():
    card = delivery_card(facts(status=Status.SPAM, rating=None, recipients=()))

    assert "Recorded by <@U0AGENT> on <!date^" in card_text(card)
    assert card.text == "Delivered as Spam"


def test_delivery_card_names_previous_delivery():
    previous = PreviousDelivery(
        status=Status.QUALIFIED, delivered_by="U0FIRST", delivered_at=WHEN - timedelta(days=2)
    )

    card = delivery_card(facts(previous=previous))

    last = card.blocks[-1].to_dict()
    assert last["type"] == "context"
    assert last["elements"][0]["text"] == (
        "Delivered again. Before: Qualified by <@U0FIRST> on "
        "<!date^1709371800^{date_short_pretty} at {time}|2024-03-02 09:30 UTC>."
    )
    assert card_problems(card) == []


def test_delivery_card_reason_and_reason_text():
    card = delivery_card(
        facts(
            status=Status.NOT_INTERESTED,
            rating=None,
            reason="Accepted another offer",
            reason_text="Joined a competitor",
        )
    )

    text = card_text(card)
    assert "*Reason:* Accepted another offer" in text
    assert "Joined a competitor" in text
    assert "★" not in text


def test_delivery_card_escapes_mentions_in_notes():
    card = delivery_card(facts(notes="Ping <!channel> and <@U1> & <!here>", reason_text="<@U2>"))

    text = card_text(card)
    assert "&lt;!channel&gt;" in text
    assert "&lt;@U1&gt;" in text
    assert "&amp;" in text
    assert "&lt;!here&gt;" in text
    assert "<!channel>" not in text
    assert "<@U1>" not in text
    assert "<@U2>" not in text


@pytest.mark.parametrize("unit", ["&", "<", ">", "&<>", "& <\n>"])
def test_delivery_card_3000_character_notes_valid(unit):
    notes = (unit * 3000)[:3000]
    card = delivery_card(facts(notes=notes, reason_text=notes, status=Status.NOT_QUALIFIED))

    blocks = [block.to_dict() for block in card.blocks]
    assert card_problems(card) == []
    assert len(blocks) <= 50
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert len(sections) > 3


def test_delivery_card_notes_split_keeps_all_text():
    notes = "&<>" * 1000

    card = delivery_card(facts(notes=notes))

    sections = [block.to_dict()["text"]["text"] for block in card.blocks]
    notes_sections = sections[1:-1]
    joined = "".join(notes_sections).removeprefix("*Notes*\n")
    assert joined == "&amp;&lt;&gt;" * 1000


def test_delivery_card_many_recipients_valid():
    recipients = tuple(Recipient("email", f"{'&' * 50}{n}@example.com") for n in range(200))

    card = delivery_card(facts(recipients=recipients))

    assert card_problems(card) == []
    assert " more on <!date^" in card_text(card)


def test_delivery_card_escapes_recipient_names():
    card = delivery_card(facts(recipients=(Recipient("team", "<!channel> crew"),)))

    assert "the &lt;!channel&gt; crew team" in card_text(card)


def test_delivery_card_escapes_bad_user_id():
    card = delivery_card(facts(delivered_by="<!channel>"))

    assert "Delivered by &lt;!channel&gt;" in card_text(card)


def test_handoff_card_content():
    card = handoff_card(
        facts(),
        recipient_id=17,
        permalink="https://acme.slack.com/archives/C1/p1709544600000100?thread_ts=1&cid=C1",
    )

    blocks = [block.to_dict() for block in card.blocks]
    assert card_problems(card) == []
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Hand-off: Jane Doe", "emoji": True},
    }
    fields = [field["text"] for field in blocks[1]["fields"]]
    assert fields == [
        "*Email*\njane@example.com",
        "*Phone*\n+442079460958",
        "*Application*\nData Engineer 2",
        "*Location*\nLondon",
        "*Source*\nlinkedin",
    ]
    text = card_text(card)
    assert "*Qualified*  ★★★★☆" in text
    assert "Strong SQL, wants hybrid work." in text
    assert "Delivered by <@U0AGENT> on <!date^1709544600^" in text
    assert (
        "<https://acme.slack.com/archives/C1/p1709544600000100?thread_ts=1&amp;cid=C1"
        "|View the thread>" in text
    )
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == ids.DELIVER_ACCEPT
    assert button["value"] == "17"
    assert button["text"]["text"] == "Accept"
    assert card.text == "Hand-off: Jane Doe, Qualified"


def test_handoff_card_accepted_has_no_button():
    card = handoff_card(
        facts(), recipient_id=17, permalink=None, accepted_by="U0RECRUIT", accepted_at=WHEN
    )

    blocks = [block.to_dict() for block in card.blocks]
    assert card_problems(card) == []
    assert all(block["type"] != "actions" for block in blocks)
    assert blocks[-1]["text"]["text"] == (
        "Accepted by <@U0RECRUIT> at "
        "<!date^1709544600^{time} on {date_short_pretty}|2024-03-04 09:30 UTC>."
    )
    assert "View the thread" not in card_text(card)
    assert card.text == "Hand-off: Jane Doe, Qualified (accepted)"


def test_handoff_card_for_team_names_team():
    card = handoff_card(
        facts(),
        recipient_id=5,
        permalink=None,
        accepted_by="U0RECRUIT",
        accepted_at=WHEN,
        team_name="Sales & Ops",
    )

    text = card_text(card)
    assert "Delivered by <@U0AGENT> to the Sales &amp; Ops team on" in text
    assert "Accepted by <@U0RECRUIT> for the Sales &amp; Ops team at <!date^" in text


def test_handoff_card_without_contact_or_application():
    card = handoff_card(
        facts(contact=None, application=None, status=Status.REVIEW),
        recipient_id=1,
        permalink=None,
    )

    blocks = [block.to_dict() for block in card.blocks]
    assert card_problems(card) == []
    assert blocks[0]["text"]["text"] == "Hand-off"
    assert blocks[1]["text"]["text"].startswith("*Review*")
    assert card.text == "Hand-off: a candidate, Review"


def test_handoff_card_escapes_contact_text():
    contact = ContactFacts(name="<!channel> Jane", email="<@U1>@x.com", phone=None)

    card = handoff_card(facts(contact=contact), recipient_id=1, permalink=None)

    text = card_text(card)
    assert "<!channel>" not in card.text
    assert card.text == "Hand-off: &lt;!channel&gt; Jane, Qualified"
    assert "*Email*\\n&lt;@U1&gt;@x.com" in text
    # A header is plain_text, which Slack never parses for mentions.
    assert card.blocks[0].to_dict()["text"]["type"] == "plain_text"


def test_handoff_card_worst_case_fits():
    long_text = "&" * 3000
    contact = ContactFacts(name="&" * 500, email="&" * 500, phone="&" * 500)
    big_application = ApplicationChoice(
        id=1, job_title="&" * 500, job_location="&" * 500, source="&" * 500
    )

    card = handoff_card(
        facts(
            status=Status.NOT_QUALIFIED,
            reason="&" * 75,
            reason_text=long_text,
            notes=long_text,
            contact=contact,
            application=big_application,
        ),
        recipient_id=1,
        permalink="https://acme.slack.com/archives/C1/p1",
        team_name="&" * 80,
    )

    assert card_problems(card) == []
    assert len(card.blocks) <= 50
