"""The /caret-settings builders and readers: Slack's limits, and what each form submits."""

from datetime import UTC, datetime

import pytest

from bot import ids
from bot.slackdouble.validation import view_problems
from bot.views.admin_settings import (
    AuditLine,
    FormError,
    SettingsOverview,
    TeamSummary,
    UserGroupChoice,
    hours_view,
    loading_view,
    menu_view,
    read_hours,
    read_reasons,
    read_team_values,
    reasons_view,
    recipients_view,
    refusal_view,
    team_view,
    teams_view,
    time_zone_options,
    unread_view,
    users_view,
)

TEAM = TeamSummary(
    id=7, name="Hiring <!channel>", members=("U0A", "U0B"), usergroup_id=None, channel_id="C0HIRE"
)
OVERVIEW = SettingsOverview(
    teams=(TEAM,),
    reasons={"not_qualified": ["No SQL"]},
    recipient_rule={"spam": True},
    schedule="Working hours: mon 09:00-17:00 (Europe/Berlin)",
    unread_reaction="eyes",
    autoclaim_users=("U0A",),
    admins=("U0B",),
    recent=(
        AuditLine(actor="U0B", kind="team_added", key="team", at=datetime(2026, 12, 1, tzinfo=UTC)),
    ),
)


def every_view():
    return [
        loading_view(),
        refusal_view("Only admins can run /caret-settings."),
        menu_view(OVERVIEW),
        teams_view([TEAM] * 120),
        team_view(
            TEAM, [UserGroupChoice(id=f"S{n:03d}", name="Group", handle="g") for n in range(150)]
        ),
        team_view(None, None, note="No user groups."),
        reasons_view(None),
        recipients_view(None),
        hours_view({"time_zone": "Europe/Berlin", "weekly": {"sat": [["10:00", "14:00"]]}}),
        hours_view(None),
        unread_view("red_circle"),
        users_view(ids.SETTINGS_ADMINS_MODAL, "Admins", "Admins", "Hint", ["U0A"]),
        users_view(ids.SETTINGS_AUTOCLAIM_MODAL, "Autoclaim", "Users", "Hint", []),
    ]


@pytest.mark.parametrize("view", every_view(), ids=lambda view: view.title.text)
def test_view_within_slack_limits(view):
    payload = view.to_dict()

    assert view_problems(payload, view_type="modal") == []
    assert len(payload["title"]["text"]) <= 24
    assert len(payload["blocks"]) <= 100


def test_menu_shows_each_value():
    text = str(menu_view(OVERVIEW).to_dict())

    assert "Hiring &lt;!channel&gt;" in text
    assert "custom for Not Qualified" in text
    assert "Qualified, Review, Spam" in text
    assert ":eyes:" in text
    assert "<@U0A>" in text
    assert "and <@U0B>" in text
    assert "<@U0B> added a team" in text


def test_team_form_keeps_current_values():
    groups = [UserGroupChoice(id="S0CREW", name="Crew", handle="crew")]
    linked = TeamSummary(id=8, name="Crew", members=(), usergroup_id="S0CREW", channel_id=None)

    blocks = {block["block_id"]: block for block in team_view(linked, groups).to_dict()["blocks"]}

    picker = blocks[ids.SETTINGS_TEAM_USERGROUP_BLOCK]["element"]
    assert picker["initial_option"]["value"] == "S0CREW"
    assert blocks[ids.SETTINGS_TEAM_NAME_BLOCK]["element"]["initial_value"] == "Crew"
    assert ids.SETTINGS_TEAM_REMOVE_BLOCK in blocks
    assert "initial_users" not in blocks[ids.SETTINGS_TEAM_MEMBERS_BLOCK]["element"]


def test_team_values_without_group_picker():
    values = {
        ids.SETTINGS_TEAM_NAME_BLOCK: {"input": {"type": "plain_text_input", "value": " A  team "}},
        ids.SETTINGS_TEAM_MEMBERS_BLOCK: {
            "select": {"type": "multi_users_select", "selected_users": ["U0A"]}
        },
    }

    submitted = read_team_values(values)

    assert submitted.name == "A team"
    assert submitted.members == ["U0A"]
    assert submitted.usergroup_offered is False
    assert submitted.remove is False


def day_values(**days):
    return {
        block: {"input": {"type": "plain_text_input", "value": text}}
        for block, text in days.items()
    }


def test_read_hours_parses_periods_and_holidays():
    values = day_values(
        **{
            ids.SETTINGS_HOURS_MON_BLOCK: "9:00-12:00,13:00 – 17:30",
            ids.SETTINGS_HOURS_HOLIDAYS_BLOCK: "2026-12-24, 2026-12-25\n2026-12-31",
        }
    )

    hours = read_hours(values)

    assert hours == {
        "time_zone": None,
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:30"]]},
        "holidays": ["2026-12-24", "2026-12-25", "2026-12-31"],
    }


def test_read_hours_names_bad_period():
    values = day_values(**{ids.SETTINGS_HOURS_FRI_BLOCK: "09:00-12:00, noon-18:00"})

    with pytest.raises(FormError) as failure:
        read_hours(values)

    assert failure.value.block_id == ids.SETTINGS_HOURS_FRI_BLOCK
    assert failure.value.message.startswith("'noon-18:00' is not a period")


def test_reasons_view_and_reader_round_trip():
    view = reasons_view({"not_interested": ["Too far", "Other"]}).to_dict()
    values = {
        block["block_id"]: {
            "input": {"type": "plain_text_input", "value": block["element"]["initial_value"]}
        }
        for block in view["blocks"]
        if block["type"] == "input"
    }

    reasons = read_reasons(values)

    assert reasons["not_interested"] == ["Too far", "Other"]
    assert reasons["not_qualified"][0] == "Missing required skills"


def test_time_zone_options_order_and_limit():
    zones = ["America/New_York", "Europe/Berlin", "Europe/London", "Europe/Londonderry", "UTC"]

    found = [option.value for option in time_zone_options(zones, "lon")]
    many = time_zone_options([f"Zone/{n:04d}" for n in range(600)], "zone")

    assert found == ["Europe/London", "Europe/Londonderry"]
    assert [option.value for option in time_zone_options(zones, "new york")] == ["America/New_York"]
    assert len(many) == 100


def test_long_lists_say_what_is_shown():
    teams = [
        TeamSummary(
            id=n, name=f"Team {n:03d}", members=("U0A",), usergroup_id=None, channel_id=None
        )
        for n in range(95)
    ]
    groups = [
        UserGroupChoice(id=f"S{n:03d}", name=f"Group {n:03d}", handle="g") for n in range(101)
    ]

    listed = str(teams_view(teams).to_dict())
    form = {block["block_id"]: block for block in team_view(None, groups).to_dict()["blocks"]}

    assert "Showing the first 90 of 95 teams" in listed
    assert "Team 090" not in listed
    assert form[ids.SETTINGS_TEAM_USERGROUP_BLOCK]["hint"]["text"] == (
        "The first 100 of 101 groups, by name."
    )
