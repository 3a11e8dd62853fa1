"""/caret-settings: the admins' modal for teams, reasons, working hours and the other settings.

Every change is stored with its audit event in one transaction. Each request reads the
settings from the database, so a change reaches the next request of every bot process.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from functools import cache
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot import ids
from bot.commands.deliver import REASONS_SETTING, RECIPIENT_RULE_SETTING
from bot.commands.stat import WORKING_HOURS_SETTING, describe_schedule
from bot.errors import reporting
from bot.modals import open_modal, push_modal
from bot.recording import UNREAD_REACTION_SETTING, unread_reaction
from bot.records import RecordsError
from bot.roles import ADMINS_SETTING, is_admin, refusal
from bot.settings_cli import CHECKS
from bot.views.admin_settings import (
    DAY_BLOCKS,
    REASON_BLOCKS,
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
    read_recipient_rule,
    read_team_values,
    read_unread_reaction,
    read_users,
    reasons_view,
    recipients_view,
    refusal_view,
    team_view,
    teams_view,
    time_zone_options,
    unread_view,
    users_view,
)
from bot.working_hours import WorkingHours
from storage.audit import (
    add_team_audited,
    change_autoclaim,
    change_setting,
    list_audit_events,
    remove_setting,
    remove_team_audited,
    update_team_audited,
)
from storage.claims import list_autoclaim_users
from storage.db import SessionScope
from storage.settings import get_setting
from storage.teams import TeamExists, get_team, list_teams, team_members

log = logging.getLogger(__name__)

COMMAND = "/caret-settings"
RECENT_CHANGES = 5

# Slack errors of usergroups.list after which the team form goes without a group picker.
_USERGROUP_NOTES = {
    "missing_scope": "caretbot cannot read Slack user groups: add the usergroups:read scope "
    "to the app in manifest.yml and reinstall it.",
    "plan_upgrade_required": "This workspace's Slack plan has no user groups.",
}


@cache
def _time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


class SettingsFlow:
    """The listeners of /caret-settings and of every section of its modal."""

    def __init__(self, session_scope: SessionScope) -> None:
        self.session_scope = session_scope

    def handle_settings_command(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the modal at once, then show the menu to an admin and a refusal to others."""
        ack()

        view_id = open_modal(client, body["trigger_id"], loading_view())

        workspace_id, user_id = body["team_id"], body["user_id"]
        if not is_admin(client, self.session_scope, workspace_id, user_id):
            text = refusal(self.session_scope, workspace_id, COMMAND)
            client.views_update(view_id=view_id, view=refusal_view(text))
            log.info("settings rejected: not an admin team=%s user=%s", workspace_id, user_id)
            return
        client.views_update(view_id=view_id, view=menu_view(self._overview(workspace_id)))

    def section_action(self, title: str, build: Callable[[str, WebClient], View]):
        """Return the listener of a menu button: push a loading view, then the section."""

        def handle_settings_open_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()

            view_id = push_modal(client, body["trigger_id"], loading_view(title))

            workspace_id, user_id = body["team"]["id"], body["user"]["id"]
            if not is_admin(client, self.session_scope, workspace_id, user_id):
                text = refusal(self.session_scope, workspace_id, COMMAND)
                client.views_update(view_id=view_id, view=refusal_view(text))
                return
            client.views_update(view_id=view_id, view=build(workspace_id, client))

        return handle_settings_open_action

    # Section views

    def _teams(self, workspace_id: str, _client: WebClient | None = None) -> View:
        return teams_view(self._team_summaries(workspace_id))

    def _team_form(self, body: dict[str, Any]) -> Callable[[str, WebClient], View]:
        value = body["actions"][0].get("value")

        def build(workspace_id: str, client: WebClient) -> View:
            team = None
            if value:
                team = next(
                    (t for t in self._team_summaries(workspace_id) if str(t.id) == value), None
                )
                if team is None:
                    return refusal_view("This team was removed. Go back and refresh the list.")
            usergroups, note = _usergroups(client)
            return team_view(team, usergroups, note=note)

        return build

    def _reasons(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            stored = get_setting(session, workspace_id, REASONS_SETTING)
        return reasons_view(stored if isinstance(stored, dict) else None)

    def _recipients(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            stored = get_setting(session, workspace_id, RECIPIENT_RULE_SETTING)
        return recipients_view(stored if isinstance(stored, dict) else None)

    def _hours(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            stored = get_setting(session, workspace_id, WORKING_HOURS_SETTING)
        return hours_view(stored if isinstance(stored, dict) else None)

    def _unread(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            reaction = unread_reaction(session, workspace_id)
        return unread_view(reaction)

    def _autoclaim(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            users = list_autoclaim_users(session, workspace_id)
        return users_view(
            ids.SETTINGS_AUTOCLAIM_MODAL,
            "Autoclaim",
            "Users who autoclaim",
            "Their first reply in a thread that nobody holds claims the conversation.",
            users,
        )

    def _admins(self, workspace_id: str, _client: WebClient) -> View:
        with self.session_scope() as session:
            users = list(get_setting(session, workspace_id, ADMINS_SETTING) or [])
        return users_view(
            ids.SETTINGS_ADMINS_MODAL,
            "Admins",
            "Admins besides the workspace's admins and owners",
            "They may open these settings and run the other admin commands.",
            users,
        )

    def handle_settings_team_form_action(
        self, ack: Ack, body: dict[str, Any], client: WebClient
    ) -> None:
        """Push the form of one team, or of a new one, from the teams list."""
        self.section_action("Team", self._team_form(body))(ack, body, client)

    # Submissions

    def handle_settings_submission(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Check a section's input, store it with its audit event, and refresh the menu."""
        view = body["view"]
        workspace_id, user_id = body["team"]["id"], body["user"]["id"]
        values = view["state"]["values"]
        callback_id = view["callback_id"]
        first_block = next(iter(values), None)
        if not is_admin(client, self.session_scope, workspace_id, user_id):
            text = refusal(self.session_scope, workspace_id, COMMAND)
            if first_block is None:
                ack(response_action="update", view=refusal_view(text))
            else:
                ack(response_action="errors", errors={first_block: text})
            return

        save = self._savers()[callback_id]
        try:
            changed = save(workspace_id, user_id, values, view)
        except FormError as failure:
            ack(response_action="errors", errors={failure.block_id: failure.message})
            return
        ack()

        log.info(
            "settings saved team=%s user=%s section=%s changed=%s",
            workspace_id,
            user_id,
            callback_id,
            changed,
        )
        if callback_id == ids.SETTINGS_TEAM_MODAL and view.get("previous_view_id"):
            _update_quietly(client, view["previous_view_id"], self._teams(workspace_id))
        _update_quietly(client, view["root_view_id"], menu_view(self._overview(workspace_id)))

    def _savers(self) -> dict[str, Callable[[str, str, dict[str, Any], dict[str, Any]], bool]]:
        return {
            ids.SETTINGS_TEAM_MODAL: self._save_team,
            ids.SETTINGS_REASONS_MODAL: self._save_reasons,
            ids.SETTINGS_RECIPIENTS_MODAL: self._save_recipients,
            ids.SETTINGS_HOURS_MODAL: self._save_hours,
            ids.SETTINGS_UNREAD_MODAL: self._save_unread,
            ids.SETTINGS_AUTOCLAIM_MODAL: self._save_autoclaim,
            ids.SETTINGS_ADMINS_MODAL: self._save_admins,
        }

    def _store(self, workspace_id: str, key: str, value: Any, actor: str) -> bool:
        """Store a checked value, or go back to the default when `value` is empty."""
        with self.session_scope() as session:
            if value in (None, "", [], {}):
                return remove_setting(session, workspace_id, key, actor=actor)
            return change_setting(session, workspace_id, key, value, actor=actor)

    def _save_reasons(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        reasons = read_reasons(values)
        for status, block_id in REASON_BLOCKS.items():
            if status.value in reasons:
                _check(REASONS_SETTING, {status.value: reasons[status.value]}, block_id)
        return self._store(workspace_id, REASONS_SETTING, reasons, actor)

    def _save_recipients(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        rule = read_recipient_rule(values)
        _check(RECIPIENT_RULE_SETTING, rule, ids.SETTINGS_RECIPIENTS_BLOCK)
        return self._store(workspace_id, RECIPIENT_RULE_SETTING, rule, actor)

    def _save_hours(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        hours = read_hours(values)
        if not hours["time_zone"]:
            raise FormError(ids.SETTINGS_HOURS_ZONE_BLOCK, "Choose a time zone.")
        _check_hours({"time_zone": hours["time_zone"]}, ids.SETTINGS_HOURS_ZONE_BLOCK)
        for day, periods in hours["weekly"].items():
            _check_hours({"time_zone": "UTC", "weekly": {day: periods}}, DAY_BLOCKS[day])
        for holiday in hours["holidays"]:
            _check_hours(
                {"time_zone": "UTC", "holidays": [holiday]}, ids.SETTINGS_HOURS_HOLIDAYS_BLOCK
            )
        _check(WORKING_HOURS_SETTING, hours, ids.SETTINGS_HOURS_ZONE_BLOCK)
        return self._store(workspace_id, WORKING_HOURS_SETTING, hours, actor)

    def _save_unread(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        reaction = read_unread_reaction(values)
        if reaction:
            _check(UNREAD_REACTION_SETTING, reaction, ids.SETTINGS_UNREAD_BLOCK)
        return self._store(workspace_id, UNREAD_REACTION_SETTING, reaction, actor)

    def _save_autoclaim(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        users = read_users(ids.SETTINGS_AUTOCLAIM_MODAL, values)
        with self.session_scope() as session:
            return change_autoclaim(session, workspace_id, users, actor=actor)

    def _save_admins(self, workspace_id: str, actor: str, values: dict, _view: dict) -> bool:
        users = read_users(ids.SETTINGS_ADMINS_MODAL, values)
        _check(ADMINS_SETTING, users, ids.SETTINGS_ADMINS_BLOCK)
        return self._store(workspace_id, ADMINS_SETTING, users, actor)

    def _save_team(self, workspace_id: str, actor: str, values: dict, view: dict) -> bool:
        submitted = read_team_values(values)
        team_id = int(view["private_metadata"]) if view.get("private_metadata") else None
        with self.session_scope() as session:
            team = (
                get_team(session, workspace_id=workspace_id, team_id=team_id) if team_id else None
            )
            if team_id is not None and team is None:
                raise FormError(
                    ids.SETTINGS_TEAM_NAME_BLOCK,
                    "This team was removed meanwhile. Go back to the list of teams.",
                )
            if team is not None and submitted.remove:
                return remove_team_audited(
                    session, workspace_id=workspace_id, name=team.name, actor=actor
                )
            usergroup_id = submitted.usergroup_id
            if not submitted.usergroup_offered and team is not None:
                # The form had no group picker, because Slack did not list the groups, so
                # the team keeps the group it has.
                usergroup_id = team.usergroup_id
            _check_team(submitted.name, submitted.members, usergroup_id, submitted.channel_id)
            try:
                if team is None:
                    add_team_audited(
                        session,
                        workspace_id=workspace_id,
                        name=submitted.name,
                        members=submitted.members,
                        channel_id=submitted.channel_id,
                        usergroup_id=usergroup_id,
                        actor=actor,
                    )
                    return True
                return update_team_audited(
                    session,
                    team,
                    name=submitted.name,
                    members=[] if usergroup_id else submitted.members,
                    channel_id=submitted.channel_id,
                    usergroup_id=usergroup_id,
                    actor=actor,
                )
            except TeamExists as failure:
                raise FormError(
                    ids.SETTINGS_TEAM_NAME_BLOCK,
                    f"A team named {submitted.name!r} exists already: choose another name.",
                ) from failure

    # Reading what the menu shows

    def _team_summaries(self, workspace_id: str) -> list[TeamSummary]:
        with self.session_scope() as session:
            return [
                TeamSummary(
                    id=team.id,
                    name=team.name,
                    members=tuple(team_members(session, team.id)),
                    usergroup_id=team.usergroup_id,
                    channel_id=team.channel_id,
                )
                for team in list_teams(session, workspace_id)
                if team.id is not None
            ]

    def _overview(self, workspace_id: str) -> SettingsOverview:
        teams = self._team_summaries(workspace_id)
        with self.session_scope() as session:
            reasons = get_setting(session, workspace_id, REASONS_SETTING)
            rule = get_setting(session, workspace_id, RECIPIENT_RULE_SETTING)
            hours = get_setting(session, workspace_id, WORKING_HOURS_SETTING)
            reaction = unread_reaction(session, workspace_id)
            autoclaim_users = list_autoclaim_users(session, workspace_id)
            admins = get_setting(session, workspace_id, ADMINS_SETTING) or []
            recent = [
                AuditLine(
                    actor=event.actor,
                    kind=event.kind,
                    key=str(event.detail.get("key", "")),
                    at=event.at,
                )
                for event in list_audit_events(session, workspace_id, limit=RECENT_CHANGES)
            ]
        return SettingsOverview(
            teams=tuple(teams),
            reasons=reasons if isinstance(reasons, dict) else None,
            recipient_rule=rule if isinstance(rule, dict) else None,
            schedule=_schedule_text(workspace_id, hours),
            unread_reaction=reaction,
            autoclaim_users=tuple(autoclaim_users),
            admins=tuple(admins),
            recent=tuple(recent),
        )

    def handle_time_zone_options(self, ack: Ack, body: dict[str, Any]) -> None:
        """Return the IANA time zones that match what the admin typed."""
        options = time_zone_options(_time_zones(), body.get("value", ""))
        ack(options=[option.to_dict() for option in options])


def _schedule_text(workspace_id: str, stored: Any) -> str:
    if stored:
        try:
            return describe_schedule(WorkingHours.from_settings(stored))
        except (TypeError, ValueError) as failure:
            log.warning(
                "working hours setting invalid, shown as default team=%s error=%s",
                workspace_id,
                failure,
            )
    return "Monday to Friday, 09:00 to 17:00, in the time zone of each person (the default)"


def _check(key: str, value: Any, block_id: str) -> None:
    """Run the command line's check of a setting; its message goes under `block_id`."""
    try:
        CHECKS[key](value)
    except RecordsError as failure:
        raise FormError(block_id, str(failure)) from failure


def _check_hours(settings: dict[str, Any], block_id: str) -> None:
    try:
        WorkingHours.from_settings(settings)
    except (TypeError, ValueError) as failure:
        raise FormError(block_id, str(failure)) from failure


def _check_team(
    name: str, members: list[str], usergroup_id: str | None, channel_id: str | None
) -> None:
    if not name:
        raise FormError(ids.SETTINGS_TEAM_NAME_BLOCK, "Give the team a name.")
    if members and usergroup_id:
        raise FormError(
            ids.SETTINGS_TEAM_MEMBERS_BLOCK,
            "Choose members or a Slack user group, not both: a linked group's members are "
            "the team's members.",
        )
    if not members and not usergroup_id and not channel_id:
        raise FormError(
            ids.SETTINGS_TEAM_MEMBERS_BLOCK,
            "A team needs members, a Slack user group or a hand-off channel.",
        )


def _usergroups(client: WebClient) -> tuple[list[UserGroupChoice] | None, str]:
    """Return the workspace's user groups, or None and a note saying why there are none."""
    try:
        response = client.usergroups_list()
    except SlackApiError as failure:
        error = failure.response.get("error")
        if error not in _USERGROUP_NOTES:
            raise
        log.info("usergroups unavailable error=%s", error)
        return None, _USERGROUP_NOTES[error]
    groups = [
        UserGroupChoice(id=group["id"], name=group.get("name", ""), handle=group.get("handle", ""))
        for group in response.get("usergroups", [])
    ]
    if not groups:
        return None, "This workspace has no Slack user groups yet."
    return sorted(groups, key=lambda group: group.name.lower()), ""


def _update_quietly(client: WebClient, view_id: str, view: View) -> None:
    """Refresh a view under the form that closed; the change is stored whether it works or not."""
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as failure:
        log.info(
            "settings view not refreshed view=%s error=%s", view_id, failure.response.get("error")
        )


def register(app: App, session_scope: SessionScope) -> None:
    flow = SettingsFlow(session_scope)
    app.command(COMMAND)(reporting(flow.handle_settings_command))
    sections = [
        (ids.SETTINGS_OPEN_TEAMS, "Teams", flow._teams),
        (ids.SETTINGS_OPEN_REASONS, "Reasons", flow._reasons),
        (ids.SETTINGS_OPEN_RECIPIENTS, "Recipient rule", flow._recipients),
        (ids.SETTINGS_OPEN_HOURS, "Working hours", flow._hours),
        (ids.SETTINGS_OPEN_UNREAD, "Unread marker", flow._unread),
        (ids.SETTINGS_OPEN_AUTOCLAIM, "Autoclaim", flow._autoclaim),
        (ids.SETTINGS_OPEN_ADMINS, "Admins", flow._admins),
    ]
    for action_id, title, build in sections:
        app.action(action_id)(reporting(flow.section_action(title, build)))
    for action_id in (ids.SETTINGS_TEAM_ADD, ids.SETTINGS_TEAM_EDIT):
        app.action(action_id)(reporting(flow.handle_settings_team_form_action))
    for callback_id in flow._savers():
        app.view(callback_id)(reporting(flow.handle_settings_submission))
    app.options(ids.SETTINGS_HOURS_ZONE_INPUT)(flow.handle_time_zone_options)
