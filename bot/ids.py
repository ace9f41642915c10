"""Every callback_id, action_id and block_id in one place: the manifest and tests use them."""

SLASH_COMMAND = "/kyoso"
