"""Salesforce access pipeline: extract who holds which access in an org, land it in Postgres, provision it."""
