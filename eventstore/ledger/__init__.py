"""The verifiable ledger: each event a leaf of an RFC 9162 Merkle tree in commit order, signed tree
heads (Ed25519), inclusion and consistency proofs, the audit bundle, and the offline verifier an
auditor runs with nothing but Python and `cryptography`."""
