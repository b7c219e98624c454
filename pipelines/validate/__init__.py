"""Validate stage: the business rules every record of a feed must pass, as GE suites.

Every rule is one expectation carrying a reason code from :mod:`pipelines.codes`; a record's codes
are the codes of the expectations it failed. docs/rules.md lists the rules.
"""
