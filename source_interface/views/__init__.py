"""Blueprints of the source interface."""
