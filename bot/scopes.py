"""The bot token scopes that caretbot needs; manifest.yml asks for exactly these."""

BOT_SCOPES = (
    "channels:history",  # message events and thread replies in public channels
    "channels:read",  # conversations.info: whether a channel is shared outside the workspace
    "chat:write",  # replies, ephemeral messages, cards
    "commands",  # message shortcuts and slash commands
    "files:write",  # transcript uploads
    "groups:history",  # message events in private channels
    "groups:read",
    "im:history",  # message events in DMs with caretbot
    "im:write",  # conversations.open for hand-off DMs
    "mpim:history",  # message events in group DMs
    "reactions:write",  # the unread marker on a thread's root message
    "usergroups:read",  # members of a Slack user group linked to a team
    "users:read",  # names, time zones, admin flags
    "users:read.email",  # users.lookupByEmail for email recipients
)
