"""The REST API: the same data and permissions as the staff UI."""
