"""What HTTP needs around every app's views: API plumbing (authentication, parsers, errors and the
exception handler, pagination, query fields, the schema), health and metrics endpoints, the
connection budget of a server process, and the admin's building blocks."""
