"""Webhooks: agencies' endpoints, the transactional outbox and its delivery worker."""
