"""Validation of message blocks and views, run before the double accepts them.

Two passes: block_checks.py enforces Slack's documented limits with JSON pointers, then
slack_sdk's models parse each block and run their own validators (`to_dict()` validates the
whole tree). The result is a list of problems in the form Slack puts in
`response_metadata.messages` without its "[ERROR] " prefix. An empty list means accepted.
"""

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slackdouble import limits
from bot.slackdouble.block_checks import HOME, MESSAGE, MODAL, BlockChecker, too_long

__all__ = ["HOME", "MODAL", "message_block_problems", "view_problems"]


def message_block_problems(blocks: Any) -> list[str]:
    """Return why Slack would reject these message blocks, or an empty list."""
    checker = BlockChecker(MESSAGE)
    checker.check_blocks(blocks, "/blocks", limits.MESSAGE_MAX_BLOCKS)
    if checker.problems:
        return checker.problems
    return sdk_block_problems(blocks, "/blocks")


def view_problems(view: Any, *, view_type: str) -> list[str]:
    """Return why Slack would reject this view of type `view_type` ("modal" or "home")."""
    if not isinstance(view, dict):
        return ["failed to match all allowed schemas [json-pointer:/view]"]
    checker = BlockChecker(view_type)
    if view.get("type") != view_type:
        checker.fail(f"must be {view_type}", "/view/type")
        return checker.problems

    if view_type == MODAL:
        _check_modal_chrome(view, checker)
    _check_string(view, "private_metadata", limits.PRIVATE_METADATA_MAX_LENGTH, checker)
    _check_string(view, "callback_id", limits.CALLBACK_ID_MAX_LENGTH, checker)
    _check_string(view, "external_id", limits.EXTERNAL_ID_MAX_LENGTH, checker)
    if "blocks" not in view:
        checker.fail("missing required field: blocks", "/view")
    else:
        checker.check_blocks(view["blocks"], "/view/blocks", limits.VIEW_MAX_BLOCKS)
    if checker.problems:
        return checker.problems

    try:
        View(**view).validate_json()
    except SlackObjectFormationError as error:
        return [f"{error} [json-pointer:/view]"]
    except (TypeError, ValueError) as error:
        return [f"failed to match all allowed schemas ({error}) [json-pointer:/view]"]
    return sdk_block_problems(view["blocks"], "/view/blocks")


def _check_modal_chrome(view: dict, checker: BlockChecker) -> None:
    if "title" not in view:
        checker.fail("missing required field: title", "/view")
    else:
        checker.check_text(
            view["title"], "/view/title", limits.VIEW_TITLE_MAX_LENGTH, plain_only=True
        )
    for button in ("submit", "close"):
        if view.get(button) is not None:
            checker.check_text(
                view[button], f"/view/{button}", limits.VIEW_BUTTON_MAX_LENGTH, plain_only=True
            )

    # views/modal-views: "submit is required when an input block is within the blocks array".
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(block, dict) and block.get("type") == "input" for block in blocks
    )
    if has_input and view.get("submit") is None:
        checker.fail("must provide submit when the view contains input blocks", "/view")


def _check_string(view: dict, field: str, max_length: int, checker: BlockChecker) -> None:
    if field not in view or view[field] is None:
        return
    value = view[field]
    if not isinstance(value, str):
        checker.fail("must be a string", f"/view/{field}")
    elif len(value) > max_length:
        checker.fail(too_long(max_length), f"/view/{field}")


def sdk_block_problems(blocks: list[Any], pointer: str) -> list[str]:
    """Return the problems slack_sdk's models find in each block, with the block's pointer."""
    problems = []
    for index, block in enumerate(blocks):
        block_pointer = f"{pointer}/{index}"
        try:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"unsupported type [json-pointer:{block_pointer}]")
                continue
            parsed.to_dict()
        except SlackObjectFormationError as error:
            problems.append(f"{error} [json-pointer:{block_pointer}]")
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            # Model constructors raise these for a missing required field or a wrong type.
            problems.append(
                f"failed to match all allowed schemas ({error}) [json-pointer:{block_pointer}]"
            )
    return problems
