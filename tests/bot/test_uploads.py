import json
import socket

import pytest
from slack_sdk import WebClient

from bot.slackdouble import SlackDouble
from bot.uploads import FileUploadError, upload_text_file

RECRUITER = "U0RITA"
CONTENT = "Transcript for Zoë Müller\n2024-03-09 09:00 Zoë: Grüße — ✓ 漢字\n"


@pytest.fixture
def double():
    with SlackDouble() as running:
        running.add_user(RECRUITER, "rita")
        yield running


@pytest.fixture
def client(double):
    return WebClient(token=double.bot_token, base_url=double.base_url)


@pytest.fixture
def dm_channel(client):
    return client.conversations_open(users=RECRUITER)["channel"]["id"]


def upload(client, channel_id, **overrides):
    arguments = {
        "channel_id": channel_id,
        "filename": "transcript.txt",
        "title": "Transcript: Zoë Müller",
        "content": CONTENT,
        "initial_comment": "Here is the transcript you asked for.",
    }
    arguments.update(overrides)
    return upload_text_file(client, **arguments)


def test_upload_bytes_arrive_intact(double, client, dm_channel):
    file_id = upload(client, dm_channel)

    assert double.file_content(file_id) == CONTENT.encode("utf-8")


def test_upload_requests_utf8_byte_length(double, client, dm_channel):
    upload(client, dm_channel)

    [request] = double.calls_to("files.getUploadURLExternal")
    assert request.args["filename"] == "transcript.txt"
    assert int(request.args["length"]) == len(CONTENT.encode("utf-8"))
    assert int(request.args["length"]) > len(CONTENT)


def test_upload_completes_with_title_and_comment(double, client, dm_channel):
    file_id = upload(client, dm_channel)

    [completion] = double.calls_to("files.completeUploadExternal")
    # slack_sdk sends `files` as a JSON string.
    files = json.loads(completion.args["files"])
    assert [(entry["id"], entry["title"]) for entry in files] == [
        (file_id, "Transcript: Zoë Müller")
    ]
    assert completion.args["channel_id"] == dm_channel
    assert completion.args["initial_comment"] == "Here is the transcript you asked for."


def test_upload_shares_file_in_dm(double, client, dm_channel):
    file_id = upload(client, dm_channel)

    assert dm_channel == double.dm_channel_id(RECRUITER)
    [message] = double.messages_in(dm_channel)
    assert message["text"] == "Here is the transcript you asked for."
    assert [shared["id"] for shared in message["files"]] == [file_id]
    assert message["files"][0]["name"] == "transcript.txt"
    assert message["files"][0]["title"] == "Transcript: Zoë Müller"


def test_upload_without_comment(double, client, dm_channel):
    file_id = upload(client, dm_channel, initial_comment=None)

    [completion] = double.calls_to("files.completeUploadExternal")
    assert "initial_comment" not in completion.args
    [message] = double.messages_in(dm_channel)
    assert message["text"] == ""
    assert message["files"][0]["id"] == file_id


def test_upload_post_reaches_double(double, client, dm_channel):
    upload(client, dm_channel)

    [posted] = double.calls_to("upload")
    assert posted.ok
    assert posted.args["length"] == len(CONTENT.encode("utf-8"))


@pytest.mark.parametrize("status", [500, 429])
def test_get_upload_url_failure_raises(double, client, dm_channel, status):
    double.fail_next("files.getUploadURLExternal", status=status)

    with pytest.raises(FileUploadError) as raised:
        upload(client, dm_channel)

    assert raised.value.step == "files.getUploadURLExternal"
    assert raised.value.filename == "transcript.txt"
    assert "files.getUploadURLExternal" in str(raised.value)
    assert double.calls_to("upload") == []
    assert double.calls_to("files.completeUploadExternal") == []


def test_get_upload_url_slack_error_named(double, client, dm_channel):
    double.fail_next("files.getUploadURLExternal", status=200, error="invalid_auth")

    with pytest.raises(FileUploadError) as raised:
        upload(client, dm_channel)

    assert "invalid_auth" in str(raised.value)


class UnknownUploadUrlClient(WebClient):
    """A client that posts the bytes to an upload URL the double never issued."""

    def files_getUploadURLExternal(self, **kwargs):
        response = super().files_getUploadURLExternal(**kwargs)
        response.data["upload_url"] += "-unknown"
        return response


def test_rejected_upload_post_raises(double, dm_channel):
    client = UnknownUploadUrlClient(token=double.bot_token, base_url=double.base_url)

    with pytest.raises(FileUploadError) as raised:
        upload(client, dm_channel)

    assert raised.value.step == "upload"
    assert "HTTP 404" in str(raised.value)
    [posted] = double.calls_to("upload")
    assert posted.status == 404
    assert double.calls_to("files.completeUploadExternal") == []


def test_complete_upload_failure_raises(double, client, dm_channel):
    double.fail_next("files.completeUploadExternal", status=500)

    with pytest.raises(FileUploadError) as raised:
        upload(client, dm_channel)

    assert raised.value.step == "files.completeUploadExternal"
    assert "internal_error" in str(raised.value)
    assert double.messages_in(dm_channel) == []


def test_unknown_channel_raises(double, client):
    with pytest.raises(FileUploadError) as raised:
        upload(client, "C0NOWHERE")

    assert raised.value.step == "files.completeUploadExternal"
    assert "C0NOWHERE" in str(raised.value)
    assert "invalid_channel" in str(raised.value)


def test_empty_content_rejected(double, client, dm_channel):
    with pytest.raises(ValueError, match="empty"):
        upload(client, dm_channel, content="")

    assert double.calls_to("files.getUploadURLExternal") == []


def test_refused_connection_raises():
    # Bind and close a port so that nothing listens on it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WebClient(token="xoxb-unused", base_url=f"http://127.0.0.1:{port}/api/")

    with pytest.raises(FileUploadError) as raised:
        upload(client, "D0NOWHERE")

    assert raised.value.step == "connection"
    assert "could not connect to Slack" in str(raised.value)
