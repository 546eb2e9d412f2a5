"""The tenancy boundary: partnerships, their domains, provisioning and lifecycle."""
