"""Rate schedules: the sewer ordinance's rates as OWRS documents with versions."""
