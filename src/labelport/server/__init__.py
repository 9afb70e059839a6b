"""labelport's server: Kili's GraphQL protocol, so that the unmodified ``kili`` SDK and CLI work against a
self-hosted labelport. ``schema.graphql`` declares the protocol as the SDK uses it."""
