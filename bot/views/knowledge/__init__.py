"""Knowledge's Block Kit: search results, suggestions, the secretariat's editors."""
