"""Channels' use cases, one module per flow: requests, their review, provisioning marks, the
registry, listing, facilitation and dormancy. None of them calls Slack (bot/slack/channels/
does) nor commits."""
