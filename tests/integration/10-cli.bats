#!/usr/bin/env bats
# The command-line contract: help, version, usage errors and their exit statuses.

load helpers

@test "rkt --help lists the commands and exits 0" {
	rkt_run --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: rkt"* ]]
	[[ "$output" == *"image"* ]]
	[[ "$output" == *"--insecure-options"* ]]
}

@test "rkt with no command prints help and exits 2" {
	rkt_run
	[ "$status" -eq 2 ]
	[[ "$output" == *"Usage: rkt"* ]]
}

@test "rkt help image and rkt image --help show the image commands" {
	rkt_run help image
	[ "$status" -eq 0 ]
	[[ "$output" == *"validate"* ]]
	rkt_run image --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"cat-manifest"* ]]
	rkt_run image build --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--compression"* ]]
}

@test "rkt version and --version print the version; --format=json is JSON" {
	rkt_run version
	[ "$status" -eq 0 ]
	[[ "$output" == "rkt Version: "* ]]
	rkt_run --version
	[ "$status" -eq 0 ]
	[[ "$output" == "rkt Version: "* ]]
	rkt_run version --format=json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["appc"]=="0.8.11"'
}

@test "an unknown command is a usage error (exit 2) that names it" {
	rkt_run frobnicate
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown command 'frobnicate'"* ]]
	[ -z "$output" ]
}

@test "an unknown flag is a usage error that names it and points to --help" {
	rkt_run image build --bogus a b
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown option '--bogus'"* ]]
	[[ "$stderr" == *"rkt image build --help"* ]]
	rkt_run --bogus-global version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--bogus-global"* ]]
}

@test "bad values of global flags are usage errors" {
	rkt_run --insecure-options=image,bogus version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown option 'bogus'"* ]]
	rkt_run --format=yaml version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown format 'yaml'"* ]]
	rkt_run version --dir
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"needs a value"* ]]
}

@test "global flags are accepted after the command" {
	rkt_run version --debug --dir=/nonexistent --format=json
	[ "$status" -eq 0 ]
	[[ "$output" == "{"* ]]
}

@test "a man page exists for every command" {
	for page in rkt rkt-image rkt-version; do
		[ -s "$REPO_ROOT/$RKT_BUILD/man/$page.1" ] || [ -s "$REPO_ROOT/build/man/$page.1" ]
	done
}
