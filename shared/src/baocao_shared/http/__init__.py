"""The HTTP adapter every service shares: middleware, the answers for domain errors, the route dependencies,
and reading input that no handler could otherwise read."""
