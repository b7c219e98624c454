"""Enrol stage: apply decided records to the register — persons, policies, insurers, history."""
