"""Claim analysis: mentions, variants, stances and corrections of the claims in config."""
