"""The Web API methods the double serves, registered by name in METHODS."""

# Importing each module registers its handlers.
from bot.slackdouble.methods import (  # noqa: F401
    chat,
    conversations,
    files,
    usergroups,
    users,
    views,
)
from bot.slackdouble.methods.base import METHODS, ApiError, MethodContext

__all__ = ["METHODS", "ApiError", "MethodContext"]
