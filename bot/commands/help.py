"""^help, unknown commands, and known commands that are not built yet."""

from __future__ import annotations

from bot.router import CommandHandlers, CommandRequest, suggest_command
from bot.views.help import help_blocks, help_fallback_text


def handle_help_command(request: CommandRequest, available: set[str]) -> None:
    """Show the command list to the user who asked."""
    request.reply_ephemeral(help_fallback_text(), help_blocks(available))


def handle_unknown_command(request: CommandRequest, available: set[str]) -> None:
    """Show the command list, with the closest command to the one mistyped."""
    word = request.command.word
    suggestion = suggest_command(word)
    request.reply_ephemeral(
        help_fallback_text(unknown_word=word, suggestion=suggestion),
        help_blocks(available, unknown_word=word, suggestion=suggestion),
    )


def handle_unavailable_command(request: CommandRequest) -> None:
    """Say that a known command is not part of this version yet."""
    request.reply_ephemeral(
        f"`^{request.command.name}` is not available in this version of caretbot yet. "
        f"Type `^help` to see what is."
    )


def register(handlers: CommandHandlers) -> None:
    handlers["help"] = lambda request: handle_help_command(request, set(handlers))
