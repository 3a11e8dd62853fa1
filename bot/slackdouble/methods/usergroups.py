"""usergroups.list and usergroups.users.list."""

from typing import Any

from bot.slackdouble.methods.base import ApiError, MethodContext, arg_bool, arg_str, web_api_method


def usergroup_object(usergroup: dict, *, include_users: bool, include_count: bool) -> dict:
    """Build a usergroup object as usergroups.list returns it."""
    shown = {key: value for key, value in usergroup.items() if key != "users"}
    if include_users:
        shown["users"] = list(usergroup["users"])
    if include_count:
        shown["user_count"] = len(usergroup["users"])
    return shown


@web_api_method("usergroups.list", scope="usergroups:read")
def usergroups_list(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    include_disabled = arg_bool(args, "include_disabled")
    usergroups = [
        usergroup_object(
            usergroup,
            include_users=arg_bool(args, "include_users"),
            include_count=arg_bool(args, "include_count"),
        )
        for usergroup in context.workspace.usergroups.values()
        if include_disabled or usergroup["date_delete"] == 0
    ]
    return {"ok": True, "usergroups": usergroups}


@web_api_method("usergroups.users.list", scope="usergroups:read")
def usergroups_users_list(context: MethodContext, args: dict[str, Any]) -> dict[str, Any]:
    usergroup_id = arg_str(args, "usergroup")
    if usergroup_id is None:
        raise ApiError("invalid_arguments", messages=["missing required field: usergroup"])
    usergroup = context.workspace.usergroups.get(usergroup_id)
    # NOTE: Slack does not document its response for a disabled group without include_disabled,
    # so the double treats the group as not found.
    if usergroup is None or (
        usergroup["date_delete"] != 0 and not arg_bool(args, "include_disabled")
    ):
        raise ApiError("no_such_subteam")
    return {"ok": True, "users": list(usergroup["users"])}
