"""Turn Slack message markup back into the plain words a person would read.

Slack writes mentions, channel links, links and dates in message text as `<...>` tokens and
escapes the three control characters `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;` (Slack's
"Formatting message text" reference). So a `<` in message text normally starts a token, and
one that starts none, as in text that an app posted unescaped, is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

_NO_NAMES: Mapping[str, str] = MappingProxyType({})

# One pass finds both tokens and entities, so text that an entity decodes to, such as the
# "<@U1>" in "&lt;@U1&gt;", is never read as a token.
_TOKEN_OR_ENTITY = re.compile(r"<([^<>]*)>|&(lt|gt|amp);")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITY_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&"}

_USER_MENTION = re.compile(r"<@([^<>|]+)(?:\|[^<>]*)?>")
# A URL scheme as RFC 3986 defines it: a letter, then letters, digits, "+", "-" or ".".
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SPECIAL_MENTIONS = frozenset({"here", "channel", "everyone"})


def to_plain(
    text: str,
    *,
    user_names: Mapping[str, str],
    channel_names: Mapping[str, str] = _NO_NAMES,
    usergroup_names: Mapping[str, str] = _NO_NAMES,
) -> str:
    """Convert Slack message markup to plain text.

    Mentions become `@name` and channel links `#name`, taking the name from the mapping for
    the id, else the token's label, else the id. A date becomes its fallback text, and a link
    becomes `label (url)`, or the bare URL when the label only repeats it. Entities are
    decoded, but names from the mappings are inserted as they are. A `<...>` that is no Slack
    token, such as the `< b >` in an unescaped "a < b > c", is kept as written.
    """

    def replace(match: re.Match[str]) -> str:
        entity = match.group(2)
        if entity is not None:
            return _ENTITY_CHARACTERS[entity]
        return _plain_token(match.group(1), user_names, channel_names, usergroup_names)

    # Most messages contain no markup at all, and skipping the regex keeps them cheap.
    if "<" not in text and "&" not in text:
        return text
    return _TOKEN_OR_ENTITY.sub(replace, text)


def mentioned_user_ids(text: str) -> set[str]:
    """Return the ids of the users that `<@...>` tokens in the text mention."""
    return set(_USER_MENTION.findall(text))


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda match: _ENTITY_CHARACTERS[match.group(1)], text)


def _plain_token(
    body: str,
    user_names: Mapping[str, str],
    channel_names: Mapping[str, str],
    usergroup_names: Mapping[str, str],
) -> str:
    target, has_label, label = body.partition("|")
    label = _unescape(label) if has_label else ""
    if target.startswith("@") and len(target) > 1:
        return _mention("@", user_names.get(target[1:]) or label or target[1:])
    if target.startswith("#") and len(target) > 1:
        return _mention("#", channel_names.get(target[1:]) or label or target[1:])
    if target.startswith("!"):
        plain = _plain_special(target[1:], label, usergroup_names)
    elif _URL_SCHEME.match(target):
        plain = _plain_link(_unescape(target), label)
    else:
        plain = None
    if plain is None:
        return f"<{_unescape(body)}>"
    return plain


def _mention(prefix: str, name: str) -> str:
    # Legacy labels and user group handles may already carry the prefix ("<!subteam^S1|@hr>").
    return name if name.startswith(prefix) else prefix + name


def _plain_special(command: str, label: str, usergroup_names: Mapping[str, str]) -> str | None:
    """Convert the part after "!" in `<!...>`, or return None for an unknown command."""
    name, _, argument = command.partition("^")
    if name in _SPECIAL_MENTIONS and not argument:
        return "@" + name
    if name == "subteam" and argument:
        return _mention("@", usergroup_names.get(argument) or label or argument)
    if name == "date" and argument:
        return label or _plain_date(argument)
    return label or None


def _plain_date(argument: str) -> str | None:
    # `<!date^1700000000^{date_short}^https://...|fallback>` normally carries fallback text.
    # Without it, the time in UTC reads better than the epoch.
    epoch = argument.partition("^")[0]
    if not epoch.isdigit():
        return None
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plain_link(url: str, label: str) -> str:
    address = url.removeprefix("mailto:") if url.lower().startswith("mailto:") else url
    if not label or label in (url, address, _without_scheme(url)):
        return address
    return f"{label} ({address})"


def _without_scheme(url: str) -> str:
    # Slack links a typed "example.com" as <http://example.com|example.com>.
    for prefix in ("https://", "http://"):
        if url.lower().startswith(prefix):
            return url[len(prefix) :]
    return url
