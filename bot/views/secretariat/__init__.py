"""Block Kit for the secretariat's toolkit: the announcement modal and progress, the member card."""
