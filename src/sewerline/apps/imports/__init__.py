"""Imports of water utility billing exports and profile files, all or nothing."""
