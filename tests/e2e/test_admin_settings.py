"""/caret-settings end to end: who may open it, each section's change taking effect, the audit."""

import json

import pytest

from bot import ids
from bot.slackdouble.payloads import (
    DEFAULT_APP_ID,
    VERIFICATION_TOKEN,
    block_actions,
    new_ts,
    slash_command,
    submission_of,
    team_object,
    user_object,
)
from storage.audit import list_audit_events
from storage.claims import autoclaim_enabled
from storage.settings import get_setting
from storage.teams import list_teams
from tests.e2e.test_recording import CANDIDATE, add_contact, conversation_of, reply, start_thread
from tests.e2e.test_stat import open_stats
from tests.support import (
    AGENT,
    CHANNEL,
    OTHER_AGENT,
    TEAM,
    DeliverDriver,
    RunningBot,
    deliver_through,
    seed_contact,
    select,
    settle_outbox,
    step1_state,
    step2_state,
    typed,
    users,
)

ADMIN = "U0ADMIN"
MEMBER_A = "U0MEMBERA"
MEMBER_B = "U0MEMBERB"
USERGROUP = "S0HIRING"
COMMAND = "/caret-settings"


@pytest.fixture
def admin(slack):
    slack.add_user(ADMIN, "ada.admin", real_name="Ada Admin", is_admin=True)
    slack.add_user(MEMBER_A, "alex", real_name="Alex Member")
    slack.add_user(MEMBER_B, "blake", real_name="Blake Member")
    return ADMIN


class SettingsDriver:
    """Opens /caret-settings, pushes its sections and submits them as Slack's client would."""

    def __init__(self, bot, slack, user):
        self.bot = bot
        self.slack = slack
        self.user = user

    def open(self):
        """Run the command and return the modal as the bot left it."""
        self.bot.post_and_settle(
            slash_command(
                COMMAND,
                "",
                user=self.user,
                channel=CHANNEL,
                trigger_id=self.slack.issue_trigger_id(user_id=self.user),
            )
        )
        [*_, opened] = self.slack.calls_to("views.open")
        assert opened.ok, opened.error
        return self.slack.view(opened.response["view"]["id"])

    def push(self, view, action_id, value=None):
        """Click a button in `view` and return the view it pushed, as the bot left it."""
        pushes = len(self.slack.calls_to("views.push"))
        self.bot.post_and_settle(
            block_actions(
                action_id,
                user=self.user,
                value=value,
                trigger_id=self.slack.issue_trigger_id(user_id=self.user, view_id=view["id"]),
                view=view,
            )
        )
        calls = self.slack.calls_to("views.push")
        assert len(calls) == pushes + 1, "the bot pushed no view"
        assert calls[-1].ok, calls[-1].error
        return self.slack.view(calls[-1].response["view"]["id"])

    def submit(self, view, values):
        """Submit a view; return the decoded response, or None when it closed the view."""
        status, _headers, body = self.bot.post(
            submission_of(view, user=self.user, values=values, trigger_id="1.2.submit")
        )
        self.bot.executor.wait_idle()
        assert status == 200
        if body:
            return json.loads(body)
        self.slack.close_view(view["id"])
        return None


def text_of(view):
    return json.dumps(view["blocks"])


def audit_of(bot):
    """Return the workspace's audit events, oldest first, as (actor, kind, detail)."""
    with bot.session_scope() as session:
        events = list_audit_events(session, TEAM)
    return [(event.actor, event.kind, event.detail) for event in reversed(events)]


def setting_of(bot, key):
    with bot.session_scope() as session:
        return get_setting(session, TEAM, key)


def save_section(bot, slack, action_id, values, *, user=ADMIN):
    """Open the modal, push a section, submit it; return the response and the driver."""
    driver = SettingsDriver(bot, slack, user)
    menu = driver.open()
    section = driver.push(menu, action_id)
    return driver.submit(section, values), driver, menu


def hours_values(zone, **days):
    values = {
        ids.SETTINGS_HOURS_ZONE_BLOCK: {
            ids.SETTINGS_HOURS_ZONE_INPUT: {
                "type": "external_select",
                "selected_option": {"text": {"type": "plain_text", "text": zone}, "value": zone},
            }
        },
        ids.SETTINGS_HOURS_HOLIDAYS_BLOCK: {ids.SETTINGS_HOURS_HOLIDAYS_INPUT: typed(None)},
    }
    for day, block_id in DAY_BLOCK_IDS.items():
        values[block_id] = {ids.SETTINGS_HOURS_DAY_INPUT: typed(days.get(day))}
    return values


DAY_BLOCK_IDS = {
    "mon": ids.SETTINGS_HOURS_MON_BLOCK,
    "tue": ids.SETTINGS_HOURS_TUE_BLOCK,
    "wed": ids.SETTINGS_HOURS_WED_BLOCK,
    "thu": ids.SETTINGS_HOURS_THU_BLOCK,
    "fri": ids.SETTINGS_HOURS_FRI_BLOCK,
    "sat": ids.SETTINGS_HOURS_SAT_BLOCK,
    "sun": ids.SETTINGS_HOURS_SUN_BLOCK,
}


def team_values(name, *, members=(), usergroup=None, channel=None, remove=False):
    values = {
        ids.SETTINGS_TEAM_NAME_BLOCK: {ids.SETTINGS_TEAM_NAME_INPUT: typed(name)},
        ids.SETTINGS_TEAM_MEMBERS_BLOCK: {ids.SETTINGS_TEAM_MEMBERS_INPUT: users(*members)},
        ids.SETTINGS_TEAM_CHANNEL_BLOCK: {
            ids.SETTINGS_TEAM_CHANNEL_INPUT: {
                "type": "conversations_select",
                "selected_conversation": channel,
            }
        },
    }
    if usergroup is not None:
        values[ids.SETTINGS_TEAM_USERGROUP_BLOCK] = {
            ids.SETTINGS_TEAM_USERGROUP_INPUT: select(usergroup)
        }
    if remove:
        values[ids.SETTINGS_TEAM_REMOVE_BLOCK] = {
            ids.SETTINGS_TEAM_REMOVE_INPUT: {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Remove"}, "value": "remove"}
                ],
            }
        }
    return values


def add_team_in_modal(bot, slack, values):
    """Push Teams, then Add a team, and submit `values`; return the response and the driver."""
    driver = SettingsDriver(bot, slack, ADMIN)
    menu = driver.open()
    teams = driver.push(menu, ids.SETTINGS_OPEN_TEAMS)
    form = driver.push(teams, ids.SETTINGS_TEAM_ADD)
    return driver.submit(form, values), driver, form


def team_ids(bot):
    with bot.session_scope() as session:
        return {team.name: team.id for team in list_teams(session, TEAM)}


def deliver_to_team(bot, slack, root, team_id):
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state(
        "qualified", application=f"app:{application_id}", notes="Strong SQL", rating=4
    )
    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(team_ids=[team_id])
    )
    assert response == {"response_action": "clear"}
    settle_outbox(bot)


def dms_to(slack, user):
    return [
        call
        for call in slack.calls_to("chat.postMessage")
        if call.args.get("channel") == user and call.ok
    ]


# Who may open the modal


def test_agent_gets_refusal_naming_admins(bot, slack):
    view = SettingsDriver(bot, slack, AGENT).open()

    assert slack.calls[0].method == "views.open"
    assert "Only the workspace's admins and owners can run /caret-settings" in text_of(view)
    assert ids.SETTINGS_OPEN_TEAMS not in text_of(view)


def test_workspace_admin_gets_menu(bot, slack, admin):
    view = SettingsDriver(bot, slack, admin).open()

    assert slack.calls[0].method == "views.open"
    assert view["callback_id"] == ids.SETTINGS_MODAL
    for action_id in (
        ids.SETTINGS_OPEN_TEAMS,
        ids.SETTINGS_OPEN_REASONS,
        ids.SETTINGS_OPEN_RECIPIENTS,
        ids.SETTINGS_OPEN_HOURS,
        ids.SETTINGS_OPEN_UNREAD,
        ids.SETTINGS_OPEN_AUTOCLAIM,
        ids.SETTINGS_OPEN_ADMINS,
    ):
        assert action_id in text_of(view)


def test_new_admin_can_open_modal(bot, slack, admin):
    values = {ids.SETTINGS_ADMINS_BLOCK: {ids.SETTINGS_ADMINS_INPUT: users(AGENT)}}

    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_ADMINS, values)
    view = SettingsDriver(bot, slack, AGENT).open()

    assert response is None
    assert view["callback_id"] == ids.SETTINGS_MODAL
    assert setting_of(bot, "admins") == [AGENT]
    assert audit_of(bot) == [
        (ADMIN, "setting_changed", {"key": "admins", "old": None, "new": [AGENT]})
    ]


def test_refusal_names_listed_admins(bot, slack, admin):
    values = {ids.SETTINGS_ADMINS_BLOCK: {ids.SETTINGS_ADMINS_INPUT: users(OTHER_AGENT)}}
    save_section(bot, slack, ids.SETTINGS_OPEN_ADMINS, values)

    view = SettingsDriver(bot, slack, AGENT).open()

    assert f"and <@{OTHER_AGENT}> can run /caret-settings" in text_of(view)


def test_agent_submission_is_rejected(bot, slack, admin):
    driver = SettingsDriver(bot, slack, ADMIN)
    section = driver.push(driver.open(), ids.SETTINGS_OPEN_UNREAD)
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("eyes")}}

    response = SettingsDriver(bot, slack, AGENT).submit(section, values)

    assert response["response_action"] == "errors"
    assert "Only the workspace's admins" in response["errors"][ids.SETTINGS_UNREAD_BLOCK]
    assert setting_of(bot, "unread_reaction") is None
    assert audit_of(bot) == []


# Each section taking effect


def test_new_reason_shows_in_next_deliver(bot, slack, admin):
    values = {
        ids.SETTINGS_REASONS_NOT_QUALIFIED_BLOCK: {
            ids.SETTINGS_REASONS_INPUT: typed("No SQL\n\n  Too junior  ")
        },
        ids.SETTINGS_REASONS_NOT_INTERESTED_BLOCK: {ids.SETTINGS_REASONS_INPUT: typed("")},
    }
    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_REASONS, values)
    root = new_ts()
    seed_contact(bot, root)
    deliver = DeliverDriver(bot, slack)
    view = deliver.open(root)
    status_only = {ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: select("not_qualified")}}

    view = deliver.change(view, ids.DELIVER_STATUS_INPUT, status_only)

    assert response is None
    [picker] = [
        b for b in view["blocks"] if b.get("block_id") == ids.DELIVER_REASON_NOT_QUALIFIED_BLOCK
    ]
    assert [o["value"] for o in picker["element"]["options"]] == ["No SQL", "Too junior", "Other"]
    assert audit_of(bot) == [
        (
            ADMIN,
            "setting_changed",
            {"key": "reasons", "old": None, "new": {"not_qualified": ["No SQL", "Too junior"]}},
        )
    ]


def test_reason_too_long_is_rejected_on_its_block(bot, slack, admin):
    values = {
        ids.SETTINGS_REASONS_NOT_INTERESTED_BLOCK: {ids.SETTINGS_REASONS_INPUT: typed("x" * 76)},
    }

    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_REASONS, values)

    assert response["response_action"] == "errors"
    assert list(response["errors"]) == [ids.SETTINGS_REASONS_NOT_INTERESTED_BLOCK]
    assert (
        "give 1 to 75 characters" in response["errors"][ids.SETTINGS_REASONS_NOT_INTERESTED_BLOCK]
    )
    assert setting_of(bot, "reasons") is None
    assert audit_of(bot) == []


def test_recipient_rule_change_applies_to_deliver(bot, slack, admin):
    only_spam = {
        ids.SETTINGS_RECIPIENTS_BLOCK: {
            ids.SETTINGS_RECIPIENTS_INPUT: {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Spam"}, "value": "spam"}
                ],
            }
        }
    }
    save_section(bot, slack, ids.SETTINGS_OPEN_RECIPIENTS, only_spam)
    root = new_ts()
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state("qualified", application=f"app:{application_id}", notes="Good", rating=4)

    _step2, response = deliver_through(DeliverDriver(bot, slack), root, step1, step2_state())

    assert response == {"response_action": "clear"}
    rule = setting_of(bot, "recipient_required")
    assert rule["spam"] is True
    assert rule["qualified"] is False
    [(_actor, kind, detail)] = audit_of(bot)
    assert (kind, detail["key"], detail["old"]) == ("setting_changed", "recipient_required", None)


def test_new_team_receives_next_handoff(bot, slack, admin):
    response, _driver, _form = add_team_in_modal(
        bot, slack, team_values("Hiring", members=[MEMBER_A])
    )
    root = new_ts()

    deliver_to_team(bot, slack, root, team_ids(bot)["Hiring"])

    assert response is None
    assert len(dms_to(slack, MEMBER_A)) == 1
    [(actor, kind, detail)] = audit_of(bot)
    assert (actor, kind, detail["old"]) == (ADMIN, "team_added", None)
    assert detail["new"]["name"] == "Hiring"
    assert detail["new"]["members"] == [MEMBER_A]


def test_team_form_offers_usergroups(bot, slack, admin):
    slack.add_usergroup(USERGROUP, "Hiring crew", handle="hiring", users=[MEMBER_A])
    driver = SettingsDriver(bot, slack, ADMIN)
    teams = driver.push(driver.open(), ids.SETTINGS_OPEN_TEAMS)

    form = driver.push(teams, ids.SETTINGS_TEAM_ADD)

    [picker] = [b for b in form["blocks"] if b.get("block_id") == ids.SETTINGS_TEAM_USERGROUP_BLOCK]
    assert [o["value"] for o in picker["element"]["options"]] == [USERGROUP]
    assert picker["element"]["options"][0]["text"]["text"] == "Hiring crew (@hiring)"


def test_team_form_without_usergroups_scope(bot, slack, admin):
    slack.scopes = tuple(scope for scope in slack.scopes if scope != "usergroups:read")
    driver = SettingsDriver(bot, slack, ADMIN)
    teams = driver.push(driver.open(), ids.SETTINGS_OPEN_TEAMS)

    form = driver.push(teams, ids.SETTINGS_TEAM_ADD)

    assert ids.SETTINGS_TEAM_USERGROUP_BLOCK not in text_of(form)
    assert "add the usergroups:read scope" in text_of(form)


def test_usergroup_team_handoff_reaches_current_members(bot, slack, admin):
    slack.add_usergroup(USERGROUP, "Hiring crew", users=[MEMBER_A, MEMBER_B])
    add_team_in_modal(bot, slack, team_values("Crew", usergroup=USERGROUP))
    team_id = team_ids(bot)["Crew"]

    deliver_to_team(bot, slack, new_ts(), team_id)
    slack.add_usergroup(USERGROUP, "Hiring crew", users=[MEMBER_B])
    deliver_to_team(bot, slack, new_ts(), team_id)

    [lookup, _again] = slack.calls_to("usergroups.users.list")
    assert lookup.args["usergroup"] == USERGROUP
    assert len(dms_to(slack, MEMBER_A)) == 1
    assert len(dms_to(slack, MEMBER_B)) == 2
    [(_actor, kind, detail)] = audit_of(bot)
    assert kind == "team_added"
    assert detail["new"]["usergroup_id"] == USERGROUP


def test_usergroup_member_accepts_handoff(bot, slack, admin):
    slack.add_usergroup(USERGROUP, "Hiring crew", users=[MEMBER_A])
    add_team_in_modal(bot, slack, team_values("Crew", usergroup=USERGROUP))
    deliver_to_team(bot, slack, new_ts(), team_ids(bot)["Crew"])
    [card] = dms_to(slack, MEMBER_A)
    [button] = [
        element
        for block in card.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.DELIVER_ACCEPT
    ]

    bot.post_and_settle(
        block_actions(
            ids.DELIVER_ACCEPT,
            user=MEMBER_A,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=MEMBER_A),
            channel=card.response["channel"],
            message_ts=card.response["ts"],
        )
    )
    settle_outbox(bot)

    [update] = slack.wait_for("chat.update")
    assert f"Accepted by <@{MEMBER_A}>" in json.dumps(update.args["blocks"])


def test_missing_usergroup_tells_agent(bot, slack, admin):
    slack.add_usergroup(USERGROUP, "Hiring crew", users=[MEMBER_A])
    add_team_in_modal(bot, slack, team_values("Crew", usergroup=USERGROUP))
    slack.workspace.usergroups.clear()

    deliver_to_team(bot, slack, new_ts(), team_ids(bot)["Crew"])

    notices = [
        call.args["text"]
        for call in slack.calls_to("chat.postEphemeral")
        if call.args.get("user") == AGENT and "blocks" not in call.args
    ]
    assert any("the user group S0HIRING (no_such_subteam)" in text for text in notices)
    assert dms_to(slack, MEMBER_A) == []


def test_team_needs_members_group_or_channel(bot, slack, admin):
    response, _driver, _form = add_team_in_modal(bot, slack, team_values("Empty"))

    assert response["response_action"] == "errors"
    assert "A team needs members" in response["errors"][ids.SETTINGS_TEAM_MEMBERS_BLOCK]
    assert team_ids(bot) == {}
    assert audit_of(bot) == []


def test_duplicate_team_name_is_rejected(bot, slack, admin):
    add_team_in_modal(bot, slack, team_values("Hiring", members=[MEMBER_A]))

    response, _driver, _form = add_team_in_modal(
        bot, slack, team_values("Hiring", members=[MEMBER_B])
    )

    assert response["response_action"] == "errors"
    assert response["errors"] == {
        ids.SETTINGS_TEAM_NAME_BLOCK: "A team named 'Hiring' exists already: choose another name."
    }
    assert len(audit_of(bot)) == 1


def test_team_edit_and_remove(bot, slack, admin):
    add_team_in_modal(bot, slack, team_values("Hiring", members=[MEMBER_A]))
    team_id = team_ids(bot)["Hiring"]
    driver = SettingsDriver(bot, slack, ADMIN)
    teams = driver.push(driver.open(), ids.SETTINGS_OPEN_TEAMS)
    form = driver.push(teams, ids.SETTINGS_TEAM_EDIT, value=str(team_id))
    edited = driver.submit(form, team_values("Hiring EU", members=[MEMBER_A, MEMBER_B]))
    form = driver.push(slack.view(teams["id"]), ids.SETTINGS_TEAM_EDIT, value=str(team_id))

    removed = driver.submit(form, team_values("Hiring EU", members=[MEMBER_B], remove=True))

    assert (edited, removed) == (None, None)
    assert team_ids(bot) == {}
    assert "Hiring EU" not in text_of(slack.view(teams["id"]))
    kinds = [(kind, detail["old"] and detail["old"]["name"]) for _a, kind, detail in audit_of(bot)]
    assert kinds == [
        ("team_added", None),
        ("team_changed", "Hiring"),
        ("team_removed", "Hiring EU"),
    ]
    [_added, (_actor, _kind, changed), _removed] = audit_of(bot)
    assert changed["new"]["members"] == sorted([MEMBER_A, MEMBER_B])


def test_working_hours_change_shows_in_stat(bot, slack, admin):
    values = hours_values("Europe/Berlin", mon="10:00-12:00, 13:00 - 24:00", tue="8:30-12:00")
    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_HOURS, values)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    slack.reset()

    view = open_stats(bot, slack, root)

    assert response is None
    assert "mon 10:00-12:00, 13:00-24:00; tue 08:30-12:00 (Europe/Berlin)" in text_of(view)
    expected = {
        "time_zone": "Europe/Berlin",
        "weekly": {"mon": [["10:00", "12:00"], ["13:00", "24:00"]], "tue": [["08:30", "12:00"]]},
        "holidays": [],
    }
    assert setting_of(bot, "working_hours") == expected
    assert audit_of(bot) == [
        (ADMIN, "setting_changed", {"key": "working_hours", "old": None, "new": expected})
    ]


@pytest.mark.parametrize(
    ("days", "holidays", "block_id", "message"),
    [
        ({"tue": "9-17"}, None, ids.SETTINGS_HOURS_TUE_BLOCK, "'9-17' is not a period"),
        ({"wed": "17:00-09:00"}, None, ids.SETTINGS_HOURS_WED_BLOCK, "17:00"),
        ({}, "2026-02-30", ids.SETTINGS_HOURS_HOLIDAYS_BLOCK, "2026-02-30"),
    ],
)
def test_invalid_hours_rejected_on_block(bot, slack, admin, days, holidays, block_id, message):
    values = hours_values("Europe/Berlin", **days)
    values[ids.SETTINGS_HOURS_HOLIDAYS_BLOCK] = {ids.SETTINGS_HOURS_HOLIDAYS_INPUT: typed(holidays)}

    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_HOURS, values)

    assert response["response_action"] == "errors"
    assert list(response["errors"]) == [block_id]
    assert message in response["errors"][block_id]
    assert setting_of(bot, "working_hours") is None
    assert audit_of(bot) == []


def test_time_zone_options_match_typed_text(bot, slack, admin):
    driver = SettingsDriver(bot, slack, ADMIN)
    section = driver.push(driver.open(), ids.SETTINGS_OPEN_HOURS)
    suggestion = {
        "type": "block_suggestion",
        "user": user_object(ADMIN, TEAM),
        "container": {"type": "view", "view_id": section["id"]},
        "api_app_id": DEFAULT_APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": ids.SETTINGS_HOURS_ZONE_INPUT,
        "block_id": ids.SETTINGS_HOURS_ZONE_BLOCK,
        "value": "berl",
        "team": team_object(TEAM),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": section,
    }

    status, _headers, body = bot.post(suggestion)

    assert status == 200
    assert [o["value"] for o in json.loads(body)["options"]] == ["Europe/Berlin"]


def test_unread_marker_change_changes_reaction(bot, slack, admin):
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed(":eyes:")}}
    save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "Hi", user=CANDIDATE)

    [added] = slack.calls_to("reactions.add")
    assert added.args["name"] == "eyes"
    assert audit_of(bot) == [
        (ADMIN, "setting_changed", {"key": "unread_reaction", "old": None, "new": "eyes"})
    ]


def test_invalid_emoji_name_is_rejected(bot, slack, admin):
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("Big Smile")}}

    response, _driver, _menu = save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)

    assert response["response_action"] == "errors"
    assert response["errors"][ids.SETTINGS_UNREAD_BLOCK].startswith(
        "unread_reaction 'Big Smile' is invalid"
    )
    assert audit_of(bot) == []


def test_empty_unread_marker_goes_back_to_default(bot, slack, admin):
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("eyes")}}
    save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed(None)}}

    save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)

    assert setting_of(bot, "unread_reaction") is None
    [_set, (_actor, kind, detail)] = audit_of(bot)
    assert (kind, detail) == (
        "setting_removed",
        {"key": "unread_reaction", "old": "eyes", "new": None},
    )


def test_autoclaim_users_claim_on_first_reply(bot, slack, admin):
    values = {ids.SETTINGS_AUTOCLAIM_BLOCK: {ids.SETTINGS_AUTOCLAIM_INPUT: users(OTHER_AGENT)}}
    save_section(bot, slack, ids.SETTINGS_OPEN_AUTOCLAIM, values)
    add_contact(bot)
    root = start_thread(bot, slack, "Is the job open?", user=CANDIDATE)

    reply(bot, root, "Yes it is!", user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by == OTHER_AGENT
    assert audit_of(bot) == [
        (ADMIN, "autoclaim_changed", {"key": "autoclaim", "old": [], "new": [OTHER_AGENT]})
    ]


def test_autoclaim_removed_user_stops(bot, slack, admin):
    values = {ids.SETTINGS_AUTOCLAIM_BLOCK: {ids.SETTINGS_AUTOCLAIM_INPUT: users(AGENT)}}
    save_section(bot, slack, ids.SETTINGS_OPEN_AUTOCLAIM, values)
    values = {ids.SETTINGS_AUTOCLAIM_BLOCK: {ids.SETTINGS_AUTOCLAIM_INPUT: users(OTHER_AGENT)}}

    save_section(bot, slack, ids.SETTINGS_OPEN_AUTOCLAIM, values)

    with bot.session_scope() as session:
        assert autoclaim_enabled(session, TEAM, AGENT) is False
        assert autoclaim_enabled(session, TEAM, OTHER_AGENT) is True
    [_first, (_actor, _kind, detail)] = audit_of(bot)
    assert (detail["old"], detail["new"]) == ([AGENT], [OTHER_AGENT])


def test_menu_refreshes_after_save(bot, slack, admin):
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("eyes")}}

    _response, _driver, menu = save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)

    refreshed = text_of(slack.view(menu["id"]))
    assert ":eyes:" in refreshed
    assert f"<@{ADMIN}> changed unread_reaction" in refreshed


def test_unchanged_save_writes_no_audit_event(bot, slack, admin):
    values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("eyes")}}
    save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)

    save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)

    assert len(audit_of(bot)) == 1


def test_change_reaches_other_bot_process(bot, slack, admin, db_url):
    other = RunningBot(slack, db_url).start()
    try:
        values = {ids.SETTINGS_UNREAD_BLOCK: {ids.SETTINGS_UNREAD_INPUT: typed("eyes")}}
        save_section(bot, slack, ids.SETTINGS_OPEN_UNREAD, values)
        add_contact(other)
        root = start_thread(other, slack, "Hello", user=AGENT)
        slack.reset()

        reply(other, root, "Hi", user=CANDIDATE)
    finally:
        other.stop()

    [added] = slack.calls_to("reactions.add")
    assert added.args["name"] == "eyes"
