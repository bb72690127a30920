"""Executors: they schedule steps over shards. ``local`` runs a process pool on one machine."""
