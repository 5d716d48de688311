"""A local Salesforce org: an HTTPS server on loopback that answers the Salesforce APIs as Salesforce does.

Start it with `python -m local_salesforce --port 0 --fixture FILE` (or `--demo --size small`); it prints
one JSON line `{"url", "ca_bundle", "state_dir", "credentials"}`. From Python,
`local_salesforce.testing.start_local_org(...)` does the same in a subprocess and gives a control client.

Modules, by concern:
    schema    objects, fields and relationships, as data (describe, SOQL and DML all read it)
    store     records, switches and indexes; fixture loading and validation (FIXTURES.md)
    soql      SOQL tokenizer and parser;  query  the evaluator (filters, joins, ordering, projection)
    auth      OAuth token endpoint (JWT, client credentials, refresh, password, web-server) and SOAP login
    access    which permission guards which read and write
    dml       create/update/delete with Salesforce's validation and provisioning rules
    rest      sObject REST, describe and sObject Collections
    control   the /__local_org__/ API for tests;  app  routing, sessions, limits, faults, cursors, journal
    server    HTTPS transport;  tls  the generated CA and leaf;  bench  records/s measurement
"""
