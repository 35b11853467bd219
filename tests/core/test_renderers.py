"""``core.renderers``: CSV through a DRF view (``?format=csv``) and streamed chunk by chunk.

The views here are made for the tests (no app is needed): a list view whose data the test
chooses, and a streaming view over a generator that records how far it has been read.
"""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.http import StreamingHttpResponse
from rest_framework import permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.renderers import CSVRenderer, csv_chunks


def csv_view(data, header=None):
    class View(APIView):
        authentication_classes: list = []
        permission_classes = [permissions.AllowAny]
        renderer_classes = [JSONRenderer, CSVRenderer]

        def get_renderer_context(self):
            context = super().get_renderer_context()
            if header is not None:
                context["csv_header"] = header
            return context

        def get(self, request):
            return Response(data)

    return View.as_view()


def get_csv(data, header=None):
    response = csv_view(data, header)(APIRequestFactory().get("/rows/", {"format": "csv"}))
    response.render()
    return response


def parsed(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def test_a_list_is_a_header_then_one_crlf_line_per_object():
    response = get_csv([{"name": "cell A", "value": 1.5}, {"name": "cell B", "value": 2}])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content == b"name,value\r\ncell A,1.5\r\ncell B,2\r\n"


def test_one_object_is_one_row_and_a_missing_key_or_null_is_an_empty_cell():
    assert get_csv({"a": 1, "b": None}).content == b"a,b\r\n1,\r\n"
    rows = [{"a": 1, "b": 2}, {"a": 3}]
    assert get_csv(rows).content == b"a,b\r\n1,2\r\n3,\r\n"


def test_the_header_the_view_gives_orders_the_columns_and_heads_an_empty_list():
    assert get_csv([], header=["id", "name"]).content == b"id,name\r\n"
    rows = [{"name": "x", "id": 7, "ignored": True}]
    assert get_csv(rows, header=["id", "name"]).content == b"id,name\r\n7,x\r\n"


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil.example/","x")', '\'=HYPERLINK("http://evil.example/","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_text_that_would_start_a_formula_gets_a_quote_and_numbers_stay_numbers(text, cell):
    response = get_csv([{"label": text, "negative": -0.5, "count": -3}])
    header, row = parsed(response.content)
    assert header == ["label", "negative", "count"]
    assert row == [cell, "-0.5", "-3"]


def test_a_header_name_that_would_start_a_formula_is_neutralised_too():
    assert get_csv([{"=cmd": 1}]).content == b"'=cmd\r\n1\r\n"


def test_cells_with_commas_quotes_and_line_breaks_are_quoted():
    response = get_csv([{"notes": 'a, "b"\nc'}])
    assert response.content == b'notes\r\n"a, ""b""\nc"\r\n'
    assert parsed(response.content) == [["notes"], ['a, "b"\nc']]


def test_json_is_still_the_default():
    response = csv_view([{"a": 1}])(APIRequestFactory().get("/rows/"))
    response.render()
    assert response["Content-Type"] == "application/json"


# --- streamed ------------------------------------------------------------------------------------


class Source:
    """Rows made on demand, counting how many have been taken."""

    def __init__(self, count: int):
        self.count = count
        self.taken = 0

    def __iter__(self):
        for index in range(self.count):
            self.taken += 1
            yield (index, f"row {index}", None if index % 2 else -index / 2)


def test_chunks_read_the_rows_as_they_go():
    source = Source(2_500)
    chunks = csv_chunks(source, ["id", "name", "value"], chunk_rows=1000)
    assert next(chunks) == b"id,name,value\r\n"
    assert source.taken == 0
    first = next(chunks)
    assert source.taken == 1000
    assert first.count(b"\r\n") == 1000
    assert first.startswith(b"0,row 0,0.0\r\n1,row 1,\r\n2,row 2,-1.0\r\n")
    rest = list(chunks)
    assert source.taken == 2_500
    assert [chunk.count(b"\r\n") for chunk in rest] == [1000, 500]


def test_a_streaming_response_of_chunks_is_the_same_csv_as_the_renderer():
    rows = [{"id": i, "name": f"=x{i}", "value": i / 4} for i in range(1_234)]
    header = ["id", "name", "value"]
    streamed = StreamingHttpResponse(csv_chunks(iter(rows), header), content_type="text/csv")
    body = b"".join(streamed.streaming_content)
    assert body == get_csv(rows, header=header).content
    table = parsed(body)
    assert table[0] == header
    assert table[1:3] == [["0", "'=x0", "0.0"], ["1", "'=x1", "0.25"]]
    assert len(table) == 1 + 1_234


def test_sequences_and_mappings_mix_and_an_empty_source_gives_the_header_alone():
    assert b"".join(csv_chunks([], ["a"])) == b"a\r\n"
    rows = itertools.chain([(1, "x")], [{"b": "y", "a": 2}])
    assert b"".join(csv_chunks(rows, ["a", "b"])) == b"a,b\r\n1,x\r\n2,y\r\n"
