"""usergroups.list and usergroups.users.list of the Slack double, through a real WebClient."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.scopes import BOT_SCOPES
from bot.slackdouble import SlackDouble

CREW = "S0CREW"
OLD = "S0OLD"


@pytest.fixture
def double():
    slack = SlackDouble(scopes=BOT_SCOPES)
    slack.add_user("U0ALICE", "alice")
    slack.add_user("U0BOB", "bob")
    slack.add_usergroup(CREW, "Hiring crew", handle="hiring", users=["U0ALICE", "U0BOB"])
    slack.add_usergroup(OLD, "Old crew", users=["U0BOB"], disabled=True)
    with slack:
        yield slack


def client_of(double):
    return WebClient(token=double.bot_token, base_url=double.base_url)


def test_list_leaves_out_disabled_groups(double):
    response = client_of(double).usergroups_list()

    [group] = response["usergroups"]
    assert group["id"] == CREW
    assert group["handle"] == "hiring"
    assert group["is_usergroup"] is True
    assert "users" not in group
    assert "user_count" not in group


def test_list_with_users_count_and_disabled(double):
    response = client_of(double).usergroups_list(
        include_users=True, include_count=True, include_disabled=True
    )

    groups = {group["id"]: group for group in response["usergroups"]}
    assert set(groups) == {CREW, OLD}
    assert groups[CREW]["users"] == ["U0ALICE", "U0BOB"]
    assert groups[CREW]["user_count"] == 2
    assert groups[OLD]["date_delete"] != 0


def test_users_list_returns_members(double):
    response = client_of(double).usergroups_users_list(usergroup=CREW)

    assert response["users"] == ["U0ALICE", "U0BOB"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"usergroup": "S0NOPE"}, "no_such_subteam"),
        ({"usergroup": OLD}, "no_such_subteam"),
        ({}, "invalid_arguments"),
    ],
)
def test_users_list_errors(double, arguments, error):
    with pytest.raises(SlackApiError) as failure:
        client_of(double).api_call("usergroups.users.list", params=arguments)

    assert failure.value.response["error"] == error


def test_users_list_of_disabled_group_when_included(double):
    response = client_of(double).usergroups_users_list(usergroup=OLD, include_disabled=True)

    assert response["users"] == ["U0BOB"]


@pytest.mark.parametrize("method", ["usergroups.list", "usergroups.users.list"])
def test_usergroups_need_read_scope(method):
    scopes = [scope for scope in BOT_SCOPES if scope != "usergroups:read"]
    with SlackDouble(scopes=scopes) as slack:
        slack.add_usergroup(CREW, "Hiring crew", users=["U0ALICE"])

        with pytest.raises(SlackApiError) as failure:
            client_of(slack).api_call(method, params={"usergroup": CREW})

    assert failure.value.response["error"] == "missing_scope"
    assert failure.value.response["needed"] == "usergroups:read"


def test_close_view_makes_room_for_push(double):
    client = client_of(double)
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Menu"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
    }
    opened = client.views_open(trigger_id=double.issue_trigger_id(), view=view)["view"]
    root = opened["id"]
    second = client.views_push(trigger_id=double.issue_trigger_id(view_id=root), view=view)
    third = client.views_push(trigger_id=double.issue_trigger_id(view_id=root), view=view)

    with pytest.raises(SlackApiError) as full:
        client.views_push(trigger_id=double.issue_trigger_id(view_id=root), view=view)
    double.close_view(third["view"]["id"])
    again = client.views_push(trigger_id=double.issue_trigger_id(view_id=root), view=view)

    assert full.value.response["error"] == "push_limit_reached"
    assert second["ok"] is True
    assert again["view"]["previous_view_id"] == second["view"]["id"]
