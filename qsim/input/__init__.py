"""What the user writes, read and checked: scenario models and their resolution, distributions,
durations, the bounded file and safe YAML reader, plans, limits and the work estimate, errors."""
