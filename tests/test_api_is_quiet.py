"""The commands return data and never print: cli.py is the one face (demo.py,
a show for a terminal, is the other module allowed to print)."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path

import pytest

import pgmodelnames
from pgmodelnames import backfill, config, doctor, errors, matching, rename
from pgmodelnames.config import resource_dir
from pgmodelnames.errors import UserError
from support import add_model, closed_port

PRINTING_MODULES = ["cli.py", "demo.py"]


def test_doctor_backfill_and_rename_write_nothing(installed_minimal, vllm_servers, capfd):
    db = installed_minimal
    server = vllm_servers().serve("c2_lora_multi_v1_models")
    unknown = str(uuid.uuid4())
    db.execute("INSERT INTO messages (model_id, provider, content) VALUES (%s, 'vllm', 'hi')", (unknown,))
    nameless = add_model(db, base_url=server.url)
    human = add_model(db, name="Our Llama", base_url=server.url)
    settings = config.settings(db.url, None)
    capfd.readouterr()  # what the fixtures wrote

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        report = doctor.diagnose(settings)
        dry = backfill.run_pass(settings, matching.Options(endpoints=(server.url,), dry_run=True))
        names_after_dry_run = db.query("SELECT id::text, name FROM llm_models ORDER BY id")
        passed = backfill.run_pass(settings, matching.Options(
            endpoints=(server.url, f"http://127.0.0.1:{closed_port()}"), register_new=True, timeout=2))
        renamed = rename.rename(settings, unknown, "Mystery model")
        with pytest.raises(UserError) as refused:
            rename.rename(settings, str(uuid.uuid4()), "Nobody")
        with pytest.raises(UserError) as bad_map:
            backfill.run_pass(settings, matching.Options(endpoints=(server.url,), maps=((human, "nope"),)))

    assert capfd.readouterr() == ("", "")
    assert [str(w.message) for w in warned] == []
    # ... and they did their work, returning it as data
    assert not report["healthy"] and report["installed"]
    assert dry.dry_run and [c.model for c in dry.applied] == [nameless]
    assert names_after_dry_run == sorted([(unknown, f"Unknown vllm model {unknown[:8]}"), (human, "Our Llama"),
                                          (nameless, f"Unknown vllm model {nameless[:8]}")])
    assert {c.model for c in passed.applied if not c.registered} == {nameless}
    assert passed.exit_code == errors.ENDPOINT_FAILED
    assert [e["status"] for e in passed.endpoints] == ["ok", "failed"]
    assert (renamed.old_name, renamed.new_name) == (f"Unknown vllm model {unknown[:8]}", "Mystery model")
    assert refused.value.exit_code == errors.UNKNOWN_MODEL and bad_map.value.exit_code == errors.USAGE
    assert db.value("SELECT name FROM llm_models WHERE id = %s", (human,)) == "Our Llama"


def test_only_the_command_line_prints():
    """= grep -n "print(" pgmodelnames/*.py: only cli.py and demo.py; and the migrations never."""
    package = Path(pgmodelnames.__file__).parent
    sources = sorted(package.glob("*.py")) + sorted(resource_dir("migrations").rglob("*.py"))
    assert len(sources) > 10
    printing = [p.name for p in sources if "print(" in p.read_text(encoding="utf-8")]
    assert printing == PRINTING_MODULES
    streams = [p.name for p in sources if any(s in p.read_text(encoding="utf-8") for s in ("sys.stdout", "sys.stderr"))]
    assert set(streams) <= set(PRINTING_MODULES)
