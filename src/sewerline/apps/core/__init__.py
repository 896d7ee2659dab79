"""Shared pieces of the web application: roles, login, the change record, the layout."""
