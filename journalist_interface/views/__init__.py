"""Blueprints of the staff interface."""
