"""The dashboard's use cases: a member's Home, the secretariat's queues, CSV exports and the
weekly report. The figures themselves are bot/services/statistics."""
