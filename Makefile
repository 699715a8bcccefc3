# The two commands of the README's Quick start are `make run` and `make test`.
.PHONY: run test bench package bindings ui check

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# Every benchmark, printing figures against their targets (release build; a few minutes).
bench:
	cargo bench -q -p keymanager --bench sync
	cargo bench -q -p keymanager --bench licenses

# An installable .deb in target/release/bundle/deb/ (release build: several minutes).
package:
	bash scripts/package.sh

# Rewrites ui/src/bindings from the Rust types (commit the result).
bindings:
	UPDATE_BINDINGS=1 cargo test -q -p keymanager bindings

ui:
	cd ui && npm run build

check:
	cargo fmt --all --check
	cargo clippy --workspace --features keymanager-app/custom-protocol --all-targets -- -D warnings
