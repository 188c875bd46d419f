# The two entry points of the README. Each does its own set-up (Debian packages when missing and root; npm ci).
.PHONY: demo test setup

demo: setup
	node bin/dpuctl.mjs demo

test: setup
	node .ci/test.mjs

setup:
	@bash .ci/setup
