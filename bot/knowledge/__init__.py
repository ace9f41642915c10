"""Knowledge search's pure parts (the use cases are in bot/services/knowledge/):

tokens.py     search keys: folding, CJK bigrams, Latin words (the same for entries and queries)
synonyms.py   synonym groups and the concepts a query becomes
ranking.py    BM25 over the candidates' keys, plus ✅/役に立った, recency and prefecture
snippets.py   the matched part of an entry, in bold
embedding.py  the optional meaning layer: a static embedding model from a local folder
fusion.py     reciprocal rank fusion of the text and meaning rankings
generated.py  the optional generated answer from an approved chat-completions endpoint
"""
