"""A strict fake of the Slack Web API for tests and `caretbot demo`, plus payload builders.

SlackDouble serves the Web API on 127.0.0.1 and rejects what Slack rejects, with Slack's error
names. The payloads and signing modules build and sign what Slack sends into a bot.
"""

from bot.slackdouble.payloads import encode_for_http
from bot.slackdouble.server import DEFAULT_SCOPES, Call, SlackDouble
from bot.slackdouble.signing import post_to_bot, signed_headers

__all__ = [
    "DEFAULT_SCOPES",
    "Call",
    "SlackDouble",
    "encode_for_http",
    "post_to_bot",
    "signed_headers",
]
