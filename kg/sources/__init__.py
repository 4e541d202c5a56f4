"""Systems of record kg hydrates from: a source lists its entities, gives one entity's complete
current state, and maps it to kg's statements (kg.sources.base); thin events and sync decide
what to ask for (kg.sources.service), hydration writes it (kg.sources.hydrate)."""
