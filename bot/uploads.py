"""Upload a text file, such as a transcript, into a Slack conversation.

slack_sdk's WebClient.files_upload_v2 (slack-sdk 3.48) runs Slack's three-step upload. It
calls files.getUploadURLExternal with the filename and the length in bytes, and POSTs the raw
bytes to the upload_url that Slack returns. Then it calls files.completeUploadExternal with
the file's id and title, the channel_id and the initial_comment. The two API calls go to the
client's `base_url`. The POST goes to the returned URL with urllib, through the client's `proxy` and
`ssl` settings (WebClient reads `proxy` from HTTPS_PROXY or HTTP_PROXY when none is passed).
"""

from __future__ import annotations

import logging
import urllib.error

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

logger = logging.getLogger(__name__)

UPLOAD_STEP = "upload"
CONNECTION_STEP = "connection"


class FileUploadError(RuntimeError):
    """A failed file upload to Slack.

    `step` is the API method that failed, "upload" for the POST of the bytes, or "connection"
    when no connection to Slack could be made.
    """

    def __init__(self, message: str, *, step: str, filename: str) -> None:
        super().__init__(message)
        self.step = step
        self.filename = filename


def upload_text_file(
    client: WebClient,
    *,
    channel_id: str,
    filename: str,
    title: str,
    content: str,
    initial_comment: str | None = None,
) -> str:
    """Upload `content` as a UTF-8 file, share it in the channel, and return the file id.

    Raises ValueError for empty content, which Slack rejects, and FileUploadError when any
    step of the upload fails.
    """
    return upload_file(
        client,
        channel_id=channel_id,
        filename=filename,
        title=title,
        data=content.encode("utf-8"),
        initial_comment=initial_comment,
    )


def upload_file(
    client: WebClient,
    *,
    channel_id: str,
    filename: str,
    title: str,
    data: bytes,
    initial_comment: str | None = None,
) -> str:
    """Upload bytes, such as a PNG image, share them in the channel, and return the file id.

    Raises the same errors as upload_text_file.
    """
    if not data:
        raise ValueError(f"content of {filename!r} is empty: Slack rejects a zero-length upload")

    try:
        response = client.files_upload_v2(
            channel=channel_id,
            filename=filename,
            title=title,
            content=data,
            initial_comment=initial_comment,
        )
    except SlackApiError as error:
        step = _api_method(error)
        reason = error.response.get("error")
        raise _failure(step, filename, channel_id, f"Slack returned {reason}") from error
    except urllib.error.HTTPError as error:
        # WebClient turns HTTP errors from API methods into SlackApiError, so an HTTPError
        # can only come from the POST to the upload URL.
        raise _failure(UPLOAD_STEP, filename, channel_id, f"HTTP {error.code}") from error
    except urllib.error.URLError as error:
        # A connection failure, which can happen at any of the three steps.
        detail = f"could not connect to Slack: {error.reason}"
        raise _failure(CONNECTION_STEP, filename, channel_id, detail) from error
    except SlackRequestError as error:
        # files_upload_v2 raises this for an upload response other than 200, and for a file
        # over its size limit.
        raise _failure(UPLOAD_STEP, filename, channel_id, str(error)) from error

    file_id = _file_id(response.get("files"))
    if file_id is None:
        raise _failure(
            "files.completeUploadExternal", filename, channel_id, "the response names no file"
        )
    logger.info("file uploaded file_id=%s channel=%s bytes=%d", file_id, channel_id, len(data))
    return file_id


def _api_method(error: SlackApiError) -> str:
    api_url = getattr(error.response, "api_url", "") or ""
    return api_url.rstrip("/").rpartition("/")[2] or "files_upload_v2"


def _file_id(files: object) -> str | None:
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return None
    file_id = files[0].get("id")
    return file_id if isinstance(file_id, str) and file_id else None


def _failure(step: str, filename: str, channel_id: str, detail: str) -> FileUploadError:
    where = "" if step == CONNECTION_STEP else f" at {step}"
    message = f"Uploading {filename!r} to channel {channel_id} failed{where}: {detail}"
    return FileUploadError(message, step=step, filename=filename)
