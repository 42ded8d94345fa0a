"""The online arXiv source, tested on the recorded real API response; no live calls."""

from __future__ import annotations

import time
from dataclasses import dataclass

import arxiv
import pytest
import requests

from litsynth.ingest import parse_file
from litsynth.ingest.arxiv_online import SourceUnavailable, search_arxiv


@dataclass
class FakeResponse:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


def quiet_client() -> arxiv.Client:
    return arxiv.Client(delay_seconds=0, num_retries=0)


def serve(monkeypatch, client: arxiv.Client, response: FakeResponse) -> list[str]:
    """Make the client's session answer every request with ``response``; returns the URLs asked for."""
    urls: list[str] = []

    def get(url, **kwargs):
        urls.append(url)
        return response

    monkeypatch.setattr(client._session, "get", get)
    return urls


def test_search_parses_the_recorded_atom_response(monkeypatch, shared_data):
    sample = shared_data / "arxiv" / "atom_sample.xml"
    client = quiet_client()
    urls = serve(monkeypatch, client, FakeResponse(200, sample.read_bytes()))
    (paper,) = search_arxiv("multimodal fission", max_results=1, client=client)
    assert len(urls) == 1 and "search_query=multimodal+fission" in urls[0]
    assert paper.title == "Supervised Multi-Modal Fission Learning"
    assert (paper.arxiv_id, paper.arxiv_version, paper.published) == ("2409.20559", 1, "2024-09-30")
    assert paper.abstract.endswith("within- and across-modality correlations compared to existing methods.")
    # the online source and a saved copy of the same response give the very same record
    assert [paper] == parse_file(sample).papers


def test_offline_raises_source_unavailable_quickly(monkeypatch):
    def unreachable(self, url, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'export.arxiv.org' (NameResolutionError)")

    monkeypatch.setattr(requests.Session, "get", unreachable)  # the default client's session too
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="arXiv API unreachable for query 'dense retrieval' \\(ConnectionError"):
        search_arxiv("dense retrieval", max_results=5)
    assert time.monotonic() - started < 2


def test_http_error_raises_source_unavailable(monkeypatch):
    client = quiet_client()
    serve(monkeypatch, client, FakeResponse(503, b"Service Unavailable"))
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        search_arxiv("dense retrieval", max_results=5, client=client)


def test_api_error_entry_raises_source_unavailable(monkeypatch):
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#bad_query</id>'
        b"<updated>2024-01-01T00:00:00Z</updated><published>2024-01-01T00:00:00Z</published>"
        b"<title>Error</title><summary>malformed query</summary></entry></feed>"
    )
    client = quiet_client()
    serve(monkeypatch, client, FakeResponse(200, feed))
    with pytest.raises(SourceUnavailable, match="not a paper .*malformed query"):
        search_arxiv("ti:(", max_results=1, client=client)


def test_max_results_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        search_arxiv("x", max_results=0)


def test_after_one_unreachable_search_the_other_questions_say_they_were_not_searched(tmp_path):
    from litsynth.config import ResearchQuestion
    from litsynth.harvest import harvest_arxiv

    tried = []

    def down(query, *, max_results):
        tried.append(query)
        raise SourceUnavailable(f"arXiv API unreachable for query {query!r} (ConnectionError)")

    questions = [ResearchQuestion(id=q, question=f"Does {q} improve dense retrieval?", keywords=(q,)) for q in ("first", "second")]
    first, second = harvest_arxiv(questions, tmp_path, max_results=5, search=down)
    assert len(tried) == 1 and first.status == second.status == "offline"
    assert first.message.startswith("arXiv unreachable (arXiv API unreachable for query") and first.message.endswith("continuing with local files")
    assert second.message == "not searched: arXiv was unreachable for first in this run; continuing with local files"
