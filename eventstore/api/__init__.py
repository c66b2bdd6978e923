"""API plumbing for every app's views: parsing (`parsers`), the size limit (`middleware`), the one
error format (`errors`, `exception_handler`, and `fallback` for paths that name no endpoint),
authentication (`authentication`), pagination (`pagination`), shared query serializers (`queries`)
and the OpenAPI schema class (`schema`). Each module imports only those below it; settings name them."""
