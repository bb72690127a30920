"""Language-aware text utilities shared by the steps."""
