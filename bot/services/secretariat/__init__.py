"""The secretariat's toolkit: announcements to an audience, member look-up, roles from Slack."""
