"""Adapters that call Slack's Web API, built once in bot/gateway.py."""
