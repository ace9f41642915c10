"""Moderation views, pure builders of Block Kit: the report modal, the secretariat's case
alert and its modals, the poster's warning, DMs to an author, and the case lists."""
