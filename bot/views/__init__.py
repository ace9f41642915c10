"""Block Kit builders: pure functions of plain data and a language."""
