PYTHON ?= .venv/bin/python

.PHONY: test bench bench-quick

# The README's test command.
test:
	$(PYTHON) -m pytest -q

# Every benchmark at full size (about 35 minutes on 2 cores); results go in benchmarks/RESULTS.md.
bench:
	$(PYTHON) benchmarks/export_bench.py
	$(PYTHON) benchmarks/ingest.py
	$(PYTHON) benchmarks/label_import.py --assets 5000
	$(PYTHON) benchmarks/quality.py
	$(PYTHON) benchmarks/import.py
	$(PYTHON) benchmarks/server_bench.py
	$(PYTHON) benchmarks/web_bench.py

bench-quick:
	$(PYTHON) benchmarks/export_bench.py --quick
	$(PYTHON) benchmarks/ingest.py --quick
	$(PYTHON) benchmarks/label_import.py --assets 1000
	$(PYTHON) benchmarks/quality.py --quick
	$(PYTHON) benchmarks/import.py --quick
	$(PYTHON) benchmarks/server_bench.py --quick
	$(PYTHON) benchmarks/web_bench.py --quick
