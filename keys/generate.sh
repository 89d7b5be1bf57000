#!/bin/sh
# Regenerates the TEST-ONLY OpenPGP keys in keys/ and the detached signatures over the test
# images in tests/data/images/. Run from the repository root: sh keys/generate.sh
#
# Every key is generated with an empty passphrase in a throw-away GNUPGHOME, and its secret half
# is committed next to it: these keys protect nothing and must never be trusted on a real
# machine. The test images themselves are created only when missing (they are fixed fixtures;
# tests compare against their bytes).
#
# Output (keys/):   test-<name>.pub.asc  test-<name>.sec.asc  test-<name>.fpr (primary, lowercase)
#                   test-multi.pub.asc (two public keys in one file: must be refused)
# Output (images):  tests/data/images/test.aci, other.aci and test.aci.<case>.asc
set -eu

[ -f keys/generate.sh ] || { echo "run from the repository root" >&2; exit 1; }
K=keys
I=tests/data/images
mkdir -p "$I"

# Short path: gpg-agent puts its sockets in the home when there is no /run/user/<uid>, and a
# Unix socket path must fit in 108 bytes.
H=$(mktemp -d /tmp/rkgen.XXXXXX)
chmod 0700 "$H"
cleanup() {
	gpgconf --homedir "$H" --kill all >/dev/null 2>&1 || true
	rm -rf "$H"
}
trap cleanup EXIT INT TERM

PAST='20200101T000000!'   # keys created "in the past" so expiry can be simulated
SIGN='20200601T000000!'   # when the past signatures were made
gpg_() { gpg --homedir "$H" --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@"; }

fpr_of() { # primary fingerprint of the key with this user ID
	gpg_ --with-colons --list-keys "$1" | awk -F: '/^fpr/ {print tolower($10); exit}'
}
subfpr_of() { # fingerprint of the first subkey
	gpg_ --with-colons --list-keys "$1" | awk -F: '/^fpr/ {n++; if (n == 2) {print $10; exit}}'
}
uid() { echo "rkt TEST-ONLY key $1 (never trust) <$1@test.invalid>"; }

export_key() { # name fpr
	gpg_ --armor --export "$2" >"$K/test-$1.pub.asc"
	gpg_ --armor --export-secret-keys "$2" >"$K/test-$1.sec.asc"
	echo "$2" >"$K/test-$1.fpr"
}

# sign name signer-spec [gpg options...]: detached armored signature over test.aci
sign() {
	name=$1 who=$2
	shift 2
	rm -f "$I/test.aci.$name.asc"
	gpg_ --armor --detach-sign --local-user "$who" "$@" -o "$I/test.aci.$name.asc" "$I/test.aci"
}

make_images() {
	[ -f "$I/test.aci" ] && [ -f "$I/other.aci" ] && return 0
	python3 - "$I" <<'PY'
import gzip, io, json, sys, tarfile
out = sys.argv[1]
def image(path, name, text):
    manifest = {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
                "labels": [{"name": "version", "value": "1.0.0"},
                           {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
                "app": {"exec": ["/bin/true"], "user": "0", "group": "0"}}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(n, data=None, mode=0o644, kind=tarfile.REGTYPE):
            ti = tarfile.TarInfo(n); ti.mode = mode; ti.mtime = 0; ti.type = kind
            if data is not None:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
        add("manifest", json.dumps(manifest, indent=1).encode() + b"\n")
        add("rootfs", mode=0o755, kind=tarfile.DIRTYPE)
        add("rootfs/bin", mode=0o755, kind=tarfile.DIRTYPE)
        add("rootfs/bin/true", b"#!/bin/sh\nexit 0\n", 0o755)
        add("rootfs/etc", mode=0o755, kind=tarfile.DIRTYPE)
        add("rootfs/etc/motd", text.encode())
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(buf.getvalue())
image(out + "/test.aci", "example.com/test", "rkt trust test image\n")
image(out + "/other.aci", "example.com/other", "a different image\n")
PY
}

make_images

# Good keys: an RSA primary that signs, an ed25519 primary that signs.
gpg_ --faked-system-time "$PAST" --quick-gen-key "$(uid good-rsa)" rsa2048 sign never
gpg_ --faked-system-time "$PAST" --quick-gen-key "$(uid good-ed25519)" ed25519 sign never

# Signing subkey: the primary can only certify; the subkey makes the signatures.
gpg_ --quick-gen-key "$(uid subkey)" ed25519 cert never
gpg_ --quick-add-key "$(fpr_of subkey@test.invalid)" ed25519 sign never

# Wrong key usage: a subkey signs, then its usage is changed to authentication only, so the
# published key says the subkey may not sign. GnuPG must then refuse the old signature.
gpg_ --quick-gen-key "$(uid wrong-usage)" ed25519 cert never
gpg_ --quick-add-key "$(fpr_of wrong-usage@test.invalid)" ed25519 sign never

# Expired: valid 2020-01-01 .. 2021-01-01; signed in 2020.
gpg_ --faked-system-time "$PAST" --quick-gen-key "$(uid expired)" ed25519 sign 1y

# Revoked: signs, then its revocation certificate is imported.
gpg_ --quick-gen-key "$(uid revoked)" ed25519 sign never

# SHA-1: an RSA key that signs with SHA-1.
gpg_ --quick-gen-key "$(uid sha1)" rsa2048 sign never

for n in good-rsa good-ed25519 subkey wrong-usage expired revoked sha1; do
	eval "F_$(echo $n | tr - _)=$(fpr_of $n@test.invalid)"
done

sign good-rsa "$F_good_rsa!" --digest-algo SHA256
sign good-ed25519 "$F_good_ed25519!" --digest-algo SHA512
sign subkey "$(subfpr_of "$F_subkey")!" --digest-algo SHA256
sign wrong-usage "$(subfpr_of "$F_wrong_usage")!" --digest-algo SHA256
sign expired "$F_expired!" --faked-system-time "$SIGN" --digest-algo SHA256
sign revoked "$F_revoked!" --digest-algo SHA256
sign sha1 "$F_sha1!" --digest-algo SHA1
# A signature that itself expired (made in 2020, valid for one day) by a good key.
sign sig-expired "$F_good_rsa!" --faked-system-time "$SIGN" --default-sig-expire 1d
# A signature carrying an unknown critical notation (RFC 4880 5.2.3.16: must be refused).
sign critical-notation "$F_good_rsa!" --sig-notation '!rkt-test@test.invalid=1'
# A signature by a good key made "in the future".
sign future "$F_good_rsa!" --faked-system-time '20990101T000000!'

# Over a different image, by a good key.
gpg_ --armor --detach-sign --local-user "$F_good_rsa!" -o "$I/test.aci.other-image.asc" \
	"$I/other.aci"
# Two signatures in one file, both good.
cat "$I/test.aci.good-rsa.asc" "$I/test.aci.good-ed25519.asc" >"$I/test.aci.two-sigs.asc"
# Armor around noise.
{
	echo "-----BEGIN PGP SIGNATURE-----"
	echo
	head -c 300 /dev/urandom | base64
	echo "=AAAA"
	echo "-----END PGP SIGNATURE-----"
} >"$I/test.aci.garbage.asc"

# Now make the published subkey of wrong-usage authentication-only (--expert allows it).
printf 'key 1\nchange-usage\nS\nA\nQ\nsave\n' |
	gpg --homedir "$H" --batch --no-tty --expert --pinentry-mode loopback --passphrase '' \
		--command-fd 0 --edit-key "$F_wrong_usage" >/dev/null 2>&1

# Revoke: the certificate gpg stored at generation time, with its guard ':' removed.
sed 's/^://' "$H/openpgp-revocs.d/$(echo "$F_revoked" | tr a-f A-F).rev" |
	gpg_ --import 2>/dev/null

for n in good-rsa good-ed25519 subkey wrong-usage expired revoked sha1; do
	eval "export_key $n \$F_$(echo $n | tr - _)"
done
gpg_ --armor --export "$F_good_rsa" "$F_good_ed25519" >"$K/test-multi.pub.asc"

echo "keys and signatures regenerated; run the trust tests" >&2
