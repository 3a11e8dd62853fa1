"""Every action_id, callback_id and block_id that caretbot puts on the wire.

Messages already posted keep their buttons for months, so a value here, once shipped, never
changes. Names are written out, never derived from Python names, so a rename cannot break a
posted button.
"""

from typing import Final

# Buttons in the ephemeral answer to a caret command that needs a modal.
OPEN_NOTE_MODAL: Final = "open_note_modal"

# Message shortcuts (declared in manifest.yml under features.shortcuts).
SHORTCUT_NOTE: Final = "note_conversation"

# Modals.
NOTE_MODAL: Final = "note_modal"
NOTE_BLOCK: Final = "note_text"
NOTE_INPUT: Final = "note_text_input"


def all_ids() -> dict[str, str]:
    """Return every wire id defined here, by constant name."""
    return {name: value for name, value in globals().items() if name.isupper()}
