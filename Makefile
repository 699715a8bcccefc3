# The two commands of the README's Quick start are `make run` and `make test`.
.PHONY: run test bench package crash-test fuzz bindings ui check

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# Every benchmark, printing figures against their targets (release build; a few minutes).
bench: package
	bash scripts/bench.sh

# kill -9 at 20 seeded points of a 100,000-sale first sync; then every sale is there exactly once.
crash-test:
	bash scripts/in-session.sh env CRASH_SALES=100000 CRASH_POINTS=20 CRASH_SEED=$${CRASH_SEED:-7} \
	  cargo test --profile bench -q -p keymanager-cli --test sync kill_9 -- --nocapture

# Each fuzz target for 10 minutes (FUZZ_SECONDS to change).
fuzz:
	bash scripts/fuzz.sh $${FUZZ_SECONDS:-600}

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
	cd ui && npm run --silent lint
