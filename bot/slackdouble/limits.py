"""Slack's documented limits that the double enforces, with the page each one comes from.

Lengths count characters, as Slack does. Pages are under https://docs.slack.dev/reference/
unless a full address is given. Limits that slack_sdk's models already check (actions and
context element counts, button and placeholder lengths, overflow options) are left to them.
"""

# block-kit: "You can include up to 50 blocks in each message, and 100 blocks in modals or
# Home tabs."
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

# methods/chat.postMessage: Slack truncates `text` beyond 40,000 characters and lists
# msg_too_long. The double rejects instead of truncating, so a passing test never depends on
# text that Slack would cut. The same page limits `markdown_text` to 12,000 characters.
MESSAGE_TEXT_MAX_LENGTH = 40_000
MARKDOWN_TEXT_MAX_LENGTH = 12_000

# methods/chat.postMessage, too_many_attachments: "A maximum of 100 attachments".
MESSAGE_MAX_ATTACHMENTS = 100

# views/modal-views: title, submit and close are plain_text of at most 24 characters,
# private_metadata is at most 3000 characters and callback_id at most 255.
VIEW_TITLE_MAX_LENGTH = 24
VIEW_BUTTON_MAX_LENGTH = 24
PRIVATE_METADATA_MAX_LENGTH = 3000
CALLBACK_ID_MAX_LENGTH = 255

# methods/views.open: external_id "has a max length of 255 characters".
EXTERNAL_ID_MAX_LENGTH = 255

# methods/views.push: "After a modal is opened, the app is limited to pushing 2 additional
# views", so a modal's view stack contains at most 3 views (push_limit_reached).
VIEW_STACK_MAX_DEPTH = 3

# block-kit/blocks/*: block_id is at most 255 characters. Slack's Block Kit Builder schema also
# rejects an empty block_id. block-kit/block-elements/*: action_id is at most 255 characters.
BLOCK_ID_MAX_LENGTH = 255
ACTION_ID_MAX_LENGTH = 255

# block-kit/blocks/section-block: text is at most 3000 characters. Slack's own rejection reads
# "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
SECTION_TEXT_MAX_LENGTH = 3000

# block-kit/blocks/header-block: plain_text of at most 150 characters.
HEADER_TEXT_MAX_LENGTH = 150

# block-kit/composition-objects/option-object: text and description are at most 75
# characters, value at most 150.
OPTION_TEXT_MAX_LENGTH = 75
OPTION_DESCRIPTION_MAX_LENGTH = 75
OPTION_VALUE_MAX_LENGTH = 150

# block-kit/composition-objects/option-group-object: "An option_groups array can have a
# maximum number of 100 option groups with a maximum of 100 options", and a group label is
# plain_text of at most 75 characters. Select menus take at most 100 options.
SELECT_MAX_OPTIONS = 100
SELECT_MAX_OPTION_GROUPS = 100
OPTION_GROUP_MAX_OPTIONS = 100
OPTION_GROUP_LABEL_MAX_LENGTH = 75

# https://docs.slack.dev/tools/bolt-python/concepts/opening-modals: "Pass a valid trigger_id
# within 3 seconds of receiving it".
TRIGGER_TTL_SECONDS = 3.0

# NOTE: the default and maximum page size of conversations.replies were not found in Slack's
# docs, so 1000 is the double's own choice.
REPLIES_DEFAULT_LIMIT = 1000
REPLIES_MAX_LIMIT = 1000
