"""The `personalize` command line: one subcommand per stage."""
