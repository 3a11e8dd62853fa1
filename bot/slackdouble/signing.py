"""Request signing as Slack does it, and a client that POSTs signed payloads to a bot."""

import time
import urllib.error
import urllib.request
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.slackdouble.payloads import encode_for_http

# The User-Agent of Slack's requests to apps.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def signed_headers(
    body: bytes, signing_secret: str, timestamp: int | None = None
) -> dict[str, str]:
    """Return X-Slack-Request-Timestamp and X-Slack-Signature for a request body.

    The timestamp is in Unix seconds, now unless given. Bolt rejects one more than 5 minutes
    off.
    """
    request_timestamp = str(int(time.time()) if timestamp is None else timestamp)
    verifier = SignatureVerifier(signing_secret)
    signature = verifier.generate_signature(timestamp=request_timestamp, body=body)
    return {"X-Slack-Request-Timestamp": request_timestamp, "X-Slack-Signature": signature}


def post_to_bot(
    url: str,
    payload: dict[str, Any],
    signing_secret: str,
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timeout: float = 5,
) -> tuple[int, dict[str, str], bytes]:
    """POST a payload to a bot the way Slack does, and return the status, headers and body.

    `retry_num` and `retry_reason` add the headers of Slack's event redelivery
    (X-Slack-Retry-Num, X-Slack-Retry-Reason such as "http_timeout"). An HTTP error status is
    returned, not raised. `timeout` is in seconds.
    """
    body, content_type = encode_for_http(payload)
    headers = {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        **signed_headers(body, signing_secret, timestamp),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
    if retry_reason is not None:
        headers["X-Slack-Retry-Reason"] = retry_reason

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # No proxy: the bot under test listens locally, and an environment proxy must not see it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()
