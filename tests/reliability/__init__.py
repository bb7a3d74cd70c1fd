"""Reliability and security tests (issue 4): hostile input, headers, index lifecycle, load, API contract."""
