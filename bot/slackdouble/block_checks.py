"""Checks of Block Kit blocks against Slack's documented limits.

Each problem has the form of Slack's `response_metadata.messages` entries, a reason followed by
a JSON pointer: "must be less than 3001 characters [json-pointer:/blocks/0/text/text]". The
length and count reasons copy Slack's wording, and the others are the double's own. These
checks cover what slack_sdk's models do not enforce, and validation.py runs the models after.
"""

from typing import Any

from bot.slackdouble import limits

MESSAGE = "message"
MODAL = "modal"
HOME = "home"

# The block types slack_sdk 3.48 can parse with Block.parse. Slack rejects unknown types.
KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "alert",
        "auth_provider",
        "call",
        "card",
        "carousel",
        "container",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "plan",
        "rich_text",
        "section",
        "table",
        "task_card",
        "video",
    }
)

SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
MENU_SELECT_TYPES = frozenset(
    {
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "external_select",
        "multi_external_select",
    }
)
OPTION_TYPES = SELECT_TYPES | {"checkboxes", "radio_buttons", "overflow"}
SINGLE_INITIAL_OPTION_TYPES = frozenset({"static_select", "radio_buttons"})
MULTI_INITIAL_OPTION_TYPES = frozenset({"multi_static_select", "checkboxes"})

# The element types each block accepts, from the "Blocks" column of
# https://docs.slack.dev/reference/block-kit/block-elements and docs.slack.dev/blocks.json.
SECTION_ACCESSORY_TYPES = (
    frozenset({"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons"})
    | frozenset({"timepicker", "workflow_button"})
    | SELECT_TYPES
    | MENU_SELECT_TYPES
)
ACTIONS_ELEMENT_TYPES = (
    frozenset({"button", "checkboxes", "datepicker", "datetimepicker", "overflow"})
    | frozenset({"radio_buttons", "rich_text_input", "timepicker", "workflow_button"})
    | SELECT_TYPES
    | MENU_SELECT_TYPES
)
INPUT_ELEMENT_TYPES = (
    frozenset({"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input"})
    | frozenset({"number_input", "plain_text_input", "radio_buttons", "rich_text_input"})
    | frozenset({"timepicker", "url_text_input"})
    | SELECT_TYPES
    | MENU_SELECT_TYPES
)

# Elements that the "Surfaces" column of the block-elements page limits to some surfaces.
# Every other element is listed for modals, messages and Home tabs.
ELEMENT_SURFACES = {
    "datetimepicker": frozenset({MODAL, MESSAGE}),
    "email_text_input": frozenset({MODAL}),
    "file_input": frozenset({MODAL}),
    "number_input": frozenset({MODAL}),
    "rich_text_input": frozenset({MODAL, HOME}),
    "url_text_input": frozenset({MODAL}),
}


def too_long(max_length: int) -> str:
    return f"must be less than {max_length + 1} characters"


class BlockChecker:
    """Collects the problems of one surface's blocks, with block_id uniqueness across them."""

    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.problems: list[str] = []
        self._block_ids: set[str] = set()

    def fail(self, message: str, pointer: str) -> None:
        self.problems.append(f"{message} [json-pointer:{pointer}]")

    def check_blocks(self, blocks: Any, pointer: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        if len(blocks) > max_blocks:
            self.fail(f"no more than {max_blocks} items allowed", pointer)
        for index, block in enumerate(blocks):
            self.check_block(block, f"{pointer}/{index}")

    def check_block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be an object", pointer)
            return
        block_type = block.get("type")
        if not isinstance(block_type, str):
            self.fail("missing required field: type", pointer)
            return
        if block_type not in KNOWN_BLOCK_TYPES:
            self.fail(f"unsupported type: {block_type}", f"{pointer}/type")
            return
        self._check_block_id(block, pointer)

        # Slack documents action_id as unique "among all other action_ids in the containing
        # block", so the set of seen ids starts afresh for every block.
        action_ids: set[str] = set()
        if block_type == "section":
            self._check_section(block, pointer, action_ids)
        elif block_type == "header":
            self.check_text(
                block.get("text"),
                f"{pointer}/text",
                limits.HEADER_TEXT_MAX_LENGTH,
                plain_only=True,
            )
        elif block_type == "actions":
            elements = block.get("elements")
            if isinstance(elements, list):
                for index, element in enumerate(elements):
                    self.check_element(
                        element, f"{pointer}/elements/{index}", ACTIONS_ELEMENT_TYPES, action_ids
                    )
        elif block_type == "input":
            if "element" not in block:
                self.fail("missing required field: element", pointer)
            else:
                element_pointer = f"{pointer}/element"
                self.check_element(
                    block["element"], element_pointer, INPUT_ELEMENT_TYPES, action_ids
                )

    def _check_block_id(self, block: dict, pointer: str) -> None:
        if "block_id" not in block:
            return
        block_id = block["block_id"]
        id_pointer = f"{pointer}/block_id"
        if not isinstance(block_id, str) or not block_id:
            self.fail("must be more than 0 characters", id_pointer)
        elif len(block_id) > limits.BLOCK_ID_MAX_LENGTH:
            self.fail(too_long(limits.BLOCK_ID_MAX_LENGTH), id_pointer)
        elif block_id in self._block_ids:
            self.fail(f"duplicate block_id: {block_id}", id_pointer)
        else:
            self._block_ids.add(block_id)

    def _check_section(self, block: dict, pointer: str, action_ids: set[str]) -> None:
        if "text" in block:
            self.check_text(block["text"], f"{pointer}/text", limits.SECTION_TEXT_MAX_LENGTH)
        fields = block.get("fields")
        if isinstance(fields, list):
            for index, field in enumerate(fields):
                self.check_text(field, f"{pointer}/fields/{index}", None)
        if "accessory" in block:
            self.check_element(
                block["accessory"], f"{pointer}/accessory", SECTION_ACCESSORY_TYPES, action_ids
            )

    def check_text(
        self, text: Any, pointer: str, max_length: int | None, *, plain_only: bool = False
    ) -> None:
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if not isinstance(text, dict):
            self.fail("must be a text object", pointer)
            return
        if text.get("type") not in allowed:
            self.fail(f"must be one of: {', '.join(allowed)}", f"{pointer}/type")
        value = text.get("text")
        if not isinstance(value, str) or not value:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        elif max_length is not None and len(value) > max_length:
            self.fail(too_long(max_length), f"{pointer}/text")

    def check_element(
        self, element: Any, pointer: str, allowed_types: frozenset[str], action_ids: set[str]
    ) -> None:
        if not isinstance(element, dict):
            self.fail("must be an object", pointer)
            return
        element_type = element.get("type")
        if element_type not in allowed_types:
            self.fail(f"unsupported type: {element_type}", f"{pointer}/type")
            return
        surfaces = ELEMENT_SURFACES.get(element_type)
        if surfaces is not None and self.surface not in surfaces:
            self.fail(
                f"unsupported type: {element_type} is not available in a {self.surface}",
                f"{pointer}/type",
            )
        if "action_id" in element:
            self._check_action_id(element["action_id"], f"{pointer}/action_id", action_ids)
        if element_type in OPTION_TYPES:
            self._check_options(element, pointer, element_type)

    def _check_action_id(self, action_id: Any, pointer: str, action_ids: set[str]) -> None:
        if not isinstance(action_id, str) or not action_id:
            self.fail("must be more than 0 characters", pointer)
        elif len(action_id) > limits.ACTION_ID_MAX_LENGTH:
            self.fail(too_long(limits.ACTION_ID_MAX_LENGTH), pointer)
        elif action_id in action_ids:
            self.fail(f"duplicate action_id: {action_id}", pointer)
        else:
            action_ids.add(action_id)

    def _check_options(self, element: dict, pointer: str, element_type: str) -> None:
        is_select = element_type in SELECT_TYPES
        all_options: list[Any] = []

        options = element.get("options")
        if isinstance(options, list):
            if is_select and len(options) > limits.SELECT_MAX_OPTIONS:
                self.fail(f"no more than {limits.SELECT_MAX_OPTIONS} items allowed", pointer)
            for index, option in enumerate(options):
                self._check_option(option, f"{pointer}/options/{index}", is_select)
            all_options.extend(options)

        groups = element.get("option_groups")
        if is_select and isinstance(groups, list):
            groups_pointer = f"{pointer}/option_groups"
            if len(groups) > limits.SELECT_MAX_OPTION_GROUPS:
                max_groups = limits.SELECT_MAX_OPTION_GROUPS
                self.fail(f"no more than {max_groups} items allowed", groups_pointer)
            for index, group in enumerate(groups):
                all_options.extend(self._check_option_group(group, f"{groups_pointer}/{index}"))

        self._check_initial_options(element, pointer, element_type, all_options)

    def _check_option_group(self, group: Any, pointer: str) -> list[Any]:
        if not isinstance(group, dict):
            self.fail("must be an object", pointer)
            return []
        self.check_text(
            group.get("label"),
            f"{pointer}/label",
            limits.OPTION_GROUP_LABEL_MAX_LENGTH,
            plain_only=True,
        )
        options = group.get("options")
        if not isinstance(options, list):
            self.fail("must be an array", f"{pointer}/options")
            return []
        if len(options) > limits.OPTION_GROUP_MAX_OPTIONS:
            max_options = limits.OPTION_GROUP_MAX_OPTIONS
            self.fail(f"no more than {max_options} items allowed", f"{pointer}/options")
        for index, option in enumerate(options):
            self._check_option(option, f"{pointer}/options/{index}", True)
        return options

    def _check_option(self, option: Any, pointer: str, plain_only: bool) -> None:
        # The option-object page: select and overflow menus "can only use plain_text
        # objects", while checkboxes and radio buttons may use mrkdwn.
        if not isinstance(option, dict):
            self.fail("must be an object", pointer)
            return
        self.check_text(
            option.get("text"),
            f"{pointer}/text",
            limits.OPTION_TEXT_MAX_LENGTH,
            plain_only=plain_only,
        )
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.fail("must be more than 0 characters", f"{pointer}/value")
        elif len(value) > limits.OPTION_VALUE_MAX_LENGTH:
            self.fail(too_long(limits.OPTION_VALUE_MAX_LENGTH), f"{pointer}/value")
        if "description" in option:
            self.check_text(
                option["description"],
                f"{pointer}/description",
                limits.OPTION_DESCRIPTION_MAX_LENGTH,
            )

    def _check_initial_options(
        self, element: dict, pointer: str, element_type: str, all_options: list[Any]
    ) -> None:
        known = {option_key(option) for option in all_options}
        if element_type in SINGLE_INITIAL_OPTION_TYPES and "initial_option" in element:
            if option_key(element["initial_option"]) not in known:
                self.fail("must exactly match one of the options", f"{pointer}/initial_option")
        if element_type in MULTI_INITIAL_OPTION_TYPES and "initial_options" in element:
            initial = element["initial_options"]
            if not isinstance(initial, list):
                self.fail("must be an array", f"{pointer}/initial_options")
                return
            for index, option in enumerate(initial):
                if option_key(option) not in known:
                    self.fail(
                        "must exactly match one of the options",
                        f"{pointer}/initial_options/{index}",
                    )


def option_key(option: Any) -> tuple[Any, Any]:
    """Return what identifies an option when Slack matches initial_option against options."""
    if not isinstance(option, dict):
        return (None, None)
    text = option.get("text")
    text_value = text.get("text") if isinstance(text, dict) else None
    return (text_value, option.get("value"))
