"""Ablations: variants of a data recipe × seeds, each trained with the same budget and scored in bits per byte."""
