"""Memory tiers on pgvector (DESIGN §5): capture, hybrid recall with provenance, decay and compression.

- `text`: normalising, hashing and chunking text;
- `embeddings`: the embedding providers (local MiniLM on the CPU, or an OpenAI-compatible endpoint);
- `search`: the SQL of vector, keyword and hybrid search (reads only);
- `services`: adding items (dedupe, near-duplicates), recall with re-ranking and provenance,
  compression, expiry and retention;
- `capture`: which records become memory, and the ledger tasks that capture them after commit.
"""
