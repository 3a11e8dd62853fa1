"""manifest.yml asks Slack for what the code uses, and the code handles what it declares."""

from pathlib import Path

import pytest
import yaml

from bot import ids
from bot.scopes import BOT_SCOPES

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


def test_manifest_scopes_match_code():
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_manifest_subscribes_to_messages_everywhere():
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])

    assert {"message.channels", "message.groups", "message.im", "message.mpim"} <= events
    assert "app_home_opened" in events


def test_manifest_turns_on_interactivity_and_socket_mode():
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


@pytest.mark.parametrize("shortcut", MANIFEST["features"].get("shortcuts", []))
def test_each_shortcut_has_known_callback_id(shortcut):
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] in ids.all_ids().values()


def test_wire_ids_unique_and_short():
    values = list(ids.all_ids().values())

    assert len(values) == len(set(values))
    for value in values:
        assert 0 < len(value) <= 255
