"""Syncing observations: batches from offline outboxes and CRMs in, a stable stream out."""
