"""The workspace the double serves: users, conversations, messages, views and triggers.

Nothing here locks. SlackDouble holds its lock around every read and write of a Workspace.
"""

import bisect
import datetime
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Slack message timestamps: seconds, a dot and six digits ("1733270000.000100").
TS_PATTERN = re.compile(r"^\d{9,10}\.\d{6}$")

_ID_ALPHABET = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    """Return a Slack-shaped id such as "V0ABC12DEF" or "F7XK3M9QPA"."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def ts_key(ts: str) -> tuple[int, int]:
    """Return the sortable (seconds, microseconds) of a Slack timestamp."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction or 0)


def make_user(
    user_id: str,
    name: str,
    *,
    team_id: str,
    real_name: str | None,
    email: str | None,
    is_admin: bool,
    is_owner: bool,
    is_bot: bool,
    deleted: bool,
    tz: str,
    is_restricted: bool,
    is_ultra_restricted: bool = False,
) -> dict:
    """Build a user object shaped like users.info's `user`.

    A single-channel guest is ultra restricted, and Slack marks them restricted too.
    """
    try:
        offset = datetime.datetime.now(ZoneInfo(tz)).utcoffset()
    except ZoneInfoNotFoundError:
        offset = None
    profile: dict = {
        "real_name": real_name or name,
        "display_name": name,
        "team": team_id,
    }
    if email is not None:
        profile["email"] = email
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "real_name": real_name or name,
        "deleted": deleted,
        "tz": tz,
        "tz_label": tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "is_admin": is_admin,
        "is_owner": is_owner,
        "is_primary_owner": False,
        "is_restricted": is_restricted or is_ultra_restricted,
        "is_ultra_restricted": is_ultra_restricted,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(time.time()),
        "profile": profile,
    }


def make_usergroup(
    usergroup_id: str,
    name: str,
    *,
    team_id: str,
    handle: str,
    users: list[str],
    disabled: bool,
) -> dict:
    """Build a user group shaped like an entry of usergroups.list, with its members."""
    now = int(time.time())
    return {
        "id": usergroup_id,
        "team_id": team_id,
        "is_usergroup": True,
        "name": name,
        "description": "",
        "handle": handle,
        "is_external": False,
        "date_create": now,
        "date_update": now,
        "date_delete": now if disabled else 0,
        "auto_type": None,
        "created_by": "USLACKBOT",
        "updated_by": "USLACKBOT",
        "deleted_by": "USLACKBOT" if disabled else None,
        "prefs": {"channels": [], "groups": []},
        "users": list(users),
    }


@dataclass
class Conversation:
    """A channel, private channel, DM or group DM, with its members."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_ext_shared: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    bot_is_member: bool = True
    user: str | None = None  # the other member of a DM
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def kind(self) -> str:
        """Return the channel_type Slack puts on message events: channel, group, im or mpim."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"

    def to_slack(self, *, include_num_members: bool = False) -> dict:
        """Build the conversation object of conversations.info."""
        if self.is_im:
            info: dict = {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "is_open": True,
                "priority": 0,
            }
        else:
            info = {
                "id": self.id,
                "name": self.name,
                "name_normalized": self.name,
                "created": self.created,
                "is_channel": not self.is_private and not self.is_mpim,
                "is_group": self.is_private and not self.is_mpim,
                "is_im": False,
                "is_mpim": self.is_mpim,
                "is_private": self.is_private,
                "is_archived": self.is_archived,
                "is_general": False,
                "is_shared": self.is_ext_shared,
                "is_ext_shared": self.is_ext_shared,
                "is_org_shared": False,
                "is_pending_ext_shared": False,
                "is_member": self.bot_is_member,
            }
        if include_num_members:
            info["num_members"] = len(self.members) + (1 if self.bot_is_member else 0)
        return info


@dataclass
class Trigger:
    """A trigger_id the double issued, usable once within its time to live."""

    issued_at: float
    user_id: str | None
    view_id: str | None
    exchanged: bool = False


@dataclass
class ViewRecord:
    """A modal or Home tab view, as the last views.* call returned it."""

    view: dict
    user_id: str | None
    root_view_id: str


@dataclass
class FileRecord:
    """A file from files.getUploadURLExternal, with the bytes once they were uploaded."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None


@dataclass
class ResponseUrl:
    """The target of a response_url: a conversation and, for message actions, a message."""

    user_id: str
    channel_id: str
    message_ts: str | None
    thread_ts: str | None


class Workspace:
    """All state of the double's one workspace."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str, app_id: str) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, dict] = {}
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, list[dict]] = {}
        self.ephemerals: list[dict] = []
        self.triggers: dict[str, Trigger] = {}
        self.views: dict[str, ViewRecord] = {}
        self.stacks: dict[str, list[str]] = {}  # root view id -> view ids, bottom first
        self.home_views: dict[str, str] = {}  # user id -> view id of their Home tab
        self.files: dict[str, FileRecord] = {}
        self.upload_tickets: dict[str, str] = {}  # upload URL ticket -> file id
        self.socket_tickets: set[str] = set()  # Socket Mode URL tickets not used yet
        self.response_urls: dict[str, ResponseUrl] = {}
        self.usergroups: dict[str, dict] = {}  # user group id -> usergroups.list object
        self._last_ts = (0, 0)

    def next_ts(self) -> str:
        """Return a new message timestamp, later than every timestamp issued or seeded."""
        now = (int(time.time()), 0)
        seconds, micros = max(now, self._last_ts)
        micros += 100
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        self._last_ts = (seconds, micros)
        return f"{seconds}.{micros:06d}"

    def note_ts(self, ts: str) -> None:
        self._last_ts = max(self._last_ts, ts_key(ts))

    def resolve_conversation(self, value: str) -> Conversation | None:
        """Find a conversation by id, by name ("general" or "#general"), or a user's DM."""
        if value in self.conversations:
            return self.conversations[value]
        if value in self.users:
            return self.dm_for(value)
        name = value.removeprefix("#")
        for conversation in self.conversations.values():
            if not conversation.is_im and conversation.name == name:
                return conversation
        return None

    def find_dm(self, user_id: str) -> Conversation | None:
        for conversation in self.conversations.values():
            if conversation.is_im and conversation.user == user_id:
                return conversation
        return None

    def dm_for(self, user_id: str) -> Conversation:
        """Return the bot's DM with a user: a seeded one, or one made with id "D" + user id."""
        existing = self.find_dm(user_id)
        if existing is not None:
            return existing
        dm_id = "D" + user_id
        self.conversations[dm_id] = Conversation(
            id=dm_id, name=dm_id, is_private=True, is_im=True, members={user_id}, user=user_id
        )
        return self.conversations[dm_id]

    def find_message(self, channel_id: str, ts: str) -> dict | None:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        return None

    def insert_message(self, channel_id: str, message: dict) -> None:
        """Store a message in ts order and update its thread's parent, if it is a reply."""
        self.note_ts(message["ts"])
        stored = self.messages.setdefault(channel_id, [])
        keys = [ts_key(existing["ts"]) for existing in stored]
        stored.insert(bisect.bisect(keys, ts_key(message["ts"])), message)

        thread_ts = message.get("thread_ts")
        if thread_ts is None or thread_ts == message["ts"]:
            return
        parent = self.find_message(channel_id, thread_ts)
        if parent is None:
            return
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        author = message.get("user")
        reply_users = parent.setdefault("reply_users", [])
        if author is not None and author not in reply_users:
            reply_users.append(author)
        parent["reply_users_count"] = len(reply_users)
        parent["latest_reply"] = message["ts"]
        if "user" in parent:
            message["parent_user_id"] = parent["user"]

    def thread_of(self, channel_id: str, thread_ts: str) -> list[dict]:
        """Return a thread's messages, parent first, as conversations.replies lists them."""
        messages = self.messages.get(channel_id, [])
        parent = next((message for message in messages if message["ts"] == thread_ts), None)
        replies = [
            message
            for message in messages
            if message.get("thread_ts") == thread_ts and message["ts"] != thread_ts
        ]
        return ([parent] if parent is not None else []) + replies
