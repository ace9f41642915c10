"""Kyoso's domain: settings, services, rules, views and text."""
