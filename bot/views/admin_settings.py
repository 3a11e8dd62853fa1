"""The /caret-settings modal: a menu of sections, each pushed as its own form.

Slack allows 3 views on a modal's stack, so the menu (1) pushes a section (2), and the teams
section pushes the form of one team (3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.outcomes import DEFAULT_REASONS, OTHER_REASON, Status, recipient_required
from bot.views.text import escape_mrkdwn, shorten, slack_date, user_mention
from bot.working_hours import DAY_NAMES

TITLE = "caretbot settings"

# Slack caps an options list at 100 options.
MAX_OPTIONS = 100
MAX_TEAM_NAME = 80
# A modal holds at most 100 blocks, and the teams list needs a few besides one per team.
MAX_LISTED_TEAMS = 90

DAY_BLOCKS = dict(
    zip(
        DAY_NAMES,
        (
            ids.SETTINGS_HOURS_MON_BLOCK,
            ids.SETTINGS_HOURS_TUE_BLOCK,
            ids.SETTINGS_HOURS_WED_BLOCK,
            ids.SETTINGS_HOURS_THU_BLOCK,
            ids.SETTINGS_HOURS_FRI_BLOCK,
            ids.SETTINGS_HOURS_SAT_BLOCK,
            ids.SETTINGS_HOURS_SUN_BLOCK,
        ),
        strict=True,
    )
)
_DAY_LABELS = dict(
    zip(
        DAY_NAMES,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
REASON_BLOCKS = {
    Status.NOT_QUALIFIED: ids.SETTINGS_REASONS_NOT_QUALIFIED_BLOCK,
    Status.NOT_INTERESTED: ids.SETTINGS_REASONS_NOT_INTERESTED_BLOCK,
}
DEFAULT_WEEKLY = {day: [["09:00", "17:00"]] for day in DAY_NAMES[:5]}
_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
_LIST_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class TeamSummary:
    """A team as the settings show it."""

    id: int
    name: str
    members: tuple[str, ...]
    usergroup_id: str | None
    channel_id: str | None


@dataclass(frozen=True)
class UserGroupChoice:
    id: str
    name: str
    handle: str


@dataclass(frozen=True)
class AuditLine:
    """One audit event as the menu lists it."""

    actor: str | None
    kind: str
    key: str
    at: datetime


@dataclass(frozen=True)
class SettingsOverview:
    """The menu's content: every section's current value and the latest changes."""

    teams: tuple[TeamSummary, ...]
    reasons: dict[str, list[str]] | None
    recipient_rule: dict[str, bool] | None
    schedule: str
    unread_reaction: str
    autoclaim_users: tuple[str, ...]
    admins: tuple[str, ...]
    recent: tuple[AuditLine, ...] = field(default=())


def loading_view(title: str = TITLE) -> View:
    """Build the placeholder opened at once, within the trigger's 3 seconds, then updated."""
    return View(
        type="modal",
        title=PlainTextObject(text=title),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text="Loading the settings…"))],
    )


def refusal_view(text: str) -> View:
    """Build the view shown to someone who may not change the settings."""
    return View(
        type="modal",
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )


def menu_view(overview: SettingsOverview) -> View:
    """Build the menu: one section per setting with its current value and a Change button."""
    team_names = ", ".join(escape_mrkdwn(team.name) for team in overview.teams) or "none yet"
    reasons = (
        "custom for " + ", ".join(Status(key).label for key in sorted(overview.reasons))
        if overview.reasons
        else "the defaults"
    )
    required = [
        status.label
        for status in Status
        if recipient_required(status, overview.recipient_rule or None)
    ]
    autoclaim = ", ".join(user_mention(user) for user in overview.autoclaim_users) or "nobody"
    admins = "the workspace's admins and owners"
    if overview.admins:
        admins += ", and " + ", ".join(user_mention(user) for user in overview.admins)
    rows = [
        ("Teams", team_names, ids.SETTINGS_OPEN_TEAMS),
        ("Reasons per status", reasons, ids.SETTINGS_OPEN_REASONS),
        (
            "Recipient required for",
            ", ".join(required) or "no status",
            ids.SETTINGS_OPEN_RECIPIENTS,
        ),
        ("Working hours", escape_mrkdwn(overview.schedule), ids.SETTINGS_OPEN_HOURS),
        ("Unread marker", f":{overview.unread_reaction}:", ids.SETTINGS_OPEN_UNREAD),
        ("Autoclaim", autoclaim, ids.SETTINGS_OPEN_AUTOCLAIM),
        ("Admins", admins, ids.SETTINGS_OPEN_ADMINS),
    ]
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(text=shorten(f"*{label}*\n{value}", 3000)),
            accessory=ButtonElement(text="Change", action_id=action_id),
        )
        for label, value, action_id in rows
    ]
    if overview.recent:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Latest changes*")))
        blocks += [
            ContextBlock(elements=[MarkdownTextObject(text=_audit_text(line))])
            for line in overview.recent
        ]
    return View(
        type="modal",
        callback_id=ids.SETTINGS_MODAL,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=blocks,
    )


_AUDIT_VERBS = {
    "setting_changed": "changed",
    "setting_removed": "reset",
    "autoclaim_changed": "changed",
    "team_added": "added a",
    "team_changed": "changed a",
    "team_removed": "removed a",
}


def _audit_text(line: AuditLine) -> str:
    who = user_mention(line.actor) if line.actor else "The command line"
    verb = _AUDIT_VERBS.get(line.kind, line.kind)
    return f"{who} {verb} {escape_mrkdwn(line.key)}, {slack_date(line.at)}"


def _form(callback_id: str, title: str, blocks: list[Any], metadata: str = "") -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Back"),
        private_metadata=metadata,
        blocks=blocks,
    )


# Teams


def teams_view(teams: list[TeamSummary]) -> View:
    """Build the list of teams, each with an Edit button, and an Add button."""
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="Teams receive hand-offs: in their channel, or as a DM to each member."
            ),
            accessory=ButtonElement(text="Add a team", action_id=ids.SETTINGS_TEAM_ADD),
        )
    ]
    for team in teams[:MAX_LISTED_TEAMS]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=shorten(_team_text(team), 3000)),
                accessory=ButtonElement(
                    text="Edit", action_id=ids.SETTINGS_TEAM_EDIT, value=str(team.id)
                ),
            )
        )
    if not teams:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No teams yet.")]))
    elif len(teams) > MAX_LISTED_TEAMS:
        # NOTE: the rest can be changed only with `caretbot team` until this list pages.
        shown = f"Showing the first {MAX_LISTED_TEAMS} of {len(teams)} teams, by name."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=shown)]))
    return View(
        type="modal",
        callback_id=ids.SETTINGS_TEAMS_MODAL,
        title=PlainTextObject(text="Teams"),
        close=PlainTextObject(text="Back"),
        blocks=blocks,
    )


def _team_text(team: TeamSummary) -> str:
    if team.usergroup_id:
        members = f"the members of <!subteam^{team.usergroup_id}>"
    else:
        members = ", ".join(user_mention(user) for user in team.members) or "no members"
    channel = f"hand-offs in <#{team.channel_id}>" if team.channel_id else "hand-offs by DM"
    return f"*{escape_mrkdwn(team.name)}*\n{members}; {channel}"


def team_view(
    team: TeamSummary | None, usergroups: list[UserGroupChoice] | None, *, note: str = ""
) -> View:
    """Build the form of one team; `team` None adds one. `usergroups` None: not available."""
    blocks: list[Any] = [
        InputBlock(
            block_id=ids.SETTINGS_TEAM_NAME_BLOCK,
            label="Name",
            element=PlainTextInputElement(
                action_id=ids.SETTINGS_TEAM_NAME_INPUT,
                max_length=MAX_TEAM_NAME,
                initial_value=team.name if team else None,
            ),
        ),
        InputBlock(
            block_id=ids.SETTINGS_TEAM_MEMBERS_BLOCK,
            label="Members",
            optional=True,
            hint="Or link a Slack user group below, whose members change with the group.",
            element=UserMultiSelectElement(
                action_id=ids.SETTINGS_TEAM_MEMBERS_INPUT,
                initial_users=list(team.members) if team and team.members else None,
            ),
        ),
    ]
    if usergroups:
        options = [
            Option(value=group.id, text=shorten(f"{group.name} (@{group.handle})", 75))
            for group in usergroups[:MAX_OPTIONS]
        ]
        initial = next(
            (option for option in options if team and option.value == team.usergroup_id), None
        )
        hint = None
        if len(usergroups) > MAX_OPTIONS:
            hint = f"The first {MAX_OPTIONS} of {len(usergroups)} groups, by name."
        blocks.append(
            InputBlock(
                block_id=ids.SETTINGS_TEAM_USERGROUP_BLOCK,
                label="Slack user group",
                optional=True,
                hint=hint,
                element=StaticSelectElement(
                    action_id=ids.SETTINGS_TEAM_USERGROUP_INPUT,
                    options=options,
                    initial_option=initial,
                ),
            )
        )
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks.append(
        InputBlock(
            block_id=ids.SETTINGS_TEAM_CHANNEL_BLOCK,
            label="Hand-off channel",
            optional=True,
            hint="Without one, each member gets the hand-off as a DM.",
            element=ConversationSelectElement(
                action_id=ids.SETTINGS_TEAM_CHANNEL_INPUT,
                initial_conversation=team.channel_id if team else None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        )
    )
    if team is not None:
        blocks.append(
            InputBlock(
                block_id=ids.SETTINGS_TEAM_REMOVE_BLOCK,
                label="Remove",
                optional=True,
                element=CheckboxesElement(
                    action_id=ids.SETTINGS_TEAM_REMOVE_INPUT,
                    options=[Option(value="remove", text="Remove this team")],
                ),
            )
        )
    title = "Edit team" if team else "Add a team"
    return _form(ids.SETTINGS_TEAM_MODAL, title, blocks, str(team.id) if team else "")


@dataclass(frozen=True)
class TeamValues:
    """The values submitted in the team form."""

    name: str
    members: list[str]
    usergroup_id: str | None
    channel_id: str | None
    remove: bool
    # False when the form had no group picker, because Slack did not list the groups.
    usergroup_offered: bool


def read_team_values(values: dict[str, Any]) -> TeamValues:
    name = _input(values, ids.SETTINGS_TEAM_NAME_BLOCK).get("value") or ""
    members = _input(values, ids.SETTINGS_TEAM_MEMBERS_BLOCK).get("selected_users") or []
    group = _input(values, ids.SETTINGS_TEAM_USERGROUP_BLOCK).get("selected_option") or {}
    channel = _input(values, ids.SETTINGS_TEAM_CHANNEL_BLOCK).get("selected_conversation")
    remove = _input(values, ids.SETTINGS_TEAM_REMOVE_BLOCK).get("selected_options") or []
    return TeamValues(
        name=" ".join(name.split()),
        members=list(members),
        usergroup_id=group.get("value") or None,
        channel_id=channel or None,
        remove=bool(remove),
        usergroup_offered=ids.SETTINGS_TEAM_USERGROUP_BLOCK in values,
    )


def _input(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    """Return the state of a block's one input, or {} when the block is not in the view."""
    block = values.get(block_id) or {}
    return next(iter(block.values()), {}) if block else {}


# Reasons and the recipient rule


def reasons_view(stored: dict[str, list[str]] | None) -> View:
    """Build the reason lists, one per line, for the statuses that ask for a reason."""
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"One reason per line. caretbot adds “{OTHER_REASON}” at the end. "
                "An empty list goes back to the defaults."
            )
        )
    ]
    for status, block_id in REASON_BLOCKS.items():
        reasons = (stored or {}).get(status.value) or list(DEFAULT_REASONS[status])
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=status.label,
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.SETTINGS_REASONS_INPUT,
                    multiline=True,
                    initial_value="\n".join(reasons),
                ),
            )
        )
    return _form(ids.SETTINGS_REASONS_MODAL, "Reasons", blocks)


def read_reasons(values: dict[str, Any]) -> dict[str, list[str]]:
    """Return the submitted lists by status value; a status left empty is left out."""
    reasons: dict[str, list[str]] = {}
    for status, block_id in REASON_BLOCKS.items():
        text = _input(values, block_id).get("value") or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            reasons[status.value] = lines
    return reasons


def recipients_view(stored: dict[str, bool] | None) -> View:
    options = [Option(value=status.value, text=status.label) for status in Status]
    initial = [
        option
        for option, status in zip(options, Status, strict=True)
        if recipient_required(status, stored or None)
    ]
    blocks = [
        InputBlock(
            block_id=ids.SETTINGS_RECIPIENTS_BLOCK,
            label="Statuses that need a recipient",
            optional=True,
            hint="A delivery with a checked status must name at least one recipient.",
            element=CheckboxesElement(
                action_id=ids.SETTINGS_RECIPIENTS_INPUT,
                options=options,
                initial_options=initial or None,
            ),
        )
    ]
    return _form(ids.SETTINGS_RECIPIENTS_MODAL, "Recipient rule", blocks)


def read_recipient_rule(values: dict[str, Any]) -> dict[str, bool]:
    chosen = _input(values, ids.SETTINGS_RECIPIENTS_BLOCK).get("selected_options") or []
    checked = {option["value"] for option in chosen}
    return {status.value: status.value in checked for status in Status}


# Working hours


def hours_view(stored: dict[str, Any] | None) -> View:
    """Build the schedule form: time zone, the periods of each weekday, and holidays."""
    zone = (stored or {}).get("time_zone")
    weekly = (stored or {}).get("weekly", DEFAULT_WEEKLY) if stored else DEFAULT_WEEKLY
    holidays = (stored or {}).get("holidays", [])
    blocks: list[Any] = [
        InputBlock(
            block_id=ids.SETTINGS_HOURS_ZONE_BLOCK,
            label="Time zone",
            hint="Type part of an IANA name, such as Berlin or America/New_York.",
            element=ExternalDataSelectElement(
                action_id=ids.SETTINGS_HOURS_ZONE_INPUT,
                min_query_length=1,
                initial_option=Option(value=zone, text=zone) if zone else None,
            ),
        )
    ]
    for day in DAY_NAMES:
        periods = weekly.get(day) or []
        blocks.append(
            InputBlock(
                block_id=DAY_BLOCKS[day],
                label=_DAY_LABELS[day],
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.SETTINGS_HOURS_DAY_INPUT,
                    placeholder="09:00-12:00, 13:00-17:00",
                    initial_value=", ".join(f"{start}-{end}" for start, end in periods) or None,
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ids.SETTINGS_HOURS_HOLIDAYS_BLOCK,
            label="Holidays",
            optional=True,
            hint="Dates as YYYY-MM-DD, separated by commas or new lines.",
            element=PlainTextInputElement(
                action_id=ids.SETTINGS_HOURS_HOLIDAYS_INPUT,
                multiline=True,
                initial_value="\n".join(holidays) or None,
            ),
        )
    )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="A day left empty has no working time. A period may end at 24:00."
                )
            ]
        )
    )
    return _form(ids.SETTINGS_HOURS_MODAL, "Working hours", blocks)


class FormError(Exception):
    """Invalid input in one block of a form; `message` is shown under that block."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id
        self.message = message


def read_hours(values: dict[str, Any]) -> dict[str, Any]:
    """Return the submitted schedule in the settings form. Raises FormError on bad text."""
    zone = (_input(values, ids.SETTINGS_HOURS_ZONE_BLOCK).get("selected_option") or {}).get("value")
    weekly: dict[str, list[list[str]]] = {}
    for day, block_id in DAY_BLOCKS.items():
        text = (_input(values, block_id).get("value") or "").strip()
        if not text:
            continue
        periods = []
        for part in text.split(","):
            match = _PERIOD.match(part)
            if match is None:
                raise FormError(
                    block_id,
                    f"{part.strip()!r} is not a period: write it as 09:00-17:00, and separate "
                    f"periods with commas.",
                )
            periods.append([_two_digit_hour(match.group(1)), _two_digit_hour(match.group(2))])
        weekly[day] = periods
    holidays_text = _input(values, ids.SETTINGS_HOURS_HOLIDAYS_BLOCK).get("value") or ""
    holidays = [part for part in _LIST_SEPARATORS.split(holidays_text) if part]
    return {"time_zone": zone, "weekly": weekly, "holidays": holidays}


def _two_digit_hour(text: str) -> str:
    return text if len(text) == 5 else "0" + text


def time_zone_options(zones: list[str], typed: str) -> list[Option]:
    """Return up to 100 zones whose name contains what the admin typed, in any letter case."""
    needle = typed.strip().lower().replace(" ", "_")
    matches = [zone for zone in zones if needle in zone.lower()]
    # Zones that start with the text come first, so "lon" offers Europe/London early.
    matches.sort(key=lambda zone: (not zone.lower().split("/")[-1].startswith(needle), zone))
    return [Option(value=zone, text=zone) for zone in matches[:MAX_OPTIONS]]


# The unread marker, autoclaim and admins


def unread_view(reaction: str) -> View:
    blocks = [
        InputBlock(
            block_id=ids.SETTINGS_UNREAD_BLOCK,
            label="Emoji name",
            hint="The reaction on a thread while the contact waits, such as eyes. "
            "Leave it empty for red_circle.",
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.SETTINGS_UNREAD_INPUT, max_length=100, initial_value=reaction
            ),
        )
    ]
    return _form(ids.SETTINGS_UNREAD_MODAL, "Unread marker", blocks)


def read_unread_reaction(values: dict[str, Any]) -> str:
    """Return the emoji name without surrounding colons; empty means the default."""
    text = _input(values, ids.SETTINGS_UNREAD_BLOCK).get("value") or ""
    return text.strip().strip(":")


def users_view(callback_id: str, title: str, label: str, hint: str, users: list[str]) -> View:
    """Build a form with one list of users, for autoclaim and for the admins."""
    block_id, action_id = _USER_LISTS[callback_id]
    blocks = [
        InputBlock(
            block_id=block_id,
            label=label,
            optional=True,
            hint=hint,
            element=UserMultiSelectElement(action_id=action_id, initial_users=users or None),
        )
    ]
    return _form(callback_id, title, blocks)


def read_users(callback_id: str, values: dict[str, Any]) -> list[str]:
    block_id, _action_id = _USER_LISTS[callback_id]
    return sorted(set(_input(values, block_id).get("selected_users") or []))


_USER_LISTS = {
    ids.SETTINGS_AUTOCLAIM_MODAL: (ids.SETTINGS_AUTOCLAIM_BLOCK, ids.SETTINGS_AUTOCLAIM_INPUT),
    ids.SETTINGS_ADMINS_MODAL: (ids.SETTINGS_ADMINS_BLOCK, ids.SETTINGS_ADMINS_INPUT),
}
