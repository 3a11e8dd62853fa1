"""Tests of the double's Block Kit validation, each limit just under and just over."""

import pytest

from bot.slackdouble import limits
from bot.slackdouble.validation import HOME, MODAL, message_block_problems, view_problems


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def section(text: str = "hello", **fields) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **fields}


def option(text: str = "One", value: str = "one", **fields) -> dict:
    return {"text": plain(text), "value": value, **fields}


def static_select(options: list[dict] | None = None, **fields) -> dict:
    element = {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick")}
    if options is not None:
        element["options"] = options
    return {**element, **fields}


def actions(*elements: dict, **fields) -> dict:
    return {"type": "actions", "elements": list(elements), **fields}


def input_block(element: dict, block_id: str = "input") -> dict:
    return {"type": "input", "block_id": block_id, "label": plain("Label"), "element": element}


def modal(blocks: list[dict] | None = None, **fields) -> dict:
    view = {"type": "modal", "title": plain("Title"), "blocks": blocks or [section()]}
    view.update(fields)
    return view


def test_valid_message_blocks_pass():
    blocks = [
        {"type": "header", "text": plain("Header")},
        section("Body", accessory={"type": "button", "text": plain("Go"), "action_id": "go"}),
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "context"}]},
        actions(
            static_select([option()]), {"type": "button", "text": plain("B"), "action_id": "b"}
        ),
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "r"}]}
            ],
        },
    ]

    assert message_block_problems(blocks) == []


@pytest.mark.parametrize(
    ("count", "accepted"),
    [(limits.MESSAGE_MAX_BLOCKS, True), (limits.MESSAGE_MAX_BLOCKS + 1, False)],
)
def test_message_block_count_limit(count, accepted):
    problems = message_block_problems([{"type": "divider"}] * count)

    assert (problems == []) is accepted
    if not accepted:
        assert problems == ["no more than 50 items allowed [json-pointer:/blocks]"]


@pytest.mark.parametrize(
    ("count", "accepted"), [(limits.VIEW_MAX_BLOCKS, True), (limits.VIEW_MAX_BLOCKS + 1, False)]
)
def test_view_block_count_limit(count, accepted):
    problems = view_problems(modal([{"type": "divider"}] * count), view_type=MODAL)

    assert (problems == []) is accepted


def test_section_text_limit_uses_slack_wording():
    at_limit = section("x" * limits.SECTION_TEXT_MAX_LENGTH)
    over_limit = section("x" * (limits.SECTION_TEXT_MAX_LENGTH + 1))

    assert message_block_problems([at_limit]) == []
    assert message_block_problems([over_limit]) == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(limits.HEADER_TEXT_MAX_LENGTH, True), (limits.HEADER_TEXT_MAX_LENGTH + 1, False)],
)
def test_header_text_limit(length, accepted):
    problems = message_block_problems([{"type": "header", "text": plain("h" * length)}])

    assert (problems == []) is accepted


def test_header_rejects_mrkdwn():
    problems = message_block_problems([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}])

    assert problems == ["must be one of: plain_text [json-pointer:/blocks/0/text/type]"]


def test_empty_text_is_rejected():
    problems = message_block_problems([section("")])

    assert problems == ["must be more than 0 characters [json-pointer:/blocks/0/text/text]"]


@pytest.mark.parametrize(
    ("field", "max_length"),
    [
        ("title", limits.VIEW_TITLE_MAX_LENGTH),
        ("submit", limits.VIEW_BUTTON_MAX_LENGTH),
        ("close", limits.VIEW_BUTTON_MAX_LENGTH),
    ],
)
def test_modal_chrome_text_limits(field, max_length):
    at_limit = modal(**{field: plain("t" * max_length)})
    over_limit = modal(**{field: plain("t" * (max_length + 1))})

    assert view_problems(at_limit, view_type=MODAL) == []
    assert view_problems(over_limit, view_type=MODAL) == [
        f"must be less than {max_length + 1} characters [json-pointer:/view/{field}/text]"
    ]


def test_modal_needs_plain_text_title():
    view = modal(title={"type": "mrkdwn", "text": "Title"})

    assert view_problems(view, view_type=MODAL) == [
        "must be one of: plain_text [json-pointer:/view/title/type]"
    ]


def test_modal_without_title_is_rejected():
    view = modal()
    del view["title"]

    assert view_problems(view, view_type=MODAL) == [
        "missing required field: title [json-pointer:/view]"
    ]


@pytest.mark.parametrize(
    ("field", "max_length"),
    [
        ("private_metadata", limits.PRIVATE_METADATA_MAX_LENGTH),
        ("callback_id", limits.CALLBACK_ID_MAX_LENGTH),
        ("external_id", limits.EXTERNAL_ID_MAX_LENGTH),
    ],
)
def test_view_string_limits(field, max_length):
    at_limit = modal(**{field: "m" * max_length})
    over_limit = modal(**{field: "m" * (max_length + 1)})

    assert view_problems(at_limit, view_type=MODAL) == []
    assert view_problems(over_limit, view_type=MODAL) == [
        f"must be less than {max_length + 1} characters [json-pointer:/view/{field}]"
    ]


def test_view_type_must_match_the_method():
    assert view_problems(modal(), view_type=HOME) == ["must be home [json-pointer:/view/type]"]
    home = {"type": "home", "blocks": [section()]}
    assert view_problems(home, view_type=MODAL) == ["must be modal [json-pointer:/view/type]"]
    assert view_problems(home, view_type=HOME) == []


def test_view_must_be_an_object():
    assert view_problems("modal", view_type=MODAL) == [
        "failed to match all allowed schemas [json-pointer:/view]"
    ]


def test_modal_with_input_needs_submit():
    blocks = [input_block({"type": "plain_text_input", "action_id": "text"})]

    without_submit = view_problems(modal(blocks), view_type=MODAL)
    with_submit = view_problems(modal(blocks, submit=plain("Save")), view_type=MODAL)

    assert without_submit == [
        "must provide submit when the view contains input blocks [json-pointer:/view]"
    ]
    assert with_submit == []


def test_home_tab_cannot_have_submit():
    home = {"type": "home", "blocks": [section()], "submit": plain("Save")}

    assert view_problems(home, view_type=HOME) == [
        "home view cannot have submit and close [json-pointer:/view]"
    ]


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(limits.BLOCK_ID_MAX_LENGTH, True), (limits.BLOCK_ID_MAX_LENGTH + 1, False)],
)
def test_block_id_length_limit(length, accepted):
    problems = message_block_problems([section(block_id="b" * length)])

    assert (problems == []) is accepted


def test_empty_block_id_is_rejected():
    problems = message_block_problems([section(block_id="")])

    assert problems == ["must be more than 0 characters [json-pointer:/blocks/0/block_id]"]


def test_duplicate_block_id_in_message_is_rejected():
    problems = message_block_problems([section(block_id="same"), section(block_id="same")])

    assert problems == ["duplicate block_id: same [json-pointer:/blocks/1/block_id]"]


def test_duplicate_block_id_in_view_is_rejected():
    blocks = [section(block_id="same"), {"type": "divider", "block_id": "same"}]

    problems = view_problems(modal(blocks), view_type=MODAL)

    assert problems == ["duplicate block_id: same [json-pointer:/view/blocks/1/block_id]"]


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(limits.ACTION_ID_MAX_LENGTH, True), (limits.ACTION_ID_MAX_LENGTH + 1, False)],
)
def test_action_id_length_limit(length, accepted):
    button = {"type": "button", "text": plain("Go"), "action_id": "a" * length}

    problems = message_block_problems([actions(button)])

    assert (problems == []) is accepted


def test_duplicate_action_id_within_block_is_rejected():
    button = {"type": "button", "text": plain("Go"), "action_id": "go"}

    problems = message_block_problems([actions(button, dict(button))])

    assert problems == ["duplicate action_id: go [json-pointer:/blocks/0/elements/1/action_id]"]


def test_same_action_id_in_two_blocks_is_accepted():
    # Slack scopes action_id uniqueness to the containing block, so lists of rows that each
    # carry the same button are valid.
    button = {"type": "button", "text": plain("Open"), "action_id": "open"}

    problems = message_block_problems([section(accessory=button), section(accessory=dict(button))])

    assert problems == []


@pytest.mark.parametrize(
    ("count", "accepted"),
    [(limits.SELECT_MAX_OPTIONS, True), (limits.SELECT_MAX_OPTIONS + 1, False)],
)
def test_select_option_count_limit(count, accepted):
    options = [option(f"Option {i}", f"value-{i}") for i in range(count)]

    problems = message_block_problems([actions(static_select(options))])

    assert (problems == []) is accepted
    if not accepted:
        assert problems == ["no more than 100 items allowed [json-pointer:/blocks/0/elements/0]"]


@pytest.mark.parametrize(
    ("groups", "per_group", "accepted"),
    [
        (limits.SELECT_MAX_OPTION_GROUPS, 1, True),
        (limits.SELECT_MAX_OPTION_GROUPS + 1, 1, False),
        (1, limits.OPTION_GROUP_MAX_OPTIONS, True),
        (1, limits.OPTION_GROUP_MAX_OPTIONS + 1, False),
    ],
)
def test_option_group_limits(groups, per_group, accepted):
    option_groups = [
        {
            "label": plain(f"Group {g}"),
            "options": [option(f"O {g}-{i}", f"v-{g}-{i}") for i in range(per_group)],
        }
        for g in range(groups)
    ]

    problems = message_block_problems([actions(static_select(option_groups=option_groups))])

    assert (problems == []) is accepted


def test_option_group_label_limit():
    def groups(label: str) -> list[dict]:
        return [{"label": plain(label), "options": [option()]}]

    at_limit = static_select(option_groups=groups("g" * limits.OPTION_GROUP_LABEL_MAX_LENGTH))
    over_limit = static_select(
        option_groups=groups("g" * (limits.OPTION_GROUP_LABEL_MAX_LENGTH + 1))
    )

    assert message_block_problems([actions(at_limit)]) == []
    assert message_block_problems([actions(over_limit)]) == [
        "must be less than 76 characters "
        "[json-pointer:/blocks/0/elements/0/option_groups/0/label/text]"
    ]


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("text", "t" * limits.OPTION_TEXT_MAX_LENGTH, True),
        ("text", "t" * (limits.OPTION_TEXT_MAX_LENGTH + 1), False),
        ("value", "v" * limits.OPTION_VALUE_MAX_LENGTH, True),
        ("value", "v" * (limits.OPTION_VALUE_MAX_LENGTH + 1), False),
        ("description", "d" * limits.OPTION_DESCRIPTION_MAX_LENGTH, True),
        ("description", "d" * (limits.OPTION_DESCRIPTION_MAX_LENGTH + 1), False),
    ],
)
def test_option_field_limits(field, value, accepted):
    fields = {"text": plain("One"), "value": "one"}
    fields[field] = value if field == "value" else plain(value)

    problems = message_block_problems([actions(static_select([fields]))])

    assert (problems == []) is accepted


def test_select_option_text_must_be_plain():
    mrkdwn_option = {"text": {"type": "mrkdwn", "text": "*One*"}, "value": "one"}

    problems = message_block_problems([actions(static_select([mrkdwn_option]))])

    assert problems == [
        "must be one of: plain_text [json-pointer:/blocks/0/elements/0/options/0/text/type]"
    ]


def test_checkbox_option_text_may_be_mrkdwn():
    checkboxes = {
        "type": "checkboxes",
        "action_id": "check",
        "options": [{"text": {"type": "mrkdwn", "text": "*One*"}, "value": "one"}],
    }

    assert message_block_problems([actions(checkboxes)]) == []


def test_initial_option_must_be_one_of_the_options():
    options = [option("One", "one"), option("Two", "two")]
    matching = static_select(options, initial_option=option("Two", "two"))
    different_value = static_select(options, initial_option=option("Two", "three"))

    assert message_block_problems([actions(matching)]) == []
    assert message_block_problems([actions(different_value)]) == [
        "must exactly match one of the options [json-pointer:/blocks/0/elements/0/initial_option]"
    ]


def test_initial_option_may_come_from_an_option_group():
    groups = [{"label": plain("G"), "options": [option("One", "one")]}]
    element = static_select(option_groups=groups, initial_option=option("One", "one"))

    assert message_block_problems([actions(element)]) == []


def test_initial_options_must_each_be_an_option():
    options = [option("One", "one"), option("Two", "two")]
    element = {
        "type": "multi_static_select",
        "action_id": "many",
        "placeholder": plain("Pick"),
        "options": options,
        "initial_options": [option("One", "one"), option("Nine", "nine")],
    }

    problems = message_block_problems([actions(element)])

    assert problems == [
        "must exactly match one of the options "
        "[json-pointer:/blocks/0/elements/0/initial_options/1]"
    ]


def test_checkbox_initial_options_are_checked():
    element = {
        "type": "checkboxes",
        "action_id": "check",
        "options": [option("One", "one")],
        "initial_options": [option("One", "two")],
    }

    problems = message_block_problems([actions(element)])

    assert problems == [
        "must exactly match one of the options "
        "[json-pointer:/blocks/0/elements/0/initial_options/0]"
    ]


def test_plain_text_input_block_is_accepted_in_message():
    # Slack has allowed input blocks in messages since April 2021; only some elements are
    # limited to modals.
    block = input_block({"type": "plain_text_input", "action_id": "text"})

    assert message_block_problems([block]) == []


@pytest.mark.parametrize(
    "element_type", ["email_text_input", "number_input", "url_text_input", "file_input"]
)
def test_modal_only_elements_are_rejected_in_message(element_type):
    element = {"type": element_type, "action_id": "field"}
    if element_type == "number_input":
        element["is_decimal_allowed"] = False

    in_message = message_block_problems([input_block(element)])
    in_modal = view_problems(modal([input_block(element)], submit=plain("Save")), view_type=MODAL)

    assert in_message == [
        f"unsupported type: {element_type} is not available in a message "
        "[json-pointer:/blocks/0/element/type]"
    ]
    assert in_modal == []


def test_rich_text_input_is_accepted_in_home_not_message():
    block = input_block({"type": "rich_text_input", "action_id": "rich"})

    assert message_block_problems([block]) != []
    assert view_problems({"type": "home", "blocks": [block]}, view_type=HOME) == []


def test_input_element_in_actions_block_is_rejected():
    problems = message_block_problems([actions({"type": "plain_text_input", "action_id": "t"})])

    assert problems == [
        "unsupported type: plain_text_input [json-pointer:/blocks/0/elements/0/type]"
    ]


def test_unknown_block_type_is_rejected():
    problems = message_block_problems([{"type": "carousel_of_dreams"}])

    assert problems == ["unsupported type: carousel_of_dreams [json-pointer:/blocks/0/type]"]


def test_block_without_type_is_rejected():
    assert message_block_problems([{"text": "x"}]) == [
        "missing required field: type [json-pointer:/blocks/0]"
    ]


def test_slack_sdk_finds_section_without_text_or_fields():
    problems = message_block_problems([{"type": "section"}])

    assert problems == ["text or fields attribute must be specified [json-pointer:/blocks/0]"]


def test_slack_sdk_finds_image_without_alt_text():
    problems = message_block_problems([{"type": "image", "image_url": "https://example.com/a.png"}])

    assert len(problems) == 1
    assert problems[0].startswith("failed to match all allowed schemas")
    assert "alt_text" in problems[0]
    assert problems[0].endswith("[json-pointer:/blocks/0]")


def test_slack_sdk_checks_actions_element_count():
    buttons = [{"type": "button", "text": plain("B"), "action_id": f"b{i}"} for i in range(26)]

    problems = message_block_problems([actions(*buttons)])

    assert problems == ["elements attribute cannot exceed 25 elements [json-pointer:/blocks/0]"]


def test_blocks_must_be_a_list():
    assert message_block_problems({"type": "section"}) == [
        "must be an array [json-pointer:/blocks]"
    ]
