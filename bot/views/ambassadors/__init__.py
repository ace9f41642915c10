"""Block Kit for ambassadors: appointments, greeting cards, the ambassador's Home section."""
