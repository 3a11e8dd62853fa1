"""views.open, views.push, views.update and views.publish."""

import secrets
import time
from typing import Any

from bot.slackdouble import limits
from bot.slackdouble.methods.base import (
    ApiError,
    MethodContext,
    arg_json,
    arg_str,
    web_api_method,
)
from bot.slackdouble.state import Trigger, ViewRecord, random_id
from bot.slackdouble.validation import HOME, MODAL, view_problems


def exchangeable_trigger(context: MethodContext, args: dict[str, Any]) -> Trigger:
    """Return the call's trigger if it may still open a view, raising Slack's trigger errors.

    The trigger is not consumed here: the caller marks it exchanged once the view is accepted.
    NOTE: whether Slack consumes a trigger whose view it rejects is not documented.
    """
    trigger_id = arg_str(args, "trigger_id") or arg_str(args, "interactivity_pointer")
    if trigger_id is None:
        raise ApiError("invalid_arguments", messages=["missing required field: trigger_id"])
    trigger = context.workspace.triggers.get(trigger_id)
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger.exchanged:
        raise ApiError("exchanged_trigger_id")
    if context.clock() - trigger.issued_at > context.trigger_ttl:
        raise ApiError("expired_trigger_id")
    return trigger


def view_argument(args: dict[str, Any], view_type: str) -> dict[str, Any]:
    view = arg_json(args, "view", "invalid_arguments")
    if view is None:
        raise ApiError("invalid_arguments", messages=["missing required field: view"])
    problems = view_problems(view, view_type=view_type)
    if problems:
        raise ApiError("invalid_arguments", messages=problems)
    return view


def check_external_id(context: MethodContext, view: dict, view_id: str | None) -> None:
    external_id = view.get("external_id")
    if not external_id:
        return
    for record in context.workspace.views.values():
        if record.view["external_id"] == external_id and record.view["id"] != view_id:
            raise ApiError("duplicate_external_id")


def new_hash() -> str:
    # Slack's hashes look like "1569262015.55b5e41b": seconds, a dot and 8 hex digits.
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def returned_view(
    context: MethodContext,
    view: dict[str, Any],
    *,
    view_id: str,
    root_view_id: str,
    previous_view_id: str | None,
) -> dict[str, Any]:
    """Build the view object Slack returns, with its id, hash and empty state."""
    workspace = context.workspace
    return {
        "id": view_id,
        "team_id": workspace.team_id,
        "type": view["type"],
        "title": view.get("title"),
        "submit": view.get("submit"),
        "close": view.get("close"),
        "blocks": view["blocks"],
        "private_metadata": view.get("private_metadata") or "",
        "callback_id": view.get("callback_id") or "",
        "external_id": view.get("external_id") or "",
        "state": {"values": {}},
        "hash": new_hash(),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": root_view_id,
        "previous_view_id": previous_view_id,
        "app_id": workspace.app_id,
        "app_installed_team_id": workspace.team_id,
        "bot_id": workspace.bot_id,
    }


@web_api_method("views.open")
def views_open(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    trigger = exchangeable_trigger(context, args)
    view = view_argument(args, MODAL)
    check_external_id(context, view, None)

    view_id = random_id("V")
    stored = returned_view(
        context, view, view_id=view_id, root_view_id=view_id, previous_view_id=None
    )
    workspace = context.workspace
    workspace.views[view_id] = ViewRecord(stored, trigger.user_id, root_view_id=view_id)
    workspace.stacks[view_id] = [view_id]
    trigger.exchanged = True
    return {"ok": True, "view": stored}


@web_api_method("views.push")
def views_push(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    """Push a view onto the stack of the modal the trigger came from.

    A trigger issued without a view_id pushes onto the most recently opened modal.
    """
    trigger = exchangeable_trigger(context, args)
    view = view_argument(args, MODAL)
    check_external_id(context, view, None)

    workspace = context.workspace
    if trigger.view_id in workspace.views:
        root_view_id = workspace.views[trigger.view_id].root_view_id
    elif workspace.stacks:
        root_view_id = list(workspace.stacks)[-1]
    else:
        raise ApiError("not_found")
    stack = workspace.stacks[root_view_id]
    if len(stack) >= limits.VIEW_STACK_MAX_DEPTH:
        raise ApiError("push_limit_reached")

    view_id = random_id("V")
    stored = returned_view(
        context, view, view_id=view_id, root_view_id=root_view_id, previous_view_id=stack[-1]
    )
    workspace.views[view_id] = ViewRecord(stored, trigger.user_id, root_view_id=root_view_id)
    stack.append(view_id)
    trigger.exchanged = True
    return {"ok": True, "view": stored}


@web_api_method("views.update")
def views_update(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    workspace = context.workspace
    view_id = arg_str(args, "view_id")
    external_id = arg_str(args, "external_id")
    if view_id is None and external_id is None:
        messages = ["either view_id or external_id is required"]
        raise ApiError("invalid_arguments", messages=messages)
    if view_id is not None:
        record = workspace.views.get(view_id)
    else:
        record = next(
            (rec for rec in workspace.views.values() if rec.view["external_id"] == external_id),
            None,
        )
    if record is None:
        raise ApiError("not_found")
    expected_hash = arg_str(args, "hash")
    if expected_hash is not None and expected_hash != record.view["hash"]:
        raise ApiError("hash_conflict")

    view = view_argument(args, record.view["type"])
    check_external_id(context, view, record.view["id"])
    record.view = returned_view(
        context,
        view,
        view_id=record.view["id"],
        root_view_id=record.view["root_view_id"],
        previous_view_id=record.view["previous_view_id"],
    )
    return {"ok": True, "view": record.view}


@web_api_method("views.publish")
def views_publish(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    workspace = context.workspace
    user_id = arg_str(args, "user_id")
    if user_id is None or user_id not in workspace.users:
        # methods/views.publish gives this response for a bad user_id.
        raise ApiError("invalid_arguments", messages=["invalid `user_id`"])
    view = view_argument(args, HOME)

    existing_id = workspace.home_views.get(user_id)
    expected_hash = arg_str(args, "hash")
    if existing_id is not None and expected_hash is not None:
        if expected_hash != workspace.views[existing_id].view["hash"]:
            raise ApiError("hash_conflict")
    view_id = existing_id or random_id("V")
    check_external_id(context, view, view_id)

    stored = returned_view(
        context, view, view_id=view_id, root_view_id=view_id, previous_view_id=None
    )
    workspace.views[view_id] = ViewRecord(stored, user_id, root_view_id=view_id)
    workspace.home_views[user_id] = view_id
    return {"ok": True, "view": stored}
