"""Partitioning: the device mesh, the logical-axis rule table and shardings derived from it."""
