"""What the container images rely on, checked without building them (`make image-test` builds
and runs them): pinned installs, no training packages, a torch-free llama.cpp serving path,
model folders readable by the container user, and a one-line error when they are not."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from smallretail_llm.core.paths import make_readable
from smallretail_llm.serving.engines.factory import ModelUnreadable, check_readable

SERVING = Path(__file__).resolve().parents[1] / "serving"
DOCKERFILES = ("Dockerfile", "Dockerfile.gpu", "Dockerfile.llama")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfiles_build_offline_with_pinned_serving_packages(name):
    text = (SERVING / name).read_text(encoding="utf-8")
    assert "# syntax=" not in text  # BuildKit would fetch a frontend image
    installs = re.findall(r"pip install[^\n]*(?:\\\n[^\n]*)*", text)
    assert installs and all("constraints.txt" in line for line in installs)
    assert "ml," not in text and ",ml" not in text  # no training packages in a serving image
    assert "groupadd --gid 10001 app" in text and "--uid 10001 --gid 10001" in text
    assert "useradd --system" not in text
    assert (SERVING / f"{name}.dockerignore").is_file()
    if name == "Dockerfile.llama":
        assert "torch" not in text.lower().replace("no torch", "")
        assert "[serve,tokenizer,postgres]" in text
    else:
        assert 'ARG TORCH_INDEX=https://download.pytorch.org/whl/' in text
        assert '"$TORCH_INDEX"' in text and "[serve,infer,postgres]" in text


def test_llama_serving_path_imports_without_torch():
    """The llama.cpp image has no torch: the app and its engine must not import it (nor the
    transformers engine, nor peft/datasets)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'peft', 'datasets', 'accelerate'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import smallretail_llm.serving.engines.llama_engine, smallretail_llm.serving.engines.llama_steps, smallretail_llm.serving.api.server\n"
        "from smallretail_llm.serving.api.app import create_app\n"
        "assert 'smallretail_llm.serving.engines.hf_engine' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_built_model_folders_are_readable_by_other_users(tmp_path):
    model = tmp_path / "nano"
    (model / "sub").mkdir(parents=True)
    weights = model / "model.safetensors"
    weights.write_bytes(b"x")
    weights.chmod(0o600)
    (model / "sub").chmod(0o700)
    make_readable(model)
    assert weights.stat().st_mode & 0o777 == 0o644
    assert (model / "sub").stat().st_mode & 0o777 == 0o755


def test_unreadable_model_file_is_one_line_naming_path_and_permission(tmp_path, monkeypatch):
    model = tmp_path / "base"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    weights = model / "model.safetensors"
    weights.write_bytes(b"x")
    weights.chmod(0o600)
    real_access = os.access
    # tests may run as root, who reads anything: refuse as the container user would be refused
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != weights and real_access(p, mode))
    with pytest.raises(ModelUnreadable) as caught:
        check_readable([str(model), None, "Qwen/Qwen3-0.6B"])
    message = str(caught.value)
    assert "\n" not in message
    assert f"읽을 수 없습니다: {weights}" in message
    assert stat.filemode(0o100600) in message and "chmod -R a+rX" in message


def test_unreadable_model_folder_is_refused_before_loading(tmp_path, monkeypatch):
    model = tmp_path / "base"
    model.mkdir()
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != model)
    with pytest.raises(ModelUnreadable, match=f"모델 폴더를 읽을 수 없습니다: {model} "):
        check_readable([model])
    check_readable([tmp_path / "missing", "nano-hub/id"])  # not local: the loader reports it
