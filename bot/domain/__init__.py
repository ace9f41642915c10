"""Plain data shared by use cases and views, so that neither imports the other."""
