# smallretail-llm. `make demo` runs the main job, `make test` the tests; both build the venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := ml,serve,eval,postgres,dev
SR_HOME ?= $(or $(SMALLRETAIL_HOME),$(HOME)/.cache/smallretail)

.PHONY: install llama llama-server nano image image-test demo train eval eval-unseen bench test test-slow lint typecheck samples clean

# torch==2.13.0 resolves to the CPU wheel on local disk; constraints.txt pins every other package.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

# Optional llama.cpp engine: llama-cpp-python (builds from source, ~11 min on 2 cores, then
# cached by pip) and the GGUF converter from the same release, unpacked under $(SR_HOME)/llama.cpp.
# LLAMA_CMAKE_ARGS go to llama.cpp's build (here and in llama-server). A native build uses every
# instruction the CPU reports; a VM whose kernel does not grant AMX then crashes (SIGILL/SIGSEGV
# in tinygemm_kernel_amx, seen on this project's Intel runner): build it without, e.g.
# LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON
# -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON".
LLAMA_CPP := llama_cpp_python-0.3.36
LLAMA_CMAKE_ARGS ?=
llama: install
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q -c constraints.txt \
		-e ".[$(EXTRAS),llama]"
	mkdir -p $(SR_HOME)/llama.cpp
	test -f $(SR_HOME)/llama.cpp/$(LLAMA_CPP).tar.gz || $(BIN)/python -m pip download -q \
		--no-deps --no-binary :all: -d $(SR_HOME)/llama.cpp llama-cpp-python==0.3.36
	tar -xzf $(SR_HOME)/llama.cpp/$(LLAMA_CPP).tar.gz -C $(SR_HOME)/llama.cpp --strip-components=3 \
		$(LLAMA_CPP)/vendor/llama.cpp/convert_hf_to_gguf.py \
		$(LLAMA_CPP)/vendor/llama.cpp/conversion $(LLAMA_CPP)/vendor/llama.cpp/gguf-py

# llama.cpp's own server, the peer eval/bench_peer.py measures our serving against (optional; skipped
# there when missing): built from the vendored sources of the same release (~10 min on 2 cores, once),
# with the same LLAMA_CMAKE_ARGS as the engine.
LLAMA_SERVER := $(SR_HOME)/llama.cpp/build/bin/llama-server
llama-server: llama
	test -x $(LLAMA_SERVER) || ( mkdir -p $(SR_HOME)/llama.cpp/src \
		&& tar -xzf $(SR_HOME)/llama.cpp/$(LLAMA_CPP).tar.gz -C $(SR_HOME)/llama.cpp/src \
			--strip-components=3 $(LLAMA_CPP)/vendor/llama.cpp \
		&& cmake -S $(SR_HOME)/llama.cpp/src -B $(SR_HOME)/llama.cpp/build -DLLAMA_CURL=OFF \
			-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release \
			$(LLAMA_CMAKE_ARGS) \
		&& cmake --build $(SR_HOME)/llama.cpp/build --target llama-server -j )

# The nano base model from the sample shops (no LoRA), what the images mount in image-test.
NANO := $(SR_HOME)/models/nano
nano: install
	$(BIN)/smallretail catalog policy src/smallretail_llm/catalog/samples/shops.json
	for f in src/smallretail_llm/catalog/samples/*.csv; do \
		$(BIN)/smallretail catalog import $$f --shop $$(basename $$f .csv) || exit 1; done
	$(BIN)/smallretail model build-nano

# Container images with docker, else podman (serving/README.md). `image` builds the CPU image;
# `image-test` builds it (and the llama.cpp image when $(NANO) holds a GGUF: make llama, then
# smallretail export --gguf or gguf_file) and smoke-tests them: serving/image_test.py, one JSON
# line. This host's quirks (runc, rlimits, no registry: debootstrap stand-in base) are detected
# there; override with IMAGE_TEST_ARGS (see `python serving/image_test.py --help`).
IMAGE_GGUF ?= $(wildcard $(NANO)/model-q8_0.gguf)
image: install
	$(BIN)/python serving/image_test.py --build-only $(IMAGE_TEST_ARGS)

image-test: install
	test -f $(NANO)/config.json || $(MAKE) nano
	$(BIN)/python serving/image_test.py --model $(NANO) $(if $(IMAGE_GGUF),--gguf $(IMAGE_GGUF)) \
		$(IMAGE_TEST_ARGS)

demo: install
	$(BIN)/smallretail demo

# The nano recipe end to end on the sample catalog: data -> nano base -> LoRA (cached steps).
train: install
	$(BIN)/smallretail demo --no-serve
	cat $(SR_HOME)/train/nano-cpu/adapter/train_report.json

# renderer vs nano base vs nano+LoRA (constrained decoding on, and off) on held-out products.
eval: train
	$(BIN)/smallretail eval --systems renderer,base,lora,lora-unconstrained --split test,hard,hard2 \
		--adapter $(SR_HOME)/train/nano-cpu/adapter --out eval/reports/nano

# The shipped adapter on a shop it never saw (eval/data/unseen/: other names and categories, a
# CP949 export with bad rows): imported into a throwaway DB, every product held out.
UNSEEN_DIR := $(SR_HOME)/unseen
UNSEEN_DB  := sqlite:///$(UNSEEN_DIR)/unseen.db
ADAPTER    := $(SR_HOME)/train/nano-cpu/adapter
eval-unseen: install
	test -f $(ADAPTER)/adapter_config.json || $(MAKE) train
	rm -rf $(UNSEEN_DIR) && mkdir -p $(UNSEEN_DIR)
	$(BIN)/smallretail catalog policy eval/data/unseen/shops.json --db $(UNSEEN_DB)
	$(BIN)/smallretail catalog import eval/data/unseen/soopgil_outdoor.csv --shop soopgil_outdoor \
		--db $(UNSEEN_DB) --rejects $(UNSEEN_DIR)/rejects.csv
	$(BIN)/smallretail eval --systems renderer,lora --split unseen --db $(UNSEEN_DB) --limit 32 \
		--adapter $(ADAPTER) --out eval/reports/unseen

# Speed figures (run alone: timings on 2 shared cores swing 2x). JSON + markdown land in
# eval/reports/. llama.cpp rows need `make llama` first; without it they are skipped, with why.
bench: train
	$(BIN)/python eval/bench_import.py --out eval/reports/import_bench.json
	$(BIN)/python eval/bench_grounding.py
	$(BIN)/python eval/bench_constrained.py --standin
	$(BIN)/python eval/bench_adapters.py --standin
	$(BIN)/python eval/bench_peer.py
	$(BIN)/smallretail bench --out eval/reports

test: install
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports

# mypy over src/smallretail_llm, configured in pyproject.toml ([tool.mypy]).
typecheck: install
	$(BIN)/mypy

samples: install
	$(BIN)/python -m smallretail_llm.catalog.samples.build

clean:
	rm -rf $(VENV) .pytest_cache
