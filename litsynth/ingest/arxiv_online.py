"""The online source: an arXiv API search through the ``arxiv`` package, as PaperRecords.

Every way the API can fail -- no network (a NameResolutionError here, offline), a refused
connection, an HTTP 429/503, an empty page, an error feed for a malformed query -- becomes
one ``SourceUnavailable`` with the reason, so the pipeline can carry on with local files and
record why the online papers are missing.
"""

from __future__ import annotations

import arxiv
import requests

from litsynth.ingest.common import abs_url, normalise_ws, parse_arxiv_id
from litsynth.records import PaperRecord


class SourceUnavailable(RuntimeError):
    """The arXiv API could not be reached or refused the request; local files still work."""


def _record(result: arxiv.Result, query: str) -> PaperRecord:
    parsed = parse_arxiv_id(result.get_short_id())
    if parsed is None:  # e.g. the "Error" entry the API sends for a malformed query
        raise SourceUnavailable(
            f"arXiv API answered the query {query!r} with an entry that is not a paper "
            f"({result.entry_id}): {normalise_ws(result.summary)}"
        )
    arxiv_id, version = parsed
    return PaperRecord(
        title=normalise_ws(result.title),
        abstract=normalise_ws(result.summary) or None,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        authors=tuple(normalise_ws(author.name) for author in result.authors if author.name.strip()),
        published=result.published.date().isoformat(),
        categories=tuple(result.categories),
        url=abs_url(arxiv_id),
    )


def search_arxiv(query: str, *, max_results: int, client: arxiv.Client | None = None) -> list[PaperRecord]:
    """Up to ``max_results`` papers for ``query``, by the API's relevance order.

    The default client retries once (arXiv asks for 3 s between requests); pass a client to
    change that.
    """
    if max_results < 1:
        raise ValueError(f"max_results must be at least 1, got {max_results}")
    client = client or arxiv.Client(page_size=min(max_results, 100), num_retries=1)
    search = arxiv.Search(query=query, max_results=max_results)
    try:
        results = list(client.results(search))
    except (requests.RequestException, arxiv.ArxivError) as exc:
        raise SourceUnavailable(
            f"arXiv API unreachable for query {query!r} ({type(exc).__name__}: {exc}); "
            "check the network or proxy, or ingest saved arXiv files instead"
        ) from exc
    return [_record(result, query) for result in results]
