"""A local Salesforce org: an HTTPS server on loopback that answers the Salesforce APIs as Salesforce does."""
