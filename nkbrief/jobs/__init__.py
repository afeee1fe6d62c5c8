"""The long jobs both the command line and the window run (pure functions, progress callback)."""
