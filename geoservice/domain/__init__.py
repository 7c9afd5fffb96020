"""The domain: collections and fields, what a valid value is, a proposal's and a project's life,
the policy. Imports nothing of the service."""
