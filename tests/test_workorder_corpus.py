"""The work-order corpus (tests/workorders_corpus): clause-by-clause against hand-written goldens."""

from __future__ import annotations

from tests.workorders_corpus.golden import grade_all
from tests.workorders_corpus.report import table

#: Accuracy the corpus must keep (clauses right / clauses expected + unexpected).
TARGET = 0.98


def test_corpus_accuracy_and_no_order_wrongly_refused():
    results = grade_all()
    print("\n" + table(verbose=True))
    right, total = sum(r.right for r in results), sum(r.total for r in results)
    assert not [r.file for r in results if r.refused_wrongly]
    assert right / total >= TARGET, f"{right}/{total} clauses right"
    assert {r.file.rsplit(".", 1)[1] for r in results} >= {"txt", "json", "yaml"}
