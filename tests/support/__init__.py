"""Test harness: a Slack Web API emulator and a sender of Slack-signed requests."""
