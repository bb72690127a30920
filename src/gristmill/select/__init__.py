"""Signals without selection: write a signal sidecar, select from it, calibrate thresholds on it."""
