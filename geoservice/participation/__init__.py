"""Who may do what: tokens, roles, participants and their limits."""
