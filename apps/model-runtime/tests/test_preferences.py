"""``load_preferences`` validates every row against ``runtime/preference-row.v1``."""

from __future__ import annotations

import pytest

from conftest import preference_row, write_jsonl
from studio_runtime.data import load_preferences
from studio_runtime.errors import DatasetError


def test_reads_schema_rows(tmp_path):
    row = preference_row("May I?", "No.", "Yes.", weight=0.5, pid="pref-1")
    row["prompt"].insert(0, {"role": "system", "content": "Follow the rules."})
    row["clause_ids"] = ["doc:3.1:abc"]
    [out] = load_preferences(write_jsonl(tmp_path / "p.jsonl", [row]))
    assert out["prompt"] == row["prompt"]
    assert out["chosen"] == [{"role": "assistant", "content": "No."}]
    assert out["rejected"] == [{"role": "assistant", "content": "Yes."}]
    assert (out["weight"], out["preference_id"], out["values"]) == (0.5, "pref-1", ["helpfulness"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weight": -1}, r"weight: -1 is less than the minimum of 0"),
        ({"preference_id": None}, r"preference_id: None is not of type 'string'"),
        ({"prompt": "May I?"}, r"prompt: 'May I\?' is not of type 'array'"),
        ({"prompt": [{"role": "assistant", "content": "x"}]}, r"prompt/0/role: 'assistant'"),
        ({"chosen": []}, r"chosen: \[\] should be non-empty"),
        (
            {
                "rejected": [
                    {"role": "assistant", "content": "a"},
                    {"role": "assistant", "content": "b"},
                ]
            },
            r"rejected: .* is too long",
        ),
        ({"values": "honesty"}, r"values: 'honesty' is not of type 'array'"),
    ],
)
def test_names_the_line_and_field_of_a_bad_row(tmp_path, change, message):
    good = preference_row("May I?", "No.", "Yes.")
    path = write_jsonl(tmp_path / "p.jsonl", [good, {**good, **change}])
    with pytest.raises(DatasetError, match=r"p\.jsonl:2: not a preference row \(.*" + message):
        load_preferences(path)


def test_a_row_missing_fields_names_each(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}])
    with pytest.raises(DatasetError) as err:
        load_preferences(path)
    for field in ("weight", "values", "preference_id", "clause_ids"):
        assert f"'{field}' is a required property" in str(err.value)
