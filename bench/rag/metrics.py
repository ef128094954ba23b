"""Retrieval metrics of the RAG benchmarks: one definition of each, shared by every system.

A run is a ranked list of ids (best first); qrels map a relevant id to its grade (1 = relevant,
2 = highly relevant; ids absent from qrels are not relevant). Cut-offs count ranks, not scores.

Chunked systems rank chunks; `doc_ranking` turns a chunk ranking into a document ranking (a chunk
hit counts for its document, the first rank wins), so every system is scored on documents.

Check: python3 -m doctest bench/rag/metrics.py -v
"""
import math


def doc_ranking(chunk_doc_ids):
    """Document ranking from a ranking of chunks given by their document ids (first rank wins).

    >>> doc_ranking(["a", "b", "a", "c", "b"])
    ['a', 'b', 'c']
    """
    seen, out = set(), []
    for doc in chunk_doc_ids:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def mrr_at(ranking, qrels, k=10):
    """Reciprocal rank of the first relevant id within the top k (0 when there is none).

    >>> mrr_at(["x", "a", "b"], {"a": 1})
    0.5
    >>> mrr_at(["x", "y"], {"a": 2})
    0.0
    >>> mrr_at(["x", "a"], {"a": 1}, k=1)
    0.0
    """
    for rank, doc in enumerate(ranking[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at(ranking, qrels, k=10):
    """Share of the relevant ids (any grade > 0) found within the top k.

    >>> recall_at(["a", "x", "b"], {"a": 2, "b": 1, "c": 1})
    0.6666666666666666
    >>> recall_at(["a"], {})
    0.0
    """
    relevant = {d for d, g in qrels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranking[:k])) / len(relevant)


def dcg(gains):
    """Discounted cumulative gain with exponential gain: sum of (2^g - 1) / log2(rank + 1).

    >>> dcg([2, 0, 1])
    3.5
    """
    return sum((2**g - 1) / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at(ranking, qrels, k=10):
    """dcg of the top k over the dcg of the ideal ordering of qrels (0 when nothing is relevant).

    >>> ndcg_at(["a", "b"], {"a": 2, "b": 1})
    1.0
    >>> round(ndcg_at(["b", "a"], {"a": 2, "b": 1}), 4)
    0.7967
    >>> ndcg_at(["x"], {"a": 1})
    0.0
    """
    ideal = dcg(sorted((g for g in qrels.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([qrels.get(doc, 0) for doc in ranking[:k]]) / ideal


def judged_at(ranking, reviewed, k=10):
    """Share of the top k that a judge reviewed (judged relevant or seen and left out).

    A low value means the scores rest on unreviewed documents counted as not relevant: review
    them before trusting a comparison. 1.0 for an empty ranking.

    >>> judged_at(["a", "x", "b", "y"], {"a", "b", "c"})
    0.5
    >>> judged_at([], {"a"})
    1.0
    """
    top = ranking[:k]
    if not top:
        return 1.0
    return sum(1 for doc in top if doc in reviewed) / len(top)


def evaluate(runs, qrels_by_query, k=10):
    """Means of MRR@k, nDCG@k and recall@k over every judged query (a query with no run scores 0).

    >>> evaluate({"q1": ["a"], "q2": ["x", "b"]}, {"q1": {"a": 1}, "q2": {"b": 1}})
    {'queries': 2, 'mrr': 0.75, 'ndcg': 0.8154648767857288, 'recall': 1.0}
    """
    n = len(qrels_by_query)
    totals = {"mrr": 0.0, "ndcg": 0.0, "recall": 0.0}
    for qid, qrels in qrels_by_query.items():
        ranking = runs.get(qid, [])
        totals["mrr"] += mrr_at(ranking, qrels, k)
        totals["ndcg"] += ndcg_at(ranking, qrels, k)
        totals["recall"] += recall_at(ranking, qrels, k)
    return {"queries": n, **{m: (v / n if n else 0.0) for m, v in totals.items()}}


def _tsv_rows(path, fields):
    """Yields (lineno, parts) for each non-blank, non-'#' line of a TSV with `fields` columns;
    raises ValueError naming the line otherwise."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != fields:
                raise ValueError(f"{path}:{lineno}: expected {fields} tab-separated fields")
            yield lineno, parts


def load_queries(path):
    """Reads a queries TSV: query_id <TAB> text <TAB> doc:grade[,doc:grade...]; '#' lines skipped.

    Returns [(query_id, text, {doc: grade})] in file order; raises ValueError on a bad line.
    """
    out = []
    for lineno, parts in _tsv_rows(path, 3):
        qrels = {}
        for item in parts[2].split(","):
            doc, _, grade = item.strip().rpartition(":")
            if not doc or grade not in ("1", "2"):
                raise ValueError(f"{path}:{lineno}: bad judgement {item!r}")
            qrels[doc] = int(grade)
        out.append((parts[0], parts[1], qrels))
    return out


def load_pool(path):
    """Reads a pool TSV: query_id <TAB> reviewed_id[,reviewed_id...]; returns {query_id: set}."""
    return {parts[0]: set(parts[1].split(",")) for _, parts in _tsv_rows(path, 2)}
