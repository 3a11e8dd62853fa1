"""`caretbot demo`: play a conversation against the built-in Slack double, no workspace needed."""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
from pathlib import Path
from typing import Any, TextIO

from bot import ids
from bot.serving import LocalBot
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import block_actions, message_event, new_ts, submission_of
from storage import migrate
from storage.contacts import (
    link_conversation,
    set_active_application,
    upsert_application,
    upsert_contact,
)
from storage.conversations import ensure_workspace

TEAM = "T0DOUBLE"
CHANNEL = "C0DEMO"
AGENT = "U0ANN"
CANDIDATE = "U0CASEY"
RECRUITER = "U0RITA"
NAMES = {AGENT: "Ann (agent)", CANDIDATE: "Casey (candidate)", RECRUITER: "Rita (recruiter)"}
DEMO_SECRET = "demo-signing-secret"
FIRST_MESSAGE = "Hi! I applied for the Data Analyst role last week. Is it open?"


class Demo:
    """Posts what people type as signed Slack requests and prints what each person sees."""

    def __init__(self, bot: LocalBot, slack: SlackDouble, out: TextIO, root: str) -> None:
        self.bot = bot
        self.slack = slack
        self.out = out
        self.root = root

    def say(self, user: str, text: str, *, top_level: bool = False) -> None:
        """Post a message from a person into the thread and show caretbot's answers."""
        print(f"\n{NAMES[user]} writes: {text}", file=self.out)
        ts = self.root if top_level else None
        event = message_event(
            text, user=user, channel=CHANNEL, ts=ts, thread_ts=None if top_level else self.root
        )
        self._settle(event)

    def click(self, user: str, button: dict[str, Any]) -> None:
        """Click a button of caretbot's last message and show what opens."""
        print(f"\n{NAMES[user]} clicks [{button['text']['text']}]", file=self.out)
        trigger_id = self.slack.issue_trigger_id(user_id=user)
        self._settle(
            block_actions(
                button["action_id"],
                user=user,
                value=button.get("value"),
                trigger_id=trigger_id,
                channel=CHANNEL,
            )
        )

    def choose(self, user: str, view: dict[str, Any], action_id: str, values: dict, shown: str):
        """Pick in a select that makes caretbot rebuild the open modal; return the new view."""
        print(f"\n{NAMES[user]} picks {shown}", file=self.out)
        view = {**view, "state": {"values": values}}
        block_id = next(
            block["block_id"]
            for block in view["blocks"]
            if (block.get("element") or {}).get("action_id") == action_id
        )
        self._settle(
            block_actions(
                action_id,
                user=user,
                trigger_id=self.slack.issue_trigger_id(user_id=user),
                view=view,
                block_id=block_id,
                action_type="static_select",
            )
        )
        return self.slack.view(view["id"])

    def submit(
        self, user: str, view: dict[str, Any], values: dict[str, Any], shown: str
    ) -> dict[str, Any] | None:
        """Submit an open modal with the given input values; return caretbot's response."""
        print(f"\n{NAMES[user]} fills in the form ({shown}) and submits it", file=self.out)
        body = self._settle(
            submission_of(view, user=user, values=values, trigger_id=self.slack.issue_trigger_id())
        )
        response = json.loads(body) if body else None
        if response and response.get("response_action") == "push":
            pushed = response["view"]
            print(f"  caretbot shows the next step, {pushed['title']['text']!r}:", file=self.out)
            for line in render_blocks(pushed["blocks"], ""):
                print(textwrap.indent(line, "    "), file=self.out)
            # Slack gives a pushed view an id and a hash; the next submission carries them.
            return {**response, "view": {**pushed, "id": "VDEMOSTEP2", "hash": "demo"}}
        return response

    def wait_for_handoff(self) -> dict[str, Any]:
        """Wait until the outbox has sent the hand-off DM, show it, and return its button."""
        [dm] = self.slack.wait_for(
            "chat.postMessage", where=lambda call: call.args.get("channel") == RECRUITER
        )
        self.slack.wait_for("chat.postMessage", where=lambda call: "thread_ts" in call.args)
        print("\nAfter the delivery is stored, the outbox sends:", file=self.out)
        for call in self.slack.calls_to("chat.postMessage"):
            where = "in the thread" if call.args.get("thread_ts") else f"to {NAMES[RECRUITER]}"
            print(f"  caretbot, {where}:", file=self.out)
            for line in render_blocks(call.args.get("blocks") or [], call.args.get("text", "")):
                print(textwrap.indent(line, "    "), file=self.out)
        self._handoff_message_ts = dm.response["ts"]
        actions = next(block for block in dm.args["blocks"] if block["type"] == "actions")
        return actions["elements"][0]

    def accept(self, user: str, button: dict[str, Any]) -> None:
        """Click Accept on the hand-off and show the card once caretbot updated it."""
        print(f"\n{NAMES[user]} clicks [{button['text']['text']}] in the DM", file=self.out)
        self.bot.post_and_settle(
            block_actions(
                button["action_id"],
                user=user,
                value=button["value"],
                trigger_id=self.slack.issue_trigger_id(user_id=user),
                message_ts=self._handoff_message_ts,
            )
        )
        [update] = self.slack.wait_for("chat.update")
        print("  caretbot updates the hand-off card:", file=self.out)
        for line in render_blocks(update.args.get("blocks") or [], update.args.get("text", "")):
            print(textwrap.indent(line, "    "), file=self.out)

    def _settle(self, payload: dict[str, Any]) -> bytes:
        before = len(self.slack.calls)
        status, _headers, body = self.bot.post(payload)
        self.bot.executor.wait_idle()
        if status != 200:
            raise RuntimeError(f"caretbot returned HTTP {status}; expected 200")
        answers = self.slack.calls[before:]
        if not answers and payload.get("type") == "event_callback":
            print("  (caretbot stays quiet: ordinary chat)", file=self.out)
        for call in answers:
            self._show(call.method, call.args, call.response)
        return body

    def _show(self, method: str, args: dict[str, Any], response: dict[str, Any]) -> None:
        if not response.get("ok"):
            print(f"  caretbot's {method} was rejected: {response.get('error')}", file=self.out)
            return
        if method == "chat.postEphemeral":
            heading = f"caretbot, visible only to {NAMES.get(args['user'], args['user'])}:"
        elif method == "chat.postMessage":
            heading = "caretbot, in the thread for everyone:"
        elif method in ("views.open", "views.update"):
            title = response["view"]["title"]["text"]
            verb = "opens" if method == "views.open" else "fills in"
            heading = f"caretbot {verb} a form titled {title!r}:"
            args = response["view"]
        elif method in _LOOKUPS:
            return
        elif method == "files.completeUploadExternal":
            [file] = args["files"] if isinstance(args["files"], list) else json.loads(args["files"])
            content = (self.slack.file_content(file["id"]) or b"").decode("utf-8")
            print(f"  caretbot sends {file.get('title')!r} to Ann's DM:", file=self.out)
            lines = content.splitlines()
            for line in lines[:14]:
                print(f"    | {_plain(line)}", file=self.out)
            if len(lines) > 14:
                print(f"    | … {len(lines) - 14} more lines", file=self.out)
            return
        elif method == "reactions.add":
            print(f"  caretbot marks the thread unread with :{args['name']}:", file=self.out)
            return
        elif method == "reactions.remove":
            print(f"  caretbot removes the :{args['name']}: unread marker", file=self.out)
            return
        else:
            heading = f"caretbot calls {method}"
        print(f"  {heading}", file=self.out)
        for line in render_blocks(args.get("blocks") or [], args.get("text", "")):
            print(textwrap.indent(line, "    "), file=self.out)

    def last_ephemeral_button(self) -> dict[str, Any]:
        [*_, offer] = self.slack.calls_to("chat.postEphemeral")
        for block in offer.args.get("blocks") or []:
            if block["type"] == "actions":
                return block["elements"][0]
        raise RuntimeError("caretbot's last ephemeral message has no button")

    def last_view(self) -> dict[str, Any]:
        [*_, opened] = self.slack.calls_to("views.open")
        return self.slack.view(opened.response["view"]["id"])


# Web API calls that only read or prepare, which a person never sees.
_LOOKUPS = frozenset(
    {
        "users.info",
        "conversations.info",
        "conversations.replies",
        "conversations.open",
        "chat.getPermalink",
        "files.getUploadURLExternal",
        "upload",
        "auth.test",
    }
)


def render_blocks(blocks: list[dict[str, Any]], fallback: str) -> list[str]:
    """Turn Block Kit into the plain lines a person would read."""
    if not blocks:
        return [_plain(fallback)]
    lines: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind in ("section", "header"):
            if "text" in block:
                lines.append(_plain(block["text"]["text"]))
            lines.extend(_plain(field["text"]) for field in block.get("fields", []))
        elif kind == "context":
            lines.extend(_plain(element.get("text", "")) for element in block["elements"])
        elif kind == "actions":
            lines.append("  ".join(f"[{element['text']['text']}]" for element in block["elements"]))
        elif kind == "input":
            element = block["element"]
            shown = (element.get("initial_option") or {}).get("text", {}).get("text")
            shown = shown or element.get("initial_value") or "…"
            lines.append(f"{block['label']['text']}: [{shown}]")
    return lines


def _plain(text: str) -> str:
    """Show mrkdwn as a person reads it: names for mentions, dates and links by label."""
    text = re.sub(r"<@(\w+)>", lambda match: "@" + NAMES.get(match[1], match[1]), text)
    text = re.sub(r"<!date\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<(https?://[^|>]*)\|([^>]*)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def run_demo(out: TextIO) -> int:
    """Run caretbot against the Slack double and play a short candidate conversation."""
    with tempfile.TemporaryDirectory(prefix="caretbot-demo-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'demo.db'}"
        migrate.upgrade(db_url)
        with SlackDouble(team_id=TEAM) as slack:
            slack.add_user(AGENT, "ann", real_name="Ann Agent", email="ann@example.com")
            slack.add_user(CANDIDATE, "casey", real_name="Casey Candidate", is_restricted=True)
            slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
            slack.add_channel(CHANNEL, "candidates", members=[AGENT, CANDIDATE])
            root = new_ts()
            # The candidate's first message roots the thread, as if it were posted in Slack.
            slack.add_message(CHANNEL, root, CANDIDATE, FIRST_MESSAGE)
            bot = LocalBot(slack, db_url, signing_secret=DEMO_SECRET)
            seed_candidate(bot, root)
            bot.start()
            try:
                print(
                    f"caretbot demo: caretbot serves HTTP at {bot.server.url}/slack/events and "
                    f"calls a Slack double at {slack.base_url}\nwith a throwaway SQLite "
                    f"database. Every request below is signed as Slack signs it.",
                    file=out,
                )
                print(f"\n#candidates, a thread with {NAMES[CANDIDATE]}", file=out)
                play(Demo(bot, slack, out, root))
            finally:
                bot.stop()
    print("\nDemo finished. `caretbot --help` lists the commands for a real workspace.", file=out)
    return 0


def play(demo: Demo) -> None:
    """Play the demo conversation: chat, help, an unknown command and two notes."""
    demo.say(CANDIDATE, FIRST_MESSAGE, top_level=True)
    demo.say(AGENT, "Hi Casey, it is! Let me check with the team.")
    demo.say(AGENT, "^help")
    demo.say(AGENT, "^delivr")
    demo.say(AGENT, "^note Strong SQL, wants a hybrid role, available from March")
    demo.say(AGENT, "^note")
    demo.click(AGENT, demo.last_ephemeral_button())
    note = "Salary expectation discussed; fits the band."
    demo.submit(
        AGENT,
        demo.last_view(),
        {ids.NOTE_BLOCK: {ids.NOTE_INPUT: {"type": "plain_text_input", "value": note}}},
        shown=f"Note: {note}",
    )
    track(demo)
    deliver(demo)


def track(demo: Demo) -> None:
    """Show the unread marker, ^read and ^claim."""
    demo.say(CANDIDATE, "Great, thank you! When can we talk?")
    demo.say(AGENT, "^read")
    demo.say(AGENT, "^claim")
    demo.say(CANDIDATE, "Tomorrow at 10 works for me.")
    demo.say(AGENT, "Perfect, I will call you then.")


def deliver(demo: Demo) -> None:
    """Hand Casey to Rita as Qualified with 4 stars; Rita accepts."""
    demo.slack.reset()
    demo.say(AGENT, "^deliver")
    demo.click(AGENT, demo.last_ephemeral_button())
    step1 = demo.last_view()
    application = _selected_application(step1)
    values = {
        ids.DELIVER_APPLICATION_BLOCK: {ids.DELIVER_APPLICATION_INPUT: _select(application)},
        ids.DELIVER_STATUS_BLOCK: {ids.DELIVER_STATUS_INPUT: _select("qualified")},
    }
    step1 = demo.choose(AGENT, step1, ids.DELIVER_STATUS_INPUT, values, shown="Status: Qualified")
    notes = "Strong SQL and dbt; wants a hybrid role from March."
    values |= {
        ids.DELIVER_NOTES_BLOCK: {
            ids.DELIVER_NOTES_INPUT: {"type": "plain_text_input", "value": notes}
        },
        ids.DELIVER_RATING_BLOCK: {
            ids.DELIVER_RATING_INPUT: {"type": "radio_buttons", "selected_option": {"value": "4"}}
        },
    }
    response = demo.submit(AGENT, step1, values, shown=f"★★★★☆, notes: {notes}")
    assert response is not None
    recipients = {
        ids.DELIVER_USERS_BLOCK: {
            ids.DELIVER_USERS_INPUT: {"type": "multi_users_select", "selected_users": [RECRUITER]}
        }
    }
    demo.submit(AGENT, response["view"], recipients, shown=f"Slack users: {NAMES[RECRUITER]}")
    button = demo.wait_for_handoff()
    demo.accept(RECRUITER, button)
    demo.slack.reset()
    demo.say(AGENT, "^stat")
    demo.click(AGENT, demo.last_ephemeral_button())
    demo.say(AGENT, "^transcript")


def _select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def _selected_application(view: dict[str, Any]) -> str:
    for block in view["blocks"]:
        if block.get("block_id") == ids.DELIVER_APPLICATION_BLOCK:
            return block["element"]["initial_option"]["value"]
    raise RuntimeError("the deliver form has no application picker")


def seed_candidate(bot: LocalBot, root: str) -> None:
    """Store Casey as a contact with an active application, linked to the demo thread."""
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        # Casey is a guest of the workspace, linked to the contact, so caretbot knows which
        # messages are the contact's.
        contact = upsert_contact(
            session,
            workspace_id=TEAM,
            name="Casey Candidate",
            email="casey@example.com",
            slack_user_id=CANDIDATE,
        ).contact
        application = upsert_application(
            session,
            contact_id=contact.id,
            job_title="Data Analyst",
            job_location="Berlin",
            source="linkedin",
        ).application
        set_active_application(session, application)
        link_conversation(
            session,
            workspace_id=TEAM,
            channel_id=CHANNEL,
            thread_ts=root,
            contact_id=contact.id,
        )
