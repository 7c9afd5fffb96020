"""Data derived from the stored features: koppelkansen and the summaries per wijk."""
