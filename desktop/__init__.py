"""Samverka desktop client."""
