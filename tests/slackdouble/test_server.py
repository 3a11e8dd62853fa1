"""Tests of SlackDouble driven by a real slack_sdk WebClient over HTTP."""

import http.client
import json
import re
import threading
import time
import urllib.parse
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.slackdouble import SlackDouble, limits
from bot.slackdouble.methods.base import METHODS, Method

ALICE = "U0ALICE"
BOB = "U0BOB"
GONE = "U0GONE"
GENERAL = "C0GENERAL"
ELSEWHERE = "C0ELSEWHERE"
SECRET = "G0SECRET"
TS = re.compile(r"^\d{10}\.\d{6}$")
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def seed(double: SlackDouble) -> SlackDouble:
    double.add_user(ALICE, "alice", email="Alice@Example.com")
    double.add_user(BOB, "bob", email="bob@example.com")
    double.add_user(GONE, "gone", email="gone@example.com", deleted=True)
    double.add_channel(GENERAL, "general", members=[ALICE, BOB, GONE])
    double.add_channel(ELSEWHERE, "elsewhere", members=[ALICE], bot_is_member=False)
    double.add_channel(SECRET, "secret", members=[ALICE], is_private=True, bot_is_member=False)
    return double


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def double(clock):
    with SlackDouble(clock=clock) as running:
        yield seed(running)


@pytest.fixture
def client(double) -> WebClient:
    return WebClient(token=double.bot_token, base_url=double.base_url)


def slack_error(call, *args, **kwargs) -> dict:
    """Run a WebClient call that must fail and return Slack's response body."""
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return raised.value.response.data


def raw_post(double, method, body: bytes, headers: dict) -> tuple[int, dict, dict]:
    """POST exactly these headers and body; urllib would add a Content-Type of its own."""
    port = urllib.parse.urlsplit(double.base_url).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", f"/api/{method}", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def modal(title: str = "Title", **fields) -> dict:
    view = {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [SECTION]}
    return {**view, **fields}


# Authentication and transport


def test_auth_test_reports_bot_and_scopes(double, client):
    response = client.auth_test()

    assert response["user_id"] == "UBOTDOUBLE"
    assert response["bot_id"] == "BBOTDOUBLE"
    assert response["team_id"] == "T0DOUBLE"
    assert response.headers["x-oauth-scopes"] == ",".join(double.scopes)


def test_missing_token_is_not_authed(double):
    client = WebClient(base_url=double.base_url)

    assert slack_error(client.auth_test)["error"] == "not_authed"


def test_wrong_token_is_invalid_auth(double):
    client = WebClient(token="xoxb-wrong", base_url=double.base_url)

    assert slack_error(client.auth_test)["error"] == "invalid_auth"


def test_token_in_json_body_is_ignored(double):
    body = json.dumps({"token": double.bot_token, "channel": GENERAL, "text": "hi"}).encode()

    status, _, response = raw_post(
        double, "chat.postMessage", body, {"Content-Type": "application/json"}
    )

    assert status == 200
    assert response["error"] == "not_authed"


def test_form_token_and_json_string_blocks_are_read(double):
    form = {"token": double.bot_token, "channel": GENERAL, "blocks": json.dumps([SECTION])}
    body = urllib.parse.urlencode(form).encode()

    _, _, response = raw_post(
        double, "chat.postMessage", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response["ok"] is True
    assert double.messages_in(GENERAL)[-1]["blocks"] == [SECTION]


def test_malformed_blocks_json_is_invalid_blocks_format(double, client):
    form = {"token": double.bot_token, "channel": GENERAL, "blocks": "[{not json"}
    body = urllib.parse.urlencode(form).encode()

    _, _, response = raw_post(
        double, "chat.postMessage", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response["error"] == "invalid_blocks_format"


def test_body_content_type_errors(double):
    headers = {"Authorization": f"Bearer {double.bot_token}"}

    _, _, missing = raw_post(double, "auth.test", b"x=1", headers)
    _, _, unsupported = raw_post(
        double, "auth.test", b"<x/>", {**headers, "Content-Type": "application/xml"}
    )

    assert missing["error"] == "missing_post_type"
    assert unsupported["error"] == "invalid_post_type"


def test_malformed_json_body_is_rejected(double):
    headers = {"Authorization": f"Bearer {double.bot_token}", "Content-Type": "application/json"}

    _, _, response = raw_post(double, "chat.postMessage", b"{not json", headers)

    assert response["error"] == "invalid_json"


def test_multipart_form_arguments_are_read(double):
    boundary = "double-boundary"
    parts = [("token", double.bot_token), ("channel", GENERAL), ("text", "from multipart")]
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in parts
    )
    body += f"--{boundary}--\r\n"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    _, _, response = raw_post(double, "chat.postMessage", body.encode(), headers)

    assert response["ok"] is True
    assert double.messages_in(GENERAL)[-1]["text"] == "from multipart"


def test_unknown_method(client):
    response = slack_error(client.api_call, "chat.postMessages", json={"channel": GENERAL})

    assert response["error"] == "unknown_method"


def test_apps_connections_open_needs_app_token(double, client):
    app_client = WebClient(token=double.app_token, base_url=double.base_url)

    bot_attempt = slack_error(client.apps_connections_open, app_token=double.bot_token)
    url = app_client.apps_connections_open(app_token=double.app_token)["url"]
    app_post = slack_error(app_client.chat_postMessage, channel=GENERAL, text="hi")

    assert bot_attempt["error"] == "not_allowed_token_type"
    assert url.startswith(double.origin.replace("http://", "ws://") + "/link/?ticket=")
    assert app_post["error"] == "not_allowed_token_type"


def test_missing_scope_names_the_needed_scope():
    with SlackDouble(scopes=("chat:write",)) as double:
        seed(double)
        client = WebClient(token=double.bot_token, base_url=double.base_url)
        posted = client.chat_postMessage(channel=GENERAL, text="hi")
        client.chat_postMessage(channel=ALICE, text="opens the DM")

        error = slack_error(client.reactions_add, channel=GENERAL, timestamp=posted["ts"], name="x")
        info_error = slack_error(client.conversations_info, channel=double.dm_channel_id(ALICE))

    assert error["error"] == "missing_scope"
    assert error["needed"] == "reactions:write"
    assert error["provided"] == "chat:write"
    assert info_error["needed"] == "im:read"


def test_base_url_before_start_raises():
    double = SlackDouble()

    with pytest.raises(RuntimeError, match="not started"):
        double.base_url  # noqa: B018


# chat.postMessage


def test_post_message_stores_message_with_increasing_ts(double, client):
    first = client.chat_postMessage(channel=GENERAL, text="one")
    second = client.chat_postMessage(channel="#general", text="two", blocks=[SECTION])

    messages = double.messages_in(GENERAL)
    assert TS.match(first["ts"])
    assert second["ts"] > first["ts"]
    assert second["channel"] == GENERAL
    assert [message["text"] for message in messages] == ["one", "two"]
    assert messages[1]["bot_id"] == "BBOTDOUBLE"
    assert messages[1]["blocks"] == [SECTION]


def test_post_message_channel_errors(client):
    assert slack_error(client.chat_postMessage, channel=ELSEWHERE, text="x")["error"] == (
        "not_in_channel"
    )
    assert slack_error(client.chat_postMessage, channel=SECRET, text="x")["error"] == (
        "channel_not_found"
    )
    assert slack_error(client.chat_postMessage, channel="C0NOWHERE", text="x")["error"] == (
        "channel_not_found"
    )
    assert slack_error(client.chat_postMessage, channel="", text="x")["error"] == (
        "channel_not_found"
    )


def test_chat_write_public_allows_unjoined_public_channel():
    with SlackDouble(scopes=("chat:write", "chat:write.public")) as double:
        seed(double)
        client = WebClient(token=double.bot_token, base_url=double.base_url)

        response = client.chat_postMessage(channel=ELSEWHERE, text="hello")
        private = slack_error(client.chat_postMessage, channel=SECRET, text="hello")

    assert response["ok"] is True
    assert private["error"] == "channel_not_found"


def test_post_message_to_archived_channel(double, client):
    double.add_channel("C0OLD", "old", is_archived=True)

    assert slack_error(client.chat_postMessage, channel="C0OLD", text="x")["error"] == (
        "is_archived"
    )


def test_post_message_without_content(client):
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        missing = slack_error(client.chat_postMessage, channel=GENERAL)
        empty = slack_error(client.chat_postMessage, channel=GENERAL, text="")

    assert missing["error"] == "no_text"
    assert empty["error"] == "no_text"


def test_post_message_text_length_limit(client):
    at_limit = client.chat_postMessage(channel=GENERAL, text="x" * limits.MESSAGE_TEXT_MAX_LENGTH)
    over = "x" * (limits.MESSAGE_TEXT_MAX_LENGTH + 1)

    assert at_limit["ok"] is True
    assert slack_error(client.chat_postMessage, channel=GENERAL, text=over)["error"] == (
        "msg_too_long"
    )


def test_post_message_attachment_limit(client):
    attachments = [{"text": "a"}] * limits.MESSAGE_MAX_ATTACHMENTS

    accepted = client.chat_postMessage(channel=GENERAL, text="x", attachments=attachments)
    rejected = slack_error(
        client.chat_postMessage,
        channel=GENERAL,
        text="x",
        attachments=attachments + [{"text": "a"}],
    )

    assert accepted["ok"] is True
    assert rejected["error"] == "too_many_attachments"


def test_markdown_text_with_text_conflicts(client):
    response = slack_error(client.chat_postMessage, channel=GENERAL, text="a", markdown_text="b")

    assert response["error"] == "markdown_text_conflict"


def test_invalid_blocks_response_has_slack_shape(client):
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}

    response = slack_error(client.chat_postMessage, channel=GENERAL, text="x", blocks=[too_long])

    assert response["error"] == "invalid_blocks"
    assert response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_message_block_count_limit_over_http(client):
    divider = {"type": "divider"}

    accepted = client.chat_postMessage(channel=GENERAL, text="x", blocks=[divider] * 50)
    rejected = slack_error(
        client.chat_postMessage, channel=GENERAL, text="x", blocks=[divider] * 51
    )

    assert accepted["ok"] is True
    assert rejected["error"] == "invalid_blocks"


def test_thread_reply_updates_parent(double, client):
    parent = double.add_message(GENERAL, None, ALICE, "question")

    reply = client.chat_postMessage(channel=GENERAL, text="answer", thread_ts=parent["ts"])

    stored_parent = double.messages_in(GENERAL)[0]
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert reply["message"]["parent_user_id"] == ALICE
    assert stored_parent["reply_count"] == 1
    assert stored_parent["latest_reply"] == reply["ts"]
    assert [m["text"] for m in double.messages_in(GENERAL, thread_ts=parent["ts"])] == ["answer"]


def test_reply_to_reply_joins_parent(double, client):
    parent = double.add_message(GENERAL, None, ALICE, "question")
    first = client.chat_postMessage(channel=GENERAL, text="one", thread_ts=parent["ts"])

    second = client.chat_postMessage(channel=GENERAL, text="two", thread_ts=first["ts"])

    assert second["message"]["thread_ts"] == parent["ts"]


def test_post_message_thread_ts_checks(client):
    orphan = client.chat_postMessage(channel=GENERAL, text="x", thread_ts="1700000000.000001")
    malformed = slack_error(client.chat_postMessage, channel=GENERAL, text="x", thread_ts="0")

    assert orphan["message"]["thread_ts"] == "1700000000.000001"
    assert malformed["error"] == "invalid_thread_ts"
    assert malformed["response_metadata"]["messages"] == ["[ERROR] 0 is not a valid thread_ts"]


def test_post_to_user_id_goes_to_their_dm(double, client):
    response = client.chat_postMessage(channel=ALICE, text="hi")

    assert response["channel"] == double.dm_channel_id(ALICE)
    assert double.messages_in(double.dm_channel_id(ALICE))[0]["text"] == "hi"


def test_seeded_dm_is_used_for_user_id(double, client):
    double.add_channel("D0BOB", "D0BOB", members=[BOB])

    posted = client.chat_postMessage(channel=BOB, text="hi")
    opened = client.conversations_open(users=BOB)

    assert posted["channel"] == "D0BOB"
    assert opened["channel"]["id"] == "D0BOB"
    assert opened["already_open"] is True
    assert double.dm_channel_id(BOB) == "D0BOB"


def test_post_to_deactivated_users_dm_is_accepted(double, client):
    dm = client.chat_postMessage(channel=GONE, text="still delivered")

    assert dm["ok"] is True


# chat.postEphemeral


def test_post_ephemeral_is_stored_apart_from_messages(double, client):
    response = client.chat_postEphemeral(channel=GENERAL, user=ALICE, text="psst")

    assert TS.match(response["message_ts"])
    assert [e["text"] for e in double.ephemerals_for(ALICE)] == ["psst"]
    assert double.ephemerals_for(BOB) == []
    assert double.messages_in(GENERAL) == []


def test_post_ephemeral_recipient_errors(client):
    assert slack_error(client.chat_postEphemeral, channel=GENERAL, user="U0NOBODY", text="x")[
        "error"
    ] == ("user_not_in_channel")
    assert slack_error(client.chat_postEphemeral, channel=GENERAL, user=GONE, text="x")[
        "error"
    ] == ("user_not_in_channel")
    assert slack_error(client.chat_postEphemeral, channel=ELSEWHERE, user=ALICE, text="x")[
        "error"
    ] == ("not_in_channel")


def test_post_ephemeral_without_user(client):
    response = slack_error(client.api_call, "chat.postEphemeral", json={"channel": GENERAL})

    assert response["error"] == "user_not_in_channel"


# chat.update, chat.delete, chat.getPermalink


def test_update_own_message(double, client):
    posted = client.chat_postMessage(channel=GENERAL, text="before")

    updated = client.chat_update(channel=GENERAL, ts=posted["ts"], text="after", blocks=[SECTION])

    stored = double.messages_in(GENERAL)[0]
    assert updated["text"] == "after"
    assert stored["text"] == "after"
    assert stored["blocks"] == [SECTION]
    assert stored["edited"]["user"] == "UBOTDOUBLE"


def test_update_errors(double, client):
    theirs = double.add_message(GENERAL, None, ALICE, "mine")
    posted = client.chat_postMessage(channel=GENERAL, text="x")
    bad_block = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}

    unknown = slack_error(client.chat_update, channel=GENERAL, ts="1700000000.000001", text="y")
    foreign = slack_error(client.chat_update, channel=GENERAL, ts=theirs["ts"], text="y")
    invalid = slack_error(
        client.chat_update, channel=GENERAL, ts=posted["ts"], text="y", blocks=[bad_block]
    )

    assert unknown["error"] == "message_not_found"
    assert foreign["error"] == "cant_update_message"
    assert invalid["error"] == "invalid_blocks"


def test_delete_own_message(double, client):
    posted = client.chat_postMessage(channel=GENERAL, text="x")

    client.chat_delete(channel=GENERAL, ts=posted["ts"])

    assert double.messages_in(GENERAL) == []
    assert slack_error(client.chat_delete, channel=GENERAL, ts=posted["ts"])["error"] == (
        "message_not_found"
    )


def test_delete_someone_elses_message(double, client):
    theirs = double.add_message(GENERAL, None, ALICE, "mine")

    assert slack_error(client.chat_delete, channel=GENERAL, ts=theirs["ts"])["error"] == (
        "cant_delete_message"
    )


def test_permalink_of_message_and_reply(double, client):
    parent = double.add_message(GENERAL, "1700000000.000100", ALICE, "question")
    reply = double.add_message(GENERAL, "1700000001.000200", BOB, "answer", parent["ts"])

    top = client.chat_getPermalink(channel=GENERAL, message_ts=parent["ts"])["permalink"]
    threaded = client.chat_getPermalink(channel=GENERAL, message_ts=reply["ts"])["permalink"]
    missing = slack_error(client.chat_getPermalink, channel=GENERAL, message_ts="1700000002.000001")

    assert top == f"{double.origin}/archives/{GENERAL}/p1700000000000100"
    assert threaded.endswith(f"/p1700000001000200?thread_ts={parent['ts']}&cid={GENERAL}")
    assert missing["error"] == "message_not_found"


# conversations.*


def test_conversations_info(client):
    public = client.conversations_info(channel=ELSEWHERE, include_num_members=True)["channel"]
    private = slack_error(client.conversations_info, channel=SECRET)

    assert public["is_member"] is False
    assert public["num_members"] == 1
    assert private["error"] == "channel_not_found"


def test_conversations_open_dm_is_stable(double, client):
    first = client.conversations_open(users=ALICE)
    second = client.conversations_open(users=ALICE, return_im=True)

    assert first["channel"]["id"] == double.dm_channel_id(ALICE)
    assert "already_open" not in first
    assert second["already_open"] is True
    assert second["channel"]["id"] == first["channel"]["id"]
    assert second["channel"]["user"] == ALICE


def test_conversations_open_errors(client):
    assert slack_error(client.conversations_open, users="U0NOBODY")["error"] == "user_not_found"
    assert slack_error(client.conversations_open, users=GONE)["error"] == "user_disabled"
    # slack_sdk refuses to send this call, so it goes through api_call.
    no_users = slack_error(client.api_call, "conversations.open", params={})
    assert no_users["error"] == "users_list_not_supplied"


def test_replies_pages_with_cursor(double, client):
    parent = double.add_message(GENERAL, None, ALICE, "parent")
    for index in range(4):
        double.add_message(GENERAL, None, BOB, f"reply {index}", parent["ts"])

    texts = []
    cursor = None
    pages = 0
    while True:
        page = client.conversations_replies(
            channel=GENERAL, ts=parent["ts"], limit=2, cursor=cursor
        )
        pages += 1
        texts += [message["text"] for message in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break

    assert pages == 3
    assert texts == ["parent", "reply 0", "reply 1", "reply 2", "reply 3"]


def test_replies_iterate_with_slack_sdk_pagination(double, client):
    parent = client.chat_postMessage(channel=GENERAL, text="parent")
    for index in range(3):
        client.chat_postMessage(channel=GENERAL, text=f"r{index}", thread_ts=parent["ts"])

    # slack_sdk reuses one response object for every page, so count while iterating.
    sizes = [
        len(page["messages"])
        for page in client.conversations_replies(channel=GENERAL, ts=parent["ts"], limit=3)
    ]

    assert sizes == [3, 1]


def test_replies_errors(double, client):
    double.add_message(ELSEWHERE, "1700000000.000100", ALICE, "elsewhere")

    assert slack_error(client.conversations_replies, channel=GENERAL, ts="1700000000.000001")[
        "error"
    ] == ("thread_not_found")
    parent = client.chat_postMessage(channel=GENERAL, text="p")
    assert slack_error(
        client.conversations_replies, channel=GENERAL, ts=parent["ts"], cursor="bm9wZQ=="
    )["error"] == ("invalid_cursor")
    assert slack_error(client.conversations_replies, channel=ELSEWHERE, ts="1700000000.000100")[
        "error"
    ] == ("not_in_channel")


def test_replies_of_a_reply_return_only_it(double, client):
    parent = double.add_message(GENERAL, None, ALICE, "parent")
    reply = double.add_message(GENERAL, None, BOB, "reply", parent["ts"])

    response = client.conversations_replies(channel=GENERAL, ts=reply["ts"])

    assert [message["text"] for message in response["messages"]] == ["reply"]


# reactions.*


def test_reactions_add_and_remove(double, client):
    message = double.add_message(GENERAL, None, ALICE, "look")
    where = {"channel": GENERAL, "timestamp": message["ts"]}

    client.reactions_add(name="eyes", **where)
    twice = slack_error(client.reactions_add, name="eyes", **where)
    added = double.messages_in(GENERAL)[0]["reactions"]
    client.reactions_remove(name="eyes", **where)
    removed_twice = slack_error(client.reactions_remove, name="eyes", **where)

    assert added == [{"name": "eyes", "users": ["UBOTDOUBLE"], "count": 1}]
    assert twice["error"] == "already_reacted"
    assert removed_twice["error"] == "no_reaction"
    assert double.messages_in(GENERAL)[0]["reactions"] == []


def test_reactions_errors(double, client):
    message = double.add_message(GENERAL, None, ALICE, "look")

    where = {"name": "eyes", "channel": GENERAL}
    missing = slack_error(client.reactions_add, timestamp="1700000000.000001", **where)
    malformed = slack_error(client.reactions_add, timestamp="1.5", **where)
    no_item = slack_error(client.api_call, "reactions.add", params={"name": "eyes"})
    colons = slack_error(
        client.reactions_add, name=":eyes:", channel=GENERAL, timestamp=message["ts"]
    )

    assert missing["error"] == "message_not_found"
    assert malformed["error"] == "bad_timestamp"
    assert no_item["error"] == "no_item_specified"
    assert colons["error"] == "invalid_name"


# users.*


def test_users_info(client):
    alice = client.users_info(user=ALICE)["user"]
    gone = client.users_info(user=GONE)["user"]

    assert alice["name"] == "alice"
    assert alice["tz"] == "America/New_York"
    assert gone["deleted"] is True
    assert slack_error(client.users_info, user="U0NOBODY")["error"] == "user_not_found"


def test_users_lookup_by_email(client):
    found = client.users_lookupByEmail(email="alice@example.com")["user"]

    assert found["id"] == ALICE
    assert slack_error(client.users_lookupByEmail, email="x@example.com")["error"] == (
        "users_not_found"
    )
    assert slack_error(client.users_lookupByEmail, email="gone@example.com")["error"] == (
        "users_not_found"
    )


# views.*


def test_views_open_returns_view(double, client):
    trigger_id = double.issue_trigger_id(user_id=ALICE)

    view = client.views_open(trigger_id=trigger_id, view=modal(callback_id="ask"))["view"]

    assert re.match(r"^V[A-Z0-9]+$", view["id"])
    assert re.match(r"^\d+\.[0-9a-f]{8}$", view["hash"])
    assert view["state"] == {"values": {}}
    assert view["root_view_id"] == view["id"]
    assert view["callback_id"] == "ask"
    assert double.view(view["id"]) == view


def test_trigger_id_has_slack_shape(double):
    assert re.match(r"^\d+\.\d+\.[0-9a-f]{32}$", double.issue_trigger_id())


def test_views_open_trigger_errors(double, client):
    trigger_id = double.issue_trigger_id()
    client.views_open(trigger_id=trigger_id, view=modal())

    unknown = slack_error(client.views_open, trigger_id="1.2.abc", view=modal())
    reused = slack_error(client.views_open, trigger_id=trigger_id, view=modal())

    assert unknown["error"] == "invalid_trigger_id"
    assert reused["error"] == "exchanged_trigger_id"


def test_trigger_expires_after_ttl(double, client, clock):
    fresh = double.issue_trigger_id()
    stale = double.issue_trigger_id()

    clock.now += double.trigger_ttl - 0.01
    accepted = client.views_open(trigger_id=fresh, view=modal())
    clock.now += 0.02
    expired = slack_error(client.views_open, trigger_id=stale, view=modal())

    assert accepted["ok"] is True
    assert expired["error"] == "expired_trigger_id"


def test_rejected_view_keeps_trigger_usable(double, client):
    trigger_id = double.issue_trigger_id()

    rejected = slack_error(client.views_open, trigger_id=trigger_id, view=modal("t" * 25))
    accepted = client.views_open(trigger_id=trigger_id, view=modal("t" * 24))

    assert rejected["error"] == "invalid_arguments"
    assert rejected["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert accepted["ok"] is True


def test_views_update_changes_hash_and_checks_it(double, client):
    opened = client.views_open(trigger_id=double.issue_trigger_id(), view=modal())["view"]

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Two"))
    stale = slack_error(
        client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal()
    )
    current = client.views_update(
        view_id=opened["id"], hash=updated["view"]["hash"], view=modal("Three")
    )

    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["hash"] != opened["hash"]
    assert updated["view"]["title"]["text"] == "Two"
    assert stale["error"] == "hash_conflict"
    assert current["view"]["hash"] != updated["view"]["hash"]
    assert double.view(opened["id"])["title"]["text"] == "Three"


def test_views_update_by_external_id(double, client):
    opened = client.views_open(
        trigger_id=double.issue_trigger_id(), view=modal(external_id="ext-2")
    )["view"]

    updated = client.views_update(external_id="ext-2", view=modal("New", external_id="ext-2"))

    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["title"]["text"] == "New"


def test_views_update_errors(client):
    assert slack_error(client.views_update, view_id="V0NOPE", view=modal())["error"] == (
        "not_found"
    )
    neither = slack_error(client.api_call, "views.update", json={"view": modal()})
    assert neither["error"] == "invalid_arguments"


def test_duplicate_external_id(double, client):
    client.views_open(trigger_id=double.issue_trigger_id(), view=modal(external_id="same"))

    duplicate = slack_error(
        client.views_open, trigger_id=double.issue_trigger_id(), view=modal(external_id="same")
    )

    assert duplicate["error"] == "duplicate_external_id"


def test_views_push_stack_limit(double, client):
    root = client.views_open(trigger_id=double.issue_trigger_id(), view=modal())["view"]

    second = client.views_push(trigger_id=double.issue_trigger_id(view_id=root["id"]), view=modal())
    third = client.views_push(
        trigger_id=double.issue_trigger_id(view_id=second["view"]["id"]), view=modal()
    )
    fourth = slack_error(
        client.views_push, trigger_id=double.issue_trigger_id(view_id=root["id"]), view=modal()
    )

    assert second["view"]["previous_view_id"] == root["id"]
    assert third["view"]["previous_view_id"] == second["view"]["id"]
    assert third["view"]["root_view_id"] == root["id"]
    assert fourth["error"] == "push_limit_reached"


def test_views_push_without_open_modal(double, client):
    response = slack_error(client.views_push, trigger_id=double.issue_trigger_id(), view=modal())

    assert response["error"] == "not_found"


def test_views_publish_home(double, client):
    home = {"type": "home", "blocks": [SECTION]}

    first = client.views_publish(user_id=ALICE, view=home)["view"]
    second = client.views_publish(user_id=ALICE, view=home, hash=first["hash"])["view"]
    stale = slack_error(client.views_publish, user_id=ALICE, view=home, hash=first["hash"])
    as_modal = slack_error(client.views_publish, user_id=ALICE, view=modal())
    unknown_user = slack_error(client.views_publish, user_id="U0NOBODY", view=home)

    assert second["id"] == first["id"]
    assert stale["error"] == "hash_conflict"
    assert as_modal["error"] == "invalid_arguments"
    assert as_modal["response_metadata"]["messages"] == [
        "[ERROR] must be home [json-pointer:/view/type]"
    ]
    assert unknown_user["error"] == "invalid_arguments"


def test_views_open_rejects_home_type(double, client):
    home = {"type": "home", "blocks": [SECTION]}

    response = slack_error(client.views_open, trigger_id=double.issue_trigger_id(), view=home)

    assert response["error"] == "invalid_arguments"


# Fault injection


def test_rate_limit_is_retried_by_slack_sdk(double):
    double.fail_next("chat.postMessage", status=429, retry_after=0)
    client = WebClient(
        token=double.bot_token,
        base_url=double.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    response = client.chat_postMessage(channel=GENERAL, text="eventually")

    calls = double.calls_to("chat.postMessage")
    assert response["ok"] is True
    assert [(call.status, call.error) for call in calls] == [(429, "ratelimited"), (200, None)]
    assert len(double.messages_in(GENERAL)) == 1


def test_rate_limit_sends_retry_after_header(double):
    double.fail_next("auth.test", status=429, retry_after=7)
    headers = {"Authorization": f"Bearer {double.bot_token}", "Content-Type": "application/json"}

    status, response_headers, body = raw_post(double, "auth.test", b"{}", headers)

    assert status == 429
    assert response_headers["Retry-After"] == "7"
    assert body == {"ok": False, "error": "ratelimited"}


def test_rate_limit_without_retry_handler_raises(double, client):
    double.fail_next("chat.postMessage", status=429)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=GENERAL, text="x")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"


def test_server_error_then_success(double, client):
    double.fail_next("users.info", status=500)

    with pytest.raises(SlackApiError) as raised:
        client.users_info(user=ALICE)
    recovered = client.users_info(user=ALICE)

    assert raised.value.response.status_code == 500
    assert raised.value.response["error"] == "internal_error"
    assert recovered["ok"] is True
    assert [call.status for call in double.calls_to("users.info")] == [500, 200]


def test_server_error_is_retried_by_slack_sdk(double):
    double.fail_next("users.info", status=500)
    client = WebClient(
        token=double.bot_token,
        base_url=double.base_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )

    assert client.users_info(user=ALICE)["ok"] is True
    assert len(double.calls_to("users.info")) == 2


def test_injected_api_error_applies_times(double, client):
    double.fail_next("conversations.info", status=200, error="fatal_error", times=2)

    first = slack_error(client.conversations_info, channel=GENERAL)
    second = slack_error(client.conversations_info, channel=GENERAL)
    third = client.conversations_info(channel=GENERAL)

    assert first["error"] == "fatal_error"
    assert second["error"] == "fatal_error"
    assert third["ok"] is True


def test_fail_next_with_200_needs_error(double):
    with pytest.raises(ValueError, match="needs an error name"):
        double.fail_next("auth.test", status=200)


def test_reset_clears_calls_and_failures(double, client):
    client.auth_test()
    double.fail_next("auth.test", status=500)

    double.reset()

    assert double.calls == []
    assert client.auth_test()["ok"] is True
    assert len(double.calls) == 1
    assert client.users_info(user=ALICE)["user"]["name"] == "alice"


# Recording and waiting


def test_calls_record_args_without_token(double, client):
    client.chat_postMessage(channel=GENERAL, text="recorded")

    call = double.calls_to("chat.postMessage")[0]
    assert call.args == {"channel": GENERAL, "text": "recorded"}
    assert call.ok is True
    assert call.response["ts"] == double.messages_in(GENERAL)[0]["ts"]


def test_wait_for_returns_when_call_arrives(double, client):
    def post_later() -> None:
        time.sleep(0.2)
        client.chat_postMessage(channel=GENERAL, text="late")

    thread = threading.Thread(target=post_later)
    thread.start()
    calls = double.wait_for(
        "chat.postMessage", timeout=5, where=lambda call: call.args["text"] == "late"
    )
    thread.join()

    assert [call.args["text"] for call in calls] == ["late"]


def test_wait_for_timeout_names_arrived_calls(double, client):
    client.auth_test()

    with pytest.raises(AssertionError, match=r"got 0\. Calls received: \[auth\.test\(ok\)\]"):
        double.wait_for("chat.postMessage", timeout=0.2)


def test_concurrent_posts_are_all_recorded(double, client):
    def post(index: int) -> None:
        client.chat_postMessage(channel=GENERAL, text=f"message {index}")

    threads = [threading.Thread(target=post, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    calls = double.wait_for("chat.postMessage", count=20)
    timestamps = [message["ts"] for message in double.messages_in(GENERAL)]
    assert len(calls) == 20
    assert len(set(timestamps)) == 20
    assert timestamps == sorted(timestamps)


def test_bug_in_a_method_is_a_recorded_500(double, client, monkeypatch):
    def crash(context, args):
        raise RuntimeError("simulated bug")

    monkeypatch.setitem(METHODS, "test.crash", Method("test.crash", crash, None, "bot"))

    with pytest.raises(SlackApiError) as raised:
        client.api_call("test.crash")

    assert raised.value.response.status_code == 500
    assert double.calls_to("test.crash")[0].error == "fatal_error"


# Files


def test_file_upload_flow(double, client):
    response = client.files_upload_v2(
        channel=GENERAL, content=b"transcript bytes", filename="t.txt", title="Transcript"
    )

    file_id = response["file"]["id"]
    message = double.messages_in(GENERAL)[-1]
    assert double.file_content(file_id) == b"transcript bytes"
    assert [call.method for call in double.calls][-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert double.calls_to("upload")[0].args["length"] == len(b"transcript bytes")
    assert message["files"][0]["id"] == file_id
    assert message["files"][0]["title"] == "Transcript"


def test_complete_upload_errors(double, client):
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=3)

    not_uploaded = slack_error(
        client.files_completeUploadExternal, files=[{"id": ticket["file_id"]}], channel_id=GENERAL
    )
    zero_length = slack_error(client.files_getUploadURLExternal, filename="a.txt", length=0)

    assert ticket["upload_url"].startswith(double.origin + "/upload/v1/")
    assert not_uploaded["error"] == "file_not_found"
    assert zero_length["error"] == "missing_argument"


def test_multipart_upload_keeps_the_file_part(double, client):
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=5)
    boundary = "upload-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "hello\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        ticket["upload_url"],
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as response:
        answer = response.read()

    assert answer == b"OK - 5"
    assert double.file_content(ticket["file_id"]) == b"hello"


def test_upload_to_unjoined_channel_is_denied(client):
    response = slack_error(client.files_upload_v2, channel=ELSEWHERE, content="x", filename="a.txt")

    assert response["error"] == "posting_to_channel_denied"


# response_url


def test_response_url_ephemeral_and_in_channel(double):
    url = double.new_response_url(user=ALICE, channel=GENERAL)
    webhook = WebhookClient(url)

    ephemeral = webhook.send(text="only you")
    in_channel = webhook.send(text="everyone", response_type="in_channel")

    assert ephemeral.status_code == 200
    assert in_channel.status_code == 200
    assert [e["text"] for e in double.ephemerals_for(ALICE)] == ["only you"]
    assert double.messages_in(GENERAL)[-1]["text"] == "everyone"
    assert [call.method for call in double.calls] == ["response_url", "response_url"]


def test_response_url_replaces_original(double, client):
    posted = client.chat_postMessage(channel=GENERAL, text="old")
    url = double.new_response_url(user=ALICE, channel=GENERAL, message_ts=posted["ts"])

    WebhookClient(url).send(text="new", replace_original=True)

    assert [message["text"] for message in double.messages_in(GENERAL)] == ["new"]


def test_response_url_rejects_invalid_blocks(double):
    url = double.new_response_url(user=ALICE, channel=GENERAL)
    bad = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}

    response = WebhookClient(url).send(text="x", blocks=[bad])

    assert response.status_code == 400
    assert response.body == "invalid_blocks"
    assert double.calls_to("response_url")[0].ok is False
