"""`caretbot demo`: play a conversation against the built-in Slack double, no workspace needed."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from typing import Any, TextIO

from bot import ids
from bot.serving import LocalBot
from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import block_actions, message_event, new_ts, submission_of
from storage import migrate

TEAM = "T0DOUBLE"
CHANNEL = "C0DEMO"
AGENT = "U0ANN"
CANDIDATE = "U0CASEY"
NAMES = {AGENT: "Ann (agent)", CANDIDATE: "Casey (candidate)"}
DEMO_SECRET = "demo-signing-secret"


class Demo:
    """Posts what people type as signed Slack requests and prints what each person sees."""

    def __init__(self, bot: LocalBot, slack: SlackDouble, out: TextIO) -> None:
        self.bot = bot
        self.slack = slack
        self.out = out
        self.root = new_ts()

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

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any], shown: str) -> None:
        """Submit an open modal with the given input values."""
        print(f"\n{NAMES[user]} fills in the form ({shown}) and submits it", file=self.out)
        self._settle(
            submission_of(view, user=user, values=values, trigger_id=self.slack.issue_trigger_id())
        )

    def _settle(self, payload: dict[str, Any]) -> None:
        before = len(self.slack.calls)
        status = self.bot.post_and_settle(payload)
        if status != 200:
            raise RuntimeError(f"caretbot returned HTTP {status}; expected 200")
        answers = self.slack.calls[before:]
        if not answers:
            print("  (caretbot stays quiet: ordinary chat)", file=self.out)
        for call in answers:
            self._show(call.method, call.args, call.response)

    def _show(self, method: str, args: dict[str, Any], response: dict[str, Any]) -> None:
        if not response.get("ok"):
            print(f"  caretbot's {method} was rejected: {response.get('error')}", file=self.out)
            return
        if method == "chat.postEphemeral":
            heading = f"caretbot, visible only to {NAMES.get(args['user'], args['user'])}:"
        elif method == "chat.postMessage":
            heading = "caretbot, in the thread for everyone:"
        elif method == "views.open":
            title = response["view"]["title"]["text"]
            heading = f"caretbot opens a form titled {title!r}:"
            args = response["view"]
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
        return opened.response["view"]


def render_blocks(blocks: list[dict[str, Any]], fallback: str) -> list[str]:
    """Turn Block Kit into the plain lines a person would read."""
    if not blocks:
        return [fallback]
    lines: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind in ("section", "header"):
            lines.append(block["text"]["text"])
        elif kind == "context":
            lines.extend(element.get("text", "") for element in block["elements"])
        elif kind == "actions":
            lines.append("  ".join(f"[{element['text']['text']}]" for element in block["elements"]))
        elif kind == "input":
            lines.append(f"{block['label']['text']}: [text box]")
    return lines


def run_demo(out: TextIO) -> int:
    """Run caretbot against the Slack double and play a short candidate conversation."""
    with tempfile.TemporaryDirectory(prefix="caretbot-demo-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'demo.db'}"
        migrate.upgrade(db_url)
        with SlackDouble(team_id=TEAM) as slack:
            slack.add_user(AGENT, "ann", real_name="Ann Agent", email="ann@example.com")
            slack.add_user(CANDIDATE, "casey", real_name="Casey Candidate", is_restricted=True)
            slack.add_channel(CHANNEL, "candidates", members=[AGENT, CANDIDATE])
            bot = LocalBot(slack, db_url, signing_secret=DEMO_SECRET).start()
            try:
                print(
                    f"caretbot demo: caretbot serves HTTP at {bot.server.url}/slack/events and "
                    f"calls a Slack double at {slack.base_url}\nwith a throwaway SQLite "
                    f"database. Every request below is signed as Slack signs it.",
                    file=out,
                )
                print(f"\n#candidates, a thread with {NAMES[CANDIDATE]}", file=out)
                play(Demo(bot, slack, out))
            finally:
                bot.stop()
    print("\nDemo finished. `caretbot --help` lists the commands for a real workspace.", file=out)
    return 0


def play(demo: Demo) -> None:
    """Play the demo conversation: chat, help, an unknown command and two notes."""
    demo.say(
        CANDIDATE, "Hi! I applied for the Data Analyst role last week. Is it open?", top_level=True
    )
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
